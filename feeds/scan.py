"""Find the record files: every entry under the seeds folder, with what tells whether it changed.

The one stage whose work grows with the archive on a run with nothing to do, so it is lean: one
`scandir` walk (directory entries carry what `stat` needs), and no module beyond the standard
library and `model.py`. What is not a regular file with a UTF-8 name is never opened: a FIFO
would block the build; it is described instead (`FileStat.skip`).
"""

from __future__ import annotations

import gc
import hashlib
import operator
import os
import stat
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

from feeds.model import FileStat, Level, Problem

FRONT_MATTER_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
DATA_SUFFIXES = frozenset({".yaml", ".yml", ".json"})


def is_record(name: str) -> bool:
    """Whether a file of this name is read as a record (others are ignored, unopened)."""
    suffix = os.path.splitext(name)[1].lower()
    return suffix in FRONT_MATTER_SUFFIXES or suffix in DATA_SUFFIXES


class Scan(Sequence[FileStat]):
    """Every entry found, in order, kept in columns (a path list, sizes and change stamps in
    arrays; a `FileStat` is made when asked for): a million entries cost a third of the memory of as
    many tuples. Also where each folder's own entries are in that order (`spans`, by folder
    relative to the seeds folder, "" for itself), so that a folder whose entries did not change
    since a run can be known by its digest alone (`digests`)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.sizes = array("q")  # -1: skipped, never opened (`skips` says why)
        self.stamps = array("q")
        self.skips: dict[int, Problem | None] = {}  # by position
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.links: list[str] = []  # links to folders, which are not followed (`_walk`)
        self._digests: dict[str, bytes] | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @overload
    def __getitem__(self, i: int) -> FileStat: ...
    @overload
    def __getitem__(self, i: slice) -> list[FileStat]: ...
    def __getitem__(self, i: int | slice) -> FileStat | list[FileStat]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return FileStat(self.paths[i], self.sizes[i], self.stamps[i], self.skips.get(i))

    def __iter__(self) -> Iterator[FileStat]:
        skips = self.skips
        for i, entry in enumerate(zip(self.paths, self.sizes, self.stamps, strict=True)):
            yield FileStat(*entry, skips.get(i)) if skips else FileStat(*entry)

    def add(self, path: str, size: int, stamp: int) -> None:
        self.paths.append(path)
        self.sizes.append(size)
        self.stamps.append(stamp)

    def skip(self, path: str, problem: Problem | None) -> None:
        self.skips[len(self.paths)] = problem
        self.add(path, -1, -1)

    def digests(self) -> dict[str, bytes]:
        """Each folder's digest of its own entries' names, sizes and change stamps."""
        if self._digests is None:
            said = sorted((at, str(p)) for at, p in self.skips.items() if p is not None)
            self._digests = {
                folder: self._digest(spans, said) for folder, spans in self.spans.items()
            }
        return self._digests

    def let_go_of_entries(self) -> None:
        """Forget the entries (a full build read them all), keep the folders' digests and the
        links: a million entries take 24 MB, held through planning, at its process's biggest."""
        self.digests()
        self.paths, self.sizes, self.stamps = [], array("q"), array("q")
        self.skips, self.spans = {}, {}

    def in_folders(self, folders: Iterable[str]) -> list[FileStat]:
        """The entries of these folders (not of their sub-folders), in order."""
        spans = sorted(span for folder in folders for span in self.spans.get(folder, ()))
        return [stat for start, stop in spans for stat in self[start:stop]]

    def _digest(self, spans: list[tuple[int, int]], said: list[tuple[int, str]]) -> bytes:
        # One sequence whatever sub-folders sit among the files (an empty one that comes or
        # goes changes nothing); column by column: a line per file would cost twice as much.
        digest = hashlib.blake2b(sum(b - a for a, b in spans).to_bytes(8, "big"), digest_size=16)
        for column in (self.sizes, self.stamps):
            for start, stop in spans:
                digest.update(column[start:stop])
        paths = "\0".join(path for start, stop in spans for path in self.paths[start:stop])
        digest.update(paths.encode("utf-8", "surrogateescape"))
        # Why an entry is skipped may change while nothing else does (a FIFO made a socket, a
        # link's target gone): its problem, said on every run, must be said as it is now.
        # `said`: the problems by position, sorted; each span's found by bisection.
        for start, stop in spans if said else ():
            first, last = bisect_left(said, (start, "")), bisect_left(said, (stop, ""))
            for _, problem in said[first:last]:
                digest.update(f"\0{problem}".encode("utf-8", "surrogateescape"))
        return digest.digest()


def change_stamp(st: os.stat_result) -> int:
    """What tells that a record file changed, with its size: its ctime. The kernel sets it to
    the present whenever the mtime changes, and with every other change of the file; no program
    can set it. The mtime alone missed a `chmod 000` (the file, unreadable now, stayed
    published), an edit put back to its old mtime (`touch -r`, `cp -p`, `tar x`) and a file
    swapped for another of the same size and mtime. A `chmod` that changes nothing, or a
    restore from a backup, costs a re-read of the files it touched. (Inlined in `_walk`: a
    call costs more than the `stat` it reads.)"""
    return st.st_ctime_ns


def position(path: str) -> tuple[str, ...]:
    """A sort key that puts paths in the order `scan` finds them: by name as shown (`shown_name`)
    within each folder, a sub-folder's entries where its name sorts among its folder's files."""
    return tuple(path.split("/"))


def shown_name(name: str) -> str:
    """A name as runs show and keep it: itself when it is UTF-8, else with its bytes that are
    not written as escapes (`caf\\xe9.md`)."""
    return name if name.isascii() else os.fsencode(name).decode("utf-8", "backslashreplace")


def scan(seeds: Path) -> Scan:
    """Every entry under `seeds` that is not a folder, recursively, sorted by name within each
    folder, hidden files and folders skipped, with what tells whether it changed. Entries that
    are not regular files (FIFOs, sockets, devices, broken or looping links) or whose names are
    not UTF-8 are described instead (`FileStat.skip`), never opened; links to folders are
    listed apart (`Scan.links`), not followed. A folder that cannot be listed raises (OSError):
    counting it as empty would remove the feeds of every record in it.
    """
    stats = Scan()
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


def _walk(folder: str, prefix: str, stats: Scan) -> None:
    # One tight loop, no generators, no calls it can do without: on a run with nothing to do
    # this walk is most of the time.
    with os.scandir(folder) as listing:
        entries = [entry for entry in listing if entry.name[0] != "."]
    entries.sort(key=_NAME)
    if not all(map(str.isascii, map(_NAME, entries))):  # rare: a name may be shown otherwise
        entries.sort(key=_shown_name_of)
    start, add, is_regular = len(stats), stats.add, stat.S_ISREG
    for entry in entries:
        name = prefix + entry.name
        try:
            is_folder = entry.is_dir()
        except OSError:  # a link that loops or cannot be followed: an entry that cannot be read
            is_folder = False
        shown = shown_name(name)
        if is_folder:
            # A link to a folder is not followed: it may lead back up the tree (a cycle) or out
            # of it (to `/`). The build says so on every run (`Scan.links`).
            if entry.is_symlink():
                stats.links.append(shown)
            else:
                _span(stats, prefix, start)
                _walk(entry.path, name + "/", stats)
                start = len(stats)
            continue
        try:
            st = entry.stat()
        except OSError as e:  # a broken or looping link, a file gone since the listing
            _unreadable(stats, shown, e)
            continue
        if is_regular(st.st_mode) and shown == name:
            add(name, st.st_size, st.st_ctime_ns)  # `change_stamp(st)`
        else:
            _not_read(stats, name, shown, st)
    _span(stats, prefix, start)


def scan_file(path: Path) -> Scan:
    """One entry, found as the scan of its folder finds it (`feeds check FILE`)."""
    stats = Scan()
    name = path.name
    shown = shown_name(name)
    try:
        st = path.stat()
    except OSError as e:
        _unreadable(stats, shown, e)
        return stats
    if stat.S_ISREG(st.st_mode) and shown == name:
        stats.add(name, st.st_size, change_stamp(st))
    else:
        _not_read(stats, name, shown, st)
    return stats


def _unreadable(stats: Scan, shown: str, e: OSError) -> None:
    stats.skip(shown, _problem(shown, f"cannot be read: {e.strerror or e}"))


def _not_read(stats: Scan, name: str, shown: str, st: os.stat_result) -> None:
    """An entry that is not opened: its name is not UTF-8, or it is no regular file."""
    if shown != name:
        stats.skip(shown, _problem(shown, "has a name that is not UTF-8; rename it to read it"))
    else:
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "a special file")
        warning = f"is {kind}, not a regular file; skipped without opening it"
        stats.skip(name, _problem(name, warning, Level.WARNING))


def _span(stats: Scan, prefix: str, start: int) -> None:
    """The folder's entries from `start` on (up to a sub-folder's, or its end) are its own."""
    if len(stats) > start:
        folder = shown_name(prefix[:-1])  # as a file of it is shown
        stats.spans.setdefault(folder, []).append((start, len(stats)))


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device"}
_KINDS[stat.S_IFBLK] = _KINDS[stat.S_IFCHR]


def _problem(path: str, message: str, level: Level = Level.ERROR) -> Problem | None:
    """Why a file is not read; only one named like a record is worth a word."""
    return Problem(path, message, level=level) if is_record(path) else None


_NAME = operator.attrgetter("name")


def _shown_name_of(entry: os.DirEntry[str]) -> str:
    return shown_name(entry.name)
