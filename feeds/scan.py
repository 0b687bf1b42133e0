"""Find the record files: every entry under the seeds folder, with what tells whether it changed.

The one stage whose work grows with the archive on a run with nothing to do, so it is lean: one
`scandir` walk (directory entries carry what `stat` needs), and no module beyond the standard
library and `model.py`. What is not a regular file with a UTF-8 name is never opened: a FIFO
would block the build; it is described instead (`FileStat.skip`).
"""

from __future__ import annotations

import gc
import operator
import os
import stat
from pathlib import Path

from feeds.model import FileStat, Level, Problem

FRONT_MATTER_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
DATA_SUFFIXES = frozenset({".yaml", ".yml", ".json"})


def is_record(name: str) -> bool:
    """Whether a file of this name is read as a record (others are ignored, unopened)."""
    suffix = os.path.splitext(name)[1].lower()
    return suffix in FRONT_MATTER_SUFFIXES or suffix in DATA_SUFFIXES


def scan(seeds: Path) -> list[FileStat]:
    """Every entry under `seeds` that is not a folder, recursively, sorted by name within each
    folder, hidden files and folders skipped, with what tells whether it changed. Entries that
    are not regular files (FIFOs, sockets, devices, broken or looping links) or whose names are
    not UTF-8 are described instead (`FileStat.skip`), never opened. A folder that cannot be
    listed raises (OSError): counting it as empty would remove the feeds of every record in it.
    """
    stats: list[FileStat] = []
    # Hundreds of thousands of small objects that live on and hold no cycles: the cyclic
    # garbage collector, run again and again as they pile up, would only cost time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _walk(os.fspath(seeds), "", stats)
    finally:
        if collecting:
            gc.enable()
    return stats


def _walk(folder: str, prefix: str, stats: list[FileStat]) -> None:
    # One tight loop, no generators: on a run with nothing to do this walk is most of the time.
    with os.scandir(folder) as listing:
        entries = sorted((e for e in listing if e.name[0] != "."), key=_NAME)
    for entry in entries:
        name = prefix + entry.name
        if _is_folder(entry):
            if not entry.is_symlink():  # links to folders are not followed: no cycles
                _walk(entry.path, name + "/", stats)
            continue
        shown = name if name.isascii() else os.fsencode(name).decode("utf-8", "backslashreplace")
        try:
            st = entry.stat()
        except OSError as e:  # a broken or looping link, a file gone since the listing
            stats.append(_skipped(shown, f"cannot be read: {e.strerror or e}"))
            continue
        if stat.S_ISREG(st.st_mode) and shown == name:
            stats.append(FileStat(name, st.st_size, st.st_mtime_ns))
        elif shown != name:
            stats.append(_skipped(shown, "has a name that is not UTF-8; rename it to read it"))
        else:
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "a special file")
            warning = f"is {kind}, not a regular file; skipped without opening it"
            stats.append(_skipped(name, warning, Level.WARNING))


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device"}
_KINDS[stat.S_IFBLK] = _KINDS[stat.S_IFCHR]


def _skipped(path: str, message: str, level: Level = Level.ERROR) -> FileStat:
    """A file that is not read; only one named like a record is worth a word."""
    return FileStat(path, -1, -1, Problem(path, message, level=level) if is_record(path) else None)


_NAME = operator.attrgetter("name")


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link that loops or cannot be followed: an entry that cannot be read
        return False
