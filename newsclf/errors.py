"""The project's own errors: each says what was wrong and where, so no bad input ends in a traceback."""

from __future__ import annotations


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
