"""One error hierarchy for landpatrol.

Every error a user can cause is an :class:`InputError` (or a subclass) that names the file or
value at fault, so the CLI can print it as one line and exit non-zero without a traceback.
Nothing that raises one of these has written to a store: writers check first, then write.
A ``problem`` built with :func:`pipeline.i18n.msg` is English in ``str(err)`` and can be shown
in the user's language with :func:`pipeline.i18n.localized`.
"""
from __future__ import annotations

from os import PathLike


class LandpatrolError(Exception):
    """Root of every error landpatrol raises on purpose."""

    exit_code = 1


class InputError(LandpatrolError):
    """Bad input: ``str(err)`` is ``"<source>: <problem>"`` on one line."""

    exit_code = 2

    def __init__(self, source: str | PathLike[str] | None, problem: str) -> None:
        self.source = None if source is None else str(source)
        self.message = problem  # a pipeline.i18n.Msg keeps its key to be shown in any language
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{self.source}: {self.problem}" if self.source else self.problem)


class TileError(InputError):
    """A tile cannot be read: missing, corrupt, truncated, no CRS, missing band, no date."""


class SensorError(TileError):
    """The sensor profile does not fit the tile (wrong band count, unknown sensor)."""


class AlignmentError(InputError):
    """The two tiles of a pair cannot be compared: no or too little overlap, all nodata/cloud."""


class ZoneError(InputError):
    """A zones or approvals layer is unusable: empty, missing columns, unknown zone type."""


class ConfigError(InputError):
    """A parameter or configuration value is out of range or malformed."""


class OutputError(InputError):
    """An output location cannot be written (unwritable ``--out``, existing file not ours)."""


class LedgerError(LandpatrolError):
    """The ledger cannot be reached or refused a write; the ledger is left as it was."""

    exit_code = 3

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.message = problem
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{url}: {self.problem}")


class ModelError(LandpatrolError):
    """A detector artifact is missing or does not match the code that loads it."""
