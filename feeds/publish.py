"""Own the output folder: write files atomically, leave unchanged ones alone, remove stale ones.

- Atomic: new bytes go to a temporary file in the same folder, which is then renamed over the
  old one; a reader, or a run killed at any moment, sees the old file or the new one (SPEC §6).
  All new files are staged first, flushed to disk with one `sync` (one per file costs about a
  millisecond each), then renamed into place: a crash or full disk while staging changes nothing.
- Unchanged: a file whose bytes did not change is not rewritten, so its mtime, HTTP caches and
  rsync stay quiet.
- Owned files only: the manifest (`.feeds-manifest.json`) lists the files this tool wrote. Files of
  groups that disappeared are removed; a file the tool did not write is never touched, even if its
  name looks like one of ours.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".feeds-manifest.json"


class OutputError(Exception):
    """The output folder cannot be written."""


@dataclass(frozen=True, slots=True)
class Published:
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # paths held by files this tool did not write


@dataclass
class Publisher:
    output: Path
    _owned: frozenset[str] = frozenset()
    _produced: dict[str, None] = field(default_factory=dict)  # ordered set
    _written: list[str] = field(default_factory=list)
    _unchanged: list[str] = field(default_factory=list)
    _refused: list[str] = field(default_factory=list)
    _staged: list[tuple[Path, Path, str]] = field(default_factory=list)  # (temporary, target, path)
    mode: int = 0o644  # of new files: what the umask allows

    def __post_init__(self) -> None:
        self._owned = frozenset(read_manifest(self.output))
        umask = os.umask(0)
        os.umask(umask)
        self.mode = 0o666 & ~umask

    def write(self, path: str, data: bytes) -> None:
        target = self.claim(path)
        if target is not None:
            self.add(path, stage(target, data, self.mode))

    def keep(self, path: str) -> None:
        """`path` is still produced, and known to be up to date: leave it as it is."""
        if self.claim(path) is not None:
            self._unchanged.append(path)

    def claim(self, path: str) -> Path | None:
        """`path` is produced by this run: where to write it, or None when a file this tool did
        not write holds the place (it is left alone, and reported)."""
        if path in self._produced:
            raise AssertionError(f"two outputs share the path {path}")  # a slug bug, not bad input
        target = self.output / _safe_relative(path)
        if path not in self._owned and target.exists():
            self._refused.append(path)
            return None
        self._produced[path] = None
        return target

    def add(self, path: str, staged: Path | None) -> None:
        """The claimed `path`, staged by `stage` (here or in another process): put in place by
        `finish`; None when its bytes were unchanged."""
        if staged is None:
            self._unchanged.append(path)
        else:
            self._staged.append((staged, self.output / _safe_relative(path), path))

    def abort(self) -> None:
        """Drop the staged files: the output stays as it was."""
        for temporary, _, _ in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged.clear()

    def finish(self) -> Published:
        """Put the staged files in place, remove owned files that were not produced this time,
        then record what is owned now."""
        if self._staged:
            os.sync()
        for temporary, target, path in self._staged:
            try:
                os.replace(temporary, target)
            except OSError as e:
                raise OutputError(f"cannot write {target}: {e.strerror or e}") from e
            self._written.append(path)
        self._staged.clear()
        removed = []
        for path in sorted(self._owned - self._produced.keys()):
            target = self.output / _safe_relative(path)
            try:
                target.unlink(missing_ok=True)
                _remove_empty_parents(target.parent, self.output)
            except OSError as e:
                raise OutputError(f"cannot remove {target}: {e.strerror or e}") from e
            removed.append(path)
        self._remove_leftovers()
        manifest = json.dumps({"files": sorted(self._produced)}, indent=1) + "\n"
        self.write_raw(MANIFEST, manifest.encode())
        return Published(
            tuple(self._written), tuple(self._unchanged), tuple(removed), tuple(self._refused)
        )

    def _remove_leftovers(self) -> None:
        """Temporary files of a run that was killed: `.<name>.<8 random>.tmp` beside our files."""
        names_by_folder: dict[str, set[str]] = {}
        for path in self._produced:
            folder, _, name = path.rpartition("/")
            names_by_folder.setdefault(folder, set()).add(name)
        for folder, names in names_by_folder.items():
            try:
                with os.scandir(self.output / folder) as listing:
                    leftovers = [e for e in listing if e.name[:1] == "." and e.name[-4:] == ".tmp"]
            except OSError:
                continue
            for leftover in leftovers:
                name, _, random_part = leftover.name[1:-4].rpartition(".")
                if name in names and len(random_part) == 8:
                    Path(leftover.path).unlink(missing_ok=True)

    def write_raw(self, path: str, data: bytes) -> None:
        target = self.output / path
        try:
            if not _same_bytes(target, data):
                _write_atomically(target, data, self.mode)
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror or e}") from e


def read_manifest(output: Path) -> list[str]:
    try:
        files = json.loads((output / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _safe_relative(path: str) -> Path:
    if any(part in ("", ".", "..") for part in path.split("/")):  # also "/abs" and "a//b"
        raise AssertionError(f"refusing a path outside the output folder: {path!r}")
    return Path(path)


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        if target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except FileNotFoundError:
        return False


def stage(target: Path, data: bytes, mode: int) -> Path | None:
    """A temporary file beside `target` holding `data`, ready to be renamed over it; None when
    `target` already holds exactly `data`. Safe to call from worker processes."""
    try:
        return None if _same_bytes(target, data) else _stage(target, data, mode)
    except OSError as e:
        raise OutputError(f"cannot write {target}: {e.strerror or e}") from e


def _stage(target: Path, data: bytes, mode: int, *, sync: bool = False) -> Path:
    """Write `data` to a temporary file beside `target`, ready to be renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(temporary, mode)  # mkstemp makes 0600; a web server must be able to read it
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def _write_atomically(target: Path, data: bytes, mode: int) -> None:
    temporary = _stage(target, data, mode, sync=True)
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _remove_empty_parents(folder: Path, output: Path) -> None:
    while folder != output and folder.is_relative_to(output):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty
        folder = folder.parent
