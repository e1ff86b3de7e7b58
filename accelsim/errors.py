"""User-facing errors. Every message names the bad value and how to fix it."""

from __future__ import annotations


class AccelsimError(ValueError):
    """Base class for errors caused by user input (files, arguments, data)."""


class ModelFileError(AccelsimError):
    """A network definition (TOML) or weights file (npz) is invalid."""


class DatasetError(AccelsimError):
    """A data set is missing, malformed or asked for with bad arguments."""


class PrecisionError(AccelsimError):
    """A precision is unknown or not supported by the chosen machine."""


class ShapeError(AccelsimError):
    """Data given to a network does not match its input shape."""
