"""The exit codes of every command: 0 success (``check``: every check passed), 1 checks failed, 2 usage or
configuration error (one sentence, never a traceback), 130 interrupted."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
