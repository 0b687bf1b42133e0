"""The errors a build raises to its caller: one family, so a program can catch them all.

Bad records are never errors: they are rejections in the `Report`. These are what stops a run
before or while it writes: a mistake in the configuration or the command line, an output folder
that cannot be written, another build holding the output folder.
"""

from __future__ import annotations


class FeedsError(Exception):
    """Base of every error `feeds` raises on purpose; anything else is a bug."""


class ConfigError(FeedsError):
    """A configuration or usage mistake, told in one line that names the key (exit code 2)."""


class OutputError(FeedsError):
    """The output folder cannot be written (exit code 3)."""


class LockHeld(FeedsError):
    """Another build holds the output folder (exit code 4)."""


class WorkerDied(FeedsError):
    """A worker process ended without an answer: killed by the system, most likely for memory
    (exit code 75, "try again later"). Nothing was published."""
