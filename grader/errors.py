"""The grader's exceptions: one root, a few children the command line turns into one sentence.

Internal ones live beside their modules and derive from GraderError too: ``protocol.FrameError`` and
``outcome.InvalidResult`` (a child's bytes are not a valid result) and ``sandbox.SandboxError`` (a
layer failed to apply). A student's bad input is never an exception here: it is a scored result.
"""

from __future__ import annotations

from grader.i18n import text
from grader.core.results import Message, message


class GraderError(Exception):
    """Root of every error the grader reports to a user as a sentence (exit code 2).

    ``str(error)`` is the sentence in English. Errors a student can meet (``grader check`` in their
    copy) are made with :meth:`worded` and also carry it as a catalogue ``message``, which the
    command line words in the user's language.
    """

    def __init__(self, text: str, worded_as: Message | None = None):
        super().__init__(text)
        self.message = worded_as

    @classmethod
    def worded(cls, key: str, **params: object) -> GraderError:
        """An error whose sentence is the catalogue's ``key``."""
        return cls(text(key, "en", **params), message(key, **params))


class ConfigError(GraderError):
    """config.yaml is missing, unparsable or invalid; the message names the file and key."""


class UsageError(GraderError):
    """The command line asked for something that does not exist (an unknown exercise, a missing path)."""


class RunnerError(GraderError):
    """The sandboxed runner itself failed (not the student's code): a worker died or could not start."""
