"""Serialized feed items kept between runs, in the cache folder: an article's RSS, Atom and JSON
item is made once, then spliced into every page that shows it, in this run and the next ones.

One file per day of the archive months, `<day>.items` (`2024-05-31.items`), holding the items of
all that day's articles that any page shows (a changed article costs its day's file; a delta run
adds its changed articles' items to the file, `add`, and their older items stay), keyed by a
digest of everything the item's bytes depend on (the article's revision, its topics' names and
slugs, the settings items depend on, the code): a stale item is never found, only missed. A file
is written whole to a temporary name and renamed, so a reader sees the old file or the new one.
Anything missing, unreadable or damaged is a miss: the item is made again, the output is the
same. Each item is checked against its checksum before use, so a damaged byte is never
published; the index is plain data, so a planted file can make feeds do work, never run code.

File layout: 8 bytes (big-endian count of items), the index: one fixed-size record per item
(`_RECORD`: the key's length, the key padded to `_KEY` bytes, the item's offset into the data,
its length and CRC-32), sorted by padded key, then the CRC-32 of those records, then the data.
Binary and sorted, not JSON: a run reads hundreds of days' indexes (the subscription documents of
rare topics reach far back) for a few items each, so an article's keys are found by bisecting
the index's bytes, and only their records are unpacked (an article's items in every format lie
side by side: one read takes them; a page's articles of one day are read in stretches of the
file, `get_many`). An index out of order only makes misses: a record is used only when its key
is one asked for, once, and a look-up reads no more than its formats' items and the gaps
between them shorter than `_GAP`.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import struct
import zlib
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from feeds import files

_HEADER = 8
_KEY = 36  # the longest key: a 32-byte digest and a format's name (`ArticleKeys.item`)
_RECORD = struct.Struct(f">B{_KEY}sQII")  # key length, key, offset, length, CRC-32
_CHECK = 4
_MAX_ITEMS = 1 << 22  # a damaged count must not make us read gigabytes
_ONE_READ = 1 << 20  # bytes: the most one read takes for items read together
_GAP = 64 << 10  # bytes: items closer than this are read together (skipping over costs less)
_MAX_SHARING = 64  # records looked at for one article's items (feeds writes one per format)
_MAX_OPEN = 256  # files kept open at once (the oldest opened is closed): a big build reads
# thousands of days, and subscription documents of rare topics reach back over hundreds


class ItemStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, _Day | None] = {}

    def get_all(self, day: str, prefix: bytes, rests: Collection[bytes]) -> dict[bytes, bytes]:
        """The items of `day` whose keys are `prefix` and one of `rests`, by that rest: an
        article's items in the formats asked for. Damaged ones are left out (misses)."""
        return self.get_many(day, [(prefix, rests)])[0]

    def get_many(
        self, day: str, asked: Sequence[tuple[bytes, Collection[bytes]]]
    ) -> list[dict[bytes, bytes]]:
        """`get_all` for each (prefix, rests) asked, in order, in as few reads as can be: the
        items of one article lie side by side (their keys differ only in the format's name), and
        items less than `_GAP` apart are read together. A run whose cache outgrew the machine's
        page cache reads a page's items from disk: one read per stretch of the file, not one per
        article (a day's archive page at 300,000 records: a hundred articles of one file)."""
        found = self._index(day)
        if found is None:
            return [{} for _ in asked]
        places = [found.find_all(prefix, rests) for prefix, rests in asked]
        spans = sorted((offset, offset + length) for p in places for _, offset, length, _ in p)
        # One read per stretch, not a mapping of the file: mapped pages count in the process's
        # memory (hundreds of MB of months at 100,000 records, in every worker).
        reads = [(start, _pread(found.fd, end - start, start)) for start, end in _stretches(spans)]
        starts = [start for start, _ in reads]
        results: list[dict[bytes, bytes]] = []
        for article in places:
            items: dict[bytes, bytes] = {}
            for rest, offset, length, check in article:
                start, data = reads[bisect.bisect_right(starts, offset) - 1]
                item = data[offset - start : offset - start + length]
                if len(item) != length:  # the file is shorter than its index says
                    item = _pread(found.fd, length, offset)
                if zlib.crc32(item) == check:
                    items[rest] = item
            results.append(items)
        return results

    def put(self, day: str, items: dict[bytes, bytes]) -> None:
        """Replace `day`'s file by `items`. Failing to write only costs speed next time."""
        # Sorted by key, which is their padded keys' order too: a key sorts before any it begins.
        kept = dict(sorted((key, data) for key, data in items.items() if len(key) <= _KEY))
        records, offset = [], 0
        for key, data in kept.items():
            records.append(_RECORD.pack(len(key), key, offset, len(data), zlib.crc32(data)))
            offset += len(data)
        index = b"".join(records)
        head = index + zlib.crc32(index).to_bytes(_CHECK, "big")
        self._close(day)
        target = self._path(day)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if target.is_dir():  # not ours to keep: a folder took the day's name
                target.rmdir()
            chunks = (len(records).to_bytes(_HEADER, "big"), head, *kept.values())
            files.replace(target, chunks, mode=0o600)  # the cache is the builder's own
        except OSError:
            pass

    def add(self, day: str, items: dict[bytes, bytes]) -> bool:
        """Add `items` to `day`'s file, which keeps the items it holds (those of an article's
        older versions too: never found again, they only take room until the day is written
        whole); False, writing nothing, when the day has no readable file."""
        found = self._index(day)
        if found is None:
            return False
        self.put(day, {**found.every_item(), **items})
        return True

    def prune(self, months: set[str]) -> None:
        """Remove the files of the days of months not in `months` (no archive page shows them
        any more), and temporary files a killed run left."""
        self._remove(lambda name: name.endswith(".tmp") or _month(name) not in months)

    def forget(self, months: set[str]) -> None:
        """Remove the files of the days of `months` (no archive page shows them any more)."""
        self._remove(lambda name: _month(name) in months)

    def _remove(self, unwanted: Callable[[str], bool]) -> None:
        self.close()
        try:
            names = [entry.name for entry in os.scandir(self.folder)]
        except OSError:
            return
        for name in names:
            if name.endswith((".tmp", ".items")) and unwanted(name):
                with contextlib.suppress(OSError):
                    (self.folder / name).unlink(missing_ok=True)

    def close(self) -> None:
        for day in list(self._open):
            self._close(day)

    def _path(self, day: str) -> Path:
        return self.folder / f"{day}.items"

    def _index(self, day: str) -> _Day | None:
        if day not in self._open:
            if len(self._open) >= _MAX_OPEN:
                self._close(next(iter(self._open)))
            self._open[day] = _Day.open(self._path(day))
        return self._open[day]

    def _close(self, day: str) -> None:
        found = self._open.pop(day, None)
        if found is not None:
            os.close(found.fd)


class _Day:
    """One day's open file and its index, checked whole, searched by key."""

    def __init__(self, fd: int, index: bytes, count: int, data: int) -> None:
        self.fd, self._index, self._count, self._data = fd, index, count, data

    @classmethod
    def open(cls, path: Path) -> _Day | None:
        """The day's file, or None when it is missing or damaged (every item a miss)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            count = int.from_bytes(os.pread(fd, _HEADER, 0), "big")
            if count > _MAX_ITEMS:
                raise ValueError("not an item file")
            size = count * _RECORD.size
            head = os.pread(fd, size + _CHECK, _HEADER)
            index, check = head[:size], head[size:]
            if len(head) != size + _CHECK or zlib.crc32(index).to_bytes(_CHECK, "big") != check:
                raise ValueError("a damaged index")
            return cls(fd, index, count, os.fstat(fd).st_size)
        except (OSError, ValueError, MemoryError):  # damaged, or planted
            os.close(fd)
            return None

    def every_item(self) -> dict[bytes, bytes]:
        """Every item of the file whose bytes match their checksum, by key."""
        start = _HEADER + len(self._index) + _CHECK
        data = _pread(self.fd, self._data - start, start)
        found: dict[bytes, bytes] = {}
        for length, key, offset, size, check in _RECORD.iter_unpack(self._index):
            item = data[offset : offset + size]
            if length <= _KEY and len(item) == size and zlib.crc32(item) == check:
                found.setdefault(key[:length], item)
        return found

    def find_all(
        self, prefix: bytes, rests: Collection[bytes]
    ) -> list[tuple[bytes, int, int, int]]:
        """Where the items whose keys are `prefix` and one of `rests` are in the file, sorted by
        offset: the rest of each key, the item's offset, length and CRC-32."""
        padded, size, width = prefix.ljust(_KEY, b"\0"), _RECORD.size, len(prefix)
        low, high = 0, self._count
        while low < high:  # the first record whose padded key is not below `padded`
            middle = (low + high) // 2
            at = middle * size + 1
            if self._index[at : at + _KEY] < padded:
                low = middle + 1
            else:
                high = middle
        # Every key that begins with `prefix` pads to one that does; so may a shorter key that
        # `prefix` begins with, if the rest of `prefix` is zero bytes (its length tells). Each
        # rest asked for is taken once, and only so many records are looked at: feeds writes
        # one per format, a planted file may hold millions.
        found: dict[bytes, tuple[int, int, int]] = {}
        stop = min(self._count, low + _MAX_SHARING)
        while low < stop and self._index[low * size + 1 : low * size + 1 + width] == prefix:
            length, key, offset, item_length, check = _RECORD.unpack_from(self._index, low * size)
            rest, start = key[width:length], _HEADER + len(self._index) + _CHECK + offset
            within = start + item_length <= self._data  # a record may point beyond the file
            if width <= length <= _KEY and rest in rests and rest not in found and within:
                found[rest] = (start, item_length, check)
            low += 1
        return sorted(((rest, *place) for rest, place in found.items()), key=lambda p: p[1])


def _stretches(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted (start, end) spans joined where less than `_GAP` apart, up to `_ONE_READ` bytes a
    stretch (a span longer than that alone: an item is read whole)."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined:
            first, last = joined[-1]
            if start - last < _GAP and max(end, last) - first <= _ONE_READ:
                joined[-1] = (first, max(end, last))
                continue
        joined.append((start, end))
    return joined


def _pread(fd: int, length: int, offset: int) -> bytes:
    try:
        return os.pread(fd, length, offset)
    except (OSError, OverflowError, ValueError, MemoryError):  # a length no file has
        return b""


def _month(name: str) -> str:
    """The month of a day's file, `2024-05` of `2024-05-31.items`; "" for any other name."""
    return name[:7] if len(name) == len("2024-05-31.items") else ""
