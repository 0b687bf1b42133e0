"""What a build remembers between runs, in SQLite, outside the output folder (never published).

- per record file: its size, mtime and outcome, so an unchanged file is not read again;
- per output file: a fingerprint of everything it was rendered from, so an unchanged feed is not
  rendered again;
- the state of the last complete build, so a run with nothing changed stops at once.

A cache that is missing, from another version, or corrupt is started afresh without a word: it
only saves work, and the output of a build never depends on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from feeds._version import CODE_DIGEST, __version__
from feeds.ingest import FileOutcome, FileStat
from feeds.slugs import slugify

SCHEMA = f"1:{__version__}:{CODE_DIGEST}"  # what is pickled changes only with the code


def default_cache_folder(output: Path) -> Path:
    """`$XDG_CACHE_HOME/feeds/<output>-<hash>`: one cache per output folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    absolute = str(output.resolve())
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:12]
    return base / "feeds" / f"{slugify(absolute)[-40:].strip('-')}-{digest}"


class Cache:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._path = folder / "cache.sqlite"
        try:
            self._db = self._open()
        except sqlite3.DatabaseError:
            self._path.unlink(missing_ok=True)  # corrupt: start afresh
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);
            CREATE TABLE IF NOT EXISTS files
                (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, outcome BLOB);
            CREATE TABLE IF NOT EXISTS outputs
                (path TEXT PRIMARY KEY, fingerprint TEXT, size INTEGER, mtime_ns INTEGER);
            """
        )
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] != SCHEMA:
            db.executescript("DELETE FROM meta; DELETE FROM files; DELETE FROM outputs;")
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
        return db

    def close(self) -> None:
        self._db.close()

    # -- record files -------------------------------------------------------------------------

    def outcomes(self, stats: Iterable[FileStat]) -> dict[str, FileOutcome]:
        """The cached outcomes of the files that did not change, read in one pass."""
        found: dict[str, FileOutcome] = {}
        try:
            files = self._files()
            unchanged = {s.path for s in stats if files.get(s.path) == (s.size, s.mtime_ns)}
            rows = self._db.execute("SELECT path, outcome FROM files") if unchanged else []
            for path, blob in rows:
                if path in unchanged:
                    try:
                        outcome = pickle.loads(blob)
                    except Exception:  # a damaged row only costs a re-read
                        continue
                    if isinstance(outcome, FileOutcome):
                        found[path] = outcome
        except sqlite3.DatabaseError:  # a damaged table: every file is read again
            return {}
        return found

    def _files(self) -> dict[str, tuple[int, int]]:
        """Each known record file's size and mtime (read when needed: a run with nothing to do
        never needs them)."""
        rows = self._db.execute("SELECT path, size, mtime_ns FROM files")
        return {path: (size, mtime) for path, size, mtime in rows}

    def store_outcomes(self, read: Iterable[tuple[FileStat, bytes]]) -> None:
        """Keep the outcomes of the files read (pickled `FileOutcome`s)."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                ((s.path, s.size, s.mtime_ns, pickled) for s, pickled in read),
            )

    def forget_files_except(self, present: set[str]) -> None:
        """Forget the outcomes of files that are gone."""
        gone = [(path,) for path in self._files() if path not in present]
        with self._transaction():
            self._db.executemany("DELETE FROM files WHERE path = ?", gone)

    # -- output files ----------------------------------------------------------------------------

    def output_fingerprints(self) -> dict[str, tuple[str, int, int]]:
        rows = self._db.execute("SELECT path, fingerprint, size, mtime_ns FROM outputs")
        return {path: (fingerprint, size, mtime) for path, fingerprint, size, mtime in rows}

    def store_outputs(self, outputs: dict[str, tuple[str, int, int]]) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM outputs")
            self._db.executemany(
                "INSERT INTO outputs VALUES (?, ?, ?, ?)",
                ((path, *values) for path, values in outputs.items()),
            )

    # -- the last complete build ---------------------------------------------------------------

    def get(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return pickle.loads(row[0])
        except Exception:
            return None

    def put(self, key: str, value: Any) -> None:
        blob = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, blob))

    @contextlib.contextmanager
    def _transaction(self) -> Any:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
