"""Write rendered files into the output folder: each atomically, and only when its bytes changed.

A reader polling a feed sees the old file or the new one, never half of one: the new bytes go to a
temporary file in the same folder, which is then renamed over the old (SPEC §6). A file whose bytes
did not change is left alone, so its mtime, HTTP caches and rsync stay quiet.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


class OutputError(Exception):
    """The output folder cannot be written."""


@dataclass(frozen=True, slots=True)
class Published:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def publish(output: Path, files: Iterable[tuple[str, bytes]]) -> Published:
    written: list[str] = []
    unchanged: list[str] = []
    seen: set[str] = set()
    mode = _file_mode()
    for path, data in files:
        if path in seen:
            raise AssertionError(f"two outputs share the path {path}")  # a slug bug, not bad input
        seen.add(path)
        target = output / _safe_relative(path)
        try:
            if _same_bytes(target, data):
                unchanged.append(path)
                continue
            _write_atomically(target, data, mode)
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror or e}") from e
        written.append(path)
    return Published(tuple(written), tuple(unchanged))


def _safe_relative(path: str) -> Path:
    parts = PurePosixPath(path).parts
    if not parts or PurePosixPath(path).is_absolute() or any(p in ("", ".", "..") for p in parts):
        raise AssertionError(f"refusing to write outside the output folder: {path!r}")
    return Path(*parts)


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        if target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except FileNotFoundError:
        return False


def _write_atomically(target: Path, data: bytes, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, mode)  # mkstemp makes 0600; a web server must be able to read it
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
