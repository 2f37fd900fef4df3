"""The exit codes of every command: 0 success (``check``: every check passed), 1 checks failed, 2 usage or
configuration error (one sentence, never a traceback), 3 (``grade``) the grader failed on some submissions,
4 (``grade``) the results could not be written, 130 interrupted."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_GRADER_FAILED = 3
"""``grade`` finished, but the grader itself failed on some submissions (named on stderr and in
summary.json's ``grader_failures``); their grades are provisional and the next run regrades them."""
EXIT_OUTPUT_FAILED = 4
"""``grade`` could not write its results (the disk under OUT is full, or OUT became unwritable); what it
wrote before is complete, and the same command run again goes on from there."""
EXIT_INTERRUPTED = 130
