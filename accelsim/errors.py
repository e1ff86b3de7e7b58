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


class DataError(AccelsimError):
    """Inputs or labels hold values a network cannot use (NaN, ±inf, labels out of range)."""


class QuantizationError(AccelsimError):
    """Calibration data or ranges cannot give usable int8 scales."""


class MemoryLimitError(AccelsimError):
    """An operation would allocate more memory than the limit (or than the machine has)."""


class UsageError(AccelsimError):
    """A command-line argument has a bad value."""


class OutputError(AccelsimError):
    """A result file or folder cannot be written."""


class SpecError(AccelsimError):
    """A machine spec (a preset or its overrides) is invalid or cannot run the work: a bad
    field value, or resources too small for any kernel."""


class CapacityError(AccelsimError):
    """The work does not fit the machine's memory (device memory, host memory, a buffer)."""


class ScenarioError(AccelsimError):
    """A scenario file (TOML) is invalid: the message names the file, the key path
    (`run.batch[1]`) and the fix."""
