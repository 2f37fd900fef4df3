"""The exit codes of every command: 0 success (``check``: every check passed), 1 checks failed, 2 usage or
configuration error (one sentence, never a traceback), 3 (``grade``) the grader failed on some submissions,
130 interrupted."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_GRADER_FAILED = 3
"""``grade`` finished, but the grader itself failed on some submissions (named on stderr and in
summary.json's ``grader_failures``); their grades are provisional and the next run regrades them."""
EXIT_INTERRUPTED = 130
