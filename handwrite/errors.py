"""Exceptions the library raises. Every message names the file and the problem."""

from __future__ import annotations


class HandwriteError(Exception):
    """Base class for all errors this package raises on purpose."""


class InkError(HandwriteError):
    """An ink is unusable: non-finite coordinates, too many points, and so on."""


class FormatError(HandwriteError):
    """A file could not be read as the format it claims to be."""


class ModelFileError(HandwriteError):
    """A model file is missing, corrupt, of another kind or from an incompatible version."""


class UsageError(HandwriteError):
    """A command cannot run as given (the command line's exit status 2)."""
