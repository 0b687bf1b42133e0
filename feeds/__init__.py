"""feeds: turns a folder of news article records into RSS, Atom and JSON feeds.

What a program uses:

    build(Config(...), progress=None) -> Report   build every feed; rejections are in the report
    check(Config(...)) -> Checked                 read and validate only; write nothing
    Progress                                      the progress callback: (stage, done, total)
    FeedsError                                    ConfigError, OutputError, LockHeld, WorkerDied

The pipeline, one direction, is assembled in `build.py`; docs/design.md describes it.
"""

from feeds._version import __version__
from feeds.build import Checked, Progress, build, check
from feeds.config import Config
from feeds.errors import ConfigError, FeedsError, LockHeld, OutputError, WorkerDied
from feeds.report import Report

__all__ = [
    "Checked",
    "Config",
    "ConfigError",
    "FeedsError",
    "LockHeld",
    "OutputError",
    "Progress",
    "Report",
    "WorkerDied",
    "__version__",
    "build",
    "check",
]
