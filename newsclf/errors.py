"""The project's own errors: each says what was wrong and where, so no bad input ends in a
traceback."""

from __future__ import annotations

# The CLI's exit codes, one place: scripts and cron jobs branch on them.
EXIT_OK = 0  # everything done
EXIT_REJECTED = 1  # done, but some input was rejected or failed (named on stderr)
EXIT_USAGE = 2  # a usage error: nothing was done
# EX_TEMPFAIL (sysexits.h): another `newsclf run` holds the store's lock; cron: try again later
EXIT_LOCKED = 75


class NewsclfError(Exception):
    """Base class of every error newsclf raises on purpose."""


class InputError(NewsclfError):
    """A record, file or value a user gave us is malformed; the message says where and why."""


class GuideError(NewsclfError):
    """A label guide is invalid; carries every problem found, each as FILE:LINE: message."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class ModelError(NewsclfError):
    """A model directory is missing, incomplete, or was trained for another guide."""
