"""Serialized feed items kept between runs, in the cache folder: an article's RSS, Atom and JSON
item is made once, then spliced into every page that shows it, in this run and the next ones.

One file per day of the archive months, `<day>.items` (`2024-05-31.items`), holding the items of
all that day's articles that any page shows (a changed article costs its day's file), keyed by a
digest of everything the item's bytes depend on (the article's revision, its topics' names and
slugs, the settings, the code): a stale item is never found, only missed. A file is written whole
to a temporary name and renamed, so a reader sees the old file or the new one. Anything missing,
unreadable or damaged is a miss: the item is made again, the output is the same. Each item is
checked against its checksum before use, so a damaged byte is never published; the index is plain
data, so a planted file can make feeds do work, never run code.

File layout: 8 bytes (big-endian count of items), the index: one fixed-size record per item
(`_RECORD`: the key's length, the key padded to `_KEY` bytes, the item's offset into the data,
its length and CRC-32), then the CRC-32 of those records, then the data. Binary, not JSON: a run
reads hundreds of days' indexes (the subscription documents of rare topics reach far back), and
this one is unpacked in C.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from feeds import files

_HEADER = 8
_KEY = 36  # the longest key: a 32-byte digest and a format's name (`ArticleKeys.item`)
_RECORD = struct.Struct(f">B{_KEY}sQII")  # key length, key, offset, length, CRC-32
_CHECK = 4
_MAX_ITEMS = 1 << 22  # a damaged count must not make us read gigabytes
_MAX_OPEN = 256  # files kept open at once (the oldest opened is closed): a big build reads
# thousands of days, and subscription documents of rare topics reach back over hundreds


class ItemStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, tuple[int, dict[bytes, tuple[int, int, int]]] | None] = {}

    def get(self, day: str, key: bytes) -> bytes | None:
        found = self._index(day)
        if found is None:
            return None
        fd, index = found
        place = index.get(key)
        if place is None:
            return None
        offset, length, check = place
        # One read per item, not a mapping of the file: mapped pages count in the process's
        # memory (hundreds of MB of months at 100,000 records, in every worker).
        try:
            data = os.pread(fd, length, offset)
        except (OSError, OverflowError, ValueError, MemoryError):  # a length no file has
            return None
        return data if len(data) == length and zlib.crc32(data) == check else None

    def put(self, day: str, items: dict[bytes, bytes]) -> None:
        """Replace `day`'s file by `items`. Failing to write only costs speed next time."""
        kept = {key: data for key, data in items.items() if len(key) <= _KEY}
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

    def _index(self, day: str) -> tuple[int, dict[bytes, tuple[int, int, int]]] | None:
        if day not in self._open:
            if len(self._open) >= _MAX_OPEN:
                self._close(next(iter(self._open)))
            self._open[day] = self._read_index(day)
        return self._open[day]

    def _read_index(self, day: str) -> tuple[int, dict[bytes, tuple[int, int, int]]] | None:
        try:
            fd = os.open(self._path(day), os.O_RDONLY | os.O_NONBLOCK)
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
            start = _HEADER + size + _CHECK
            data = os.fstat(fd).st_size - start  # no item reaches beyond the file
            return fd, {
                key[:n]: (start + offset, length, crc)
                for n, key, offset, length, crc in _RECORD.iter_unpack(index)
                if offset + length <= data
            }
        except (OSError, ValueError, struct.error, MemoryError):
            # damaged, or planted: every item of the day is a miss
            os.close(fd)
            return None

    def _close(self, day: str) -> None:
        found = self._open.pop(day, None)
        if found is not None:
            os.close(found[0])


def _month(name: str) -> str:
    """The month of a day's file, `2024-05` of `2024-05-31.items`; "" for any other name."""
    return name[:7] if len(name) == len("2024-05-31.items") else ""
