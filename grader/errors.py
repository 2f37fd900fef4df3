"""The grader's exceptions: one root, a few children the command line turns into one sentence.

Internal ones live beside their modules and derive from GraderError too: ``protocol.FrameError`` and
``outcome.InvalidResult`` (a child's bytes are not a valid result) and ``sandbox.SandboxError`` (a
layer failed to apply). A student's bad input is never an exception here: it is a scored result.
"""


class GraderError(Exception):
    """Root of every error the grader reports to a user as a sentence (exit code 2)."""


class ConfigError(GraderError):
    """config.yaml is missing, unparsable or invalid; the message names the file and key."""


class UsageError(GraderError):
    """The command line asked for something that does not exist (an unknown exercise, a missing path)."""


class RunnerError(GraderError):
    """The sandboxed runner itself failed (not the student's code): a worker died or could not start."""
