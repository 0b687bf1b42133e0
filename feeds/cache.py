"""What a build remembers between runs, in SQLite, outside the output folder (never published).

- per record file: its size, change stamp and outcome, so an unchanged file is not read again;
- per output file: a fingerprint of everything it was rendered from, so an unchanged feed is not
  rendered again;
- the state of the last complete build, so a run with nothing changed stops at once.

One database per pair of seeds and output folders (`records-<digest>.sqlite`), and one item
store (`items-<digest>`): two builds that share a cache folder never take each other's records,
whatever their files' names, sizes and times, nor prune each other's items. Values are plain
data with a checksum (`codec.py`): a damaged or planted value is a miss, never wrong output and
never code that runs.

The cache only saves work: a build's output never depends on it. So a cache that cannot be used
costs one warning (`notices`), never the build. A database that is damaged or from another
version is started afresh; one that cannot be opened or written (a read-only or full disk, a
path that is a file, another process holding a lock for longer than `LOCK_WAIT`) is replaced, for
this run, by one in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from feeds import codec
from feeds._version import CODE_DIGEST, __version__
from feeds.files import resolved, why
from feeds.model import FileOutcome, FileStat
from feeds.slugs import slugify

if TYPE_CHECKING:
    from feeds.index import Index

SCHEMA = f"2:{__version__}:{CODE_DIGEST}"  # what is stored changes only with the code
Known = tuple[bytes, int, int]  # an output file's fingerprint, size and mtime, as recorded
LOCK_WAIT = 2.0  # seconds to wait for another process's lock on the database, then go without

P = ParamSpec("P")
R = TypeVar("R")


# A record file's outcome is kept in two parts (`codec.encode_outcome`): its outline, which every
# run with a change decodes, and its articles' texts, which only the items that are made need.
# `files_stat` holds what a run compares with the scan, in a folder whose digest moved: read
# from the table, each file's row (a few kB of outcome) is a page read of its own.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS files
    (path TEXT PRIMARY KEY, size INTEGER, stamp INTEGER, outcome BLOB, texts BLOB);
CREATE INDEX IF NOT EXISTS files_stat ON files (path, size, stamp);
CREATE TABLE IF NOT EXISTS outputs
    (path TEXT PRIMARY KEY, fingerprint TEXT, size INTEGER, mtime_ns INTEGER);
"""
# The index of the last complete build (`index.py`).
_INDEX_TABLES = """
CREATE TABLE IF NOT EXISTS groups (gid INTEGER PRIMARY KEY, header BLOB);
CREATE TABLE IF NOT EXISTS members
    (gid INTEGER, time INTEGER, url TEXT, modified INTEGER, day TEXT, path TEXT, i INTEGER,
     j INTEGER, content BLOB, provider BLOB, check_ INTEGER, PRIMARY KEY (gid, time DESC, url))
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_day ON members (day) WHERE gid >= 0;  -- groups' rows
CREATE TABLE IF NOT EXISTS days
    (gid INTEGER, month TEXT, counts BLOB, PRIMARY KEY (gid, month)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS urls (url TEXT, path TEXT, check_ INTEGER);
CREATE INDEX IF NOT EXISTS urls_url ON urls (url);
CREATE INDEX IF NOT EXISTS urls_path ON urls (path);
CREATE TABLE IF NOT EXISTS names
    (kind TEXT, key TEXT, spelling TEXT, n INTEGER, PRIMARY KEY (kind, key, spelling))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS problems (path TEXT PRIMARY KEY, problems BLOB);
CREATE TABLE IF NOT EXISTS folders (folder TEXT PRIMARY KEY, digest BLOB) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS corpus (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
"""
INDEX_TABLE_NAMES = (
    "groups",
    "members",
    "days",
    "urls",
    "names",
    "problems",
    "folders",
    "corpus",
)  # `index.py`'s


def default_cache_folder(output: Path) -> Path:
    """`$XDG_CACHE_HOME/feeds/<output>-<hash>`: one cache per output folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    absolute = str(resolved(output))
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:12]
    return base / "feeds" / f"{slugify(absolute)[-40:].strip('-')}-{digest}"


def database_path(folder: Path, seeds: Path, output: Path) -> Path:
    """The cache's database for this pair of seeds and output folders."""
    return folder / f"records-{_pair(seeds, output)}.sqlite"


def items_path(folder: Path, seeds: Path, output: Path) -> Path:
    """The item store's folder for this pair of seeds and output folders (`itemstore.py`): a
    pair's runs prune and rewrite its days' files, which must not be another pair's."""
    return folder / f"items-{_pair(seeds, output)}"


def _pair(seeds: Path, output: Path) -> str:
    pair = f"{resolved(seeds)}\0{resolved(output)}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(pair).hexdigest()[:16]


def outputs_as_recorded(database: Path, found: Callable[[str], tuple[int, int]]) -> bool | None:
    """`Cache.outputs_in_place` through a read-only connection of its own, for a process
    beside the build's (`beside.py`): None when it cannot tell (no database, a damaged or
    busy one), and the build looks itself."""
    try:
        db = sqlite3.connect(f"{database.absolute().as_uri()}?mode=ro", uri=True, timeout=0.1)
        try:
            if db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() != (SCHEMA,):
                return None
            return _outputs_match(db, found)
        finally:
            db.close()
    except (sqlite3.Error, OSError, ValueError):
        return None


def _outputs_match(db: sqlite3.Connection, found: Callable[[str], tuple[int, int]]) -> bool:
    recorded = False
    for path, size, mtime in db.execute("SELECT path, size, mtime_ns FROM outputs"):
        if found(path) != (size, mtime):
            return False
        recorded = True
    return recorded


def _guarded(default: Callable[[], Any]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A cache operation that never fails: on a database or file-system error the cache says so
    once, heals or steps aside (`Cache._fail`), and the operation returns `default()`."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @wraps(method)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except (sqlite3.Error, OSError) as e:
                cache = args[0]
                assert isinstance(cache, Cache)
                cache._fail(e)
                return default()  # type: ignore[no-any-return]

        return guarded

    return decorate


@dataclass(frozen=True, slots=True)
class IndexAbout:
    """What the index describes besides the record files: the code and the configuration but
    its custom feeds (`key`), and each custom feed by its slug (`feeds`: a digest of its
    settings)."""

    key: str
    feeds: dict[str, str]


_LEFT_UNWRITABLE = (
    "had files beside it that no run can write (left by a run that found it read-only)"
)


class Cache:
    def __init__(self, folder: Path, seeds: Path, output: Path) -> None:
        self.folder = folder
        self.items = items_path(folder, seeds, output)  # the item store's
        self.notices: list[str] = []  # what went wrong with the cache, said once each
        self._path = database_path(folder, seeds, output)
        self._memory = False
        self._stored: list[str] | None = None  # the record files known, once `outcomes` read them
        # Set when a failure replaced the database during the run (afresh, or in memory): what
        # the run stored before is gone, so the tables may describe part of the records only.
        self.replaced = False
        self._db = self._connect()

    @property
    def intact(self) -> bool:
        """Whether the database on disk holds all this run stored in it: not in memory, and not
        replaced (`replaced`). Only then may an index describe the records it holds."""
        return not (self._memory or self.replaced)

    def _connect(self) -> sqlite3.Connection:
        try:
            return self._open(self._path)
        except sqlite3.DatabaseError as e:
            # Locked, read-only, full, not a folder: go without; unless something that is not a
            # database file took its name, which is cleared away like a damaged database.
            if isinstance(e, sqlite3.OperationalError) and not self._taken():
                if not self._left_unwritable():
                    return self._in_memory(e)
                self._forget(_LEFT_UNWRITABLE)
            else:
                self._forget()  # damaged: start afresh
        except OSError as e:
            return self._in_memory(e)
        try:
            return self._open(self._path)
        except (sqlite3.Error, OSError) as e:
            return self._in_memory(e)

    def _open(self, path: Path | str) -> sqlite3.Connection:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=LOCK_WAIT)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_TABLES)
            db.executescript(_INDEX_TABLES)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or row[0] != SCHEMA:
                for table in ("meta", "files", "outputs", *INDEX_TABLE_NAMES):
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                db.executescript(_TABLES)
                db.executescript(_INDEX_TABLES)
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
        except BaseException:
            db.close()
            raise
        return db

    def _in_memory(self, error: BaseException) -> sqlite3.Connection:
        self._say(f"the cache {self._path} cannot be used ({_why(error)}); this run goes without")
        self._memory = True
        return self._open(":memory:")

    def _files_of_database(self) -> list[Path]:
        return [Path(f"{self._path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]

    def _taken(self) -> bool:
        """Whether one of the database's names holds something other than a file."""
        return any(p.exists() and not p.is_file() for p in self._files_of_database())

    def _left_unwritable(self) -> bool:
        """Whether the database can be written but a file SQLite keeps beside it cannot: made
        by a run that found the database read-only (SQLite gives them its mode), they would
        keep every run from using it once it is writable again."""
        database, *beside = self._files_of_database()
        return os.access(database, os.W_OK) and any(
            p.exists() and not os.access(p, os.W_OK) for p in beside
        )

    def _forget(self, why: str = "was damaged") -> None:
        self._say(f"the cache {self._path} {why}; it is started afresh")
        for path in self._files_of_database():
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)

    def _fail(self, error: BaseException) -> None:
        """A cache operation failed: start afresh when the database is damaged, else go on
        without it (in memory) for the rest of the run."""
        self._stored = None
        self.replaced = True
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(
            error, sqlite3.OperationalError
        ):
            self._forget()
            self._db = self._connect()
        elif self._left_unwritable():
            self._forget(_LEFT_UNWRITABLE)
            self._db = self._connect()
        else:
            self._db = self._in_memory(error)

    def _say(self, notice: str) -> None:
        if notice not in self.notices:
            self.notices.append(notice)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    # -- record files -------------------------------------------------------------------------

    @_guarded(dict)
    def outcomes(self, stats: Iterable[FileStat]) -> dict[str, FileOutcome]:
        """The cached outcomes of the files that did not change (as outlines: no texts), read
        in one pass."""
        current = {s.path: s for s in stats}
        found: dict[str, FileOutcome] = {}
        self._stored = []
        for path, size, stamp, blob in self._db.execute(
            "SELECT path, size, stamp, outcome FROM files"
        ):
            self._stored.append(path)
            stat = current.get(path)
            if stat is not None and (stat.size, stat.stamp) == (size, stamp):
                try:  # the outlines share the scan's path (a million at a big site)
                    found[path] = codec.decode_outcome(blob, name=stat.path)
                except codec.Damaged:  # a damaged row only costs a re-read
                    continue
        return found

    @_guarded(lambda: None)
    def store_outcomes(self, read: Iterable[tuple[FileStat, tuple[bytes, bytes]]]) -> None:
        """Keep the outcomes of the files read (`codec.encode_outcome`'s bytes)."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                ((s.path, s.size, s.stamp, *blobs) for s, blobs in read),
            )

    @property
    def database(self) -> Path | None:
        """The database file, for `OutcomeReader`s; None while the cache is in memory."""
        return None if self._memory else self._path

    @_guarded(lambda: None)
    def forget_files_except(self, present: set[str]) -> None:
        """Forget the outcomes of files that are gone."""
        if self._stored is None:
            self._stored = [path for (path,) in self._db.execute("SELECT path FROM files")]
        gone = [(path,) for path in self._stored if path not in present]
        with self._transaction():
            self._db.executemany("DELETE FROM files WHERE path = ?", gone)

    def item_store(self) -> Path:
        """The item store's folder (`itemstore.py`), made ready for a run that renders. A file
        that took its name is removed, and the store started afresh; a folder that cannot be
        made or written is said (once: the store then only misses, and every run makes every
        item again), unless the whole cache cannot be used, which is said already."""
        path = self.items
        try:
            if path.exists() and not path.is_dir():
                path.unlink()
                self._say(f"the item store {path} was not a folder; it is started afresh")
            path.mkdir(parents=True, exist_ok=True)
            if not os.access(path, os.W_OK | os.X_OK):
                raise PermissionError(13, "it cannot be written")
        except OSError as e:
            if not self._memory:
                self._say(
                    f"the item store {path} cannot be used ({_why(e)}); every item is made again"
                )
        return path

    def forget_shared_item_store(self) -> None:
        """Before `items-<digest>`, every pair sharing the cache folder kept its items in
        `items`: read by nobody now, and a third of a site's size. Its day files and temporary
        files go, and the folder if that was all: `--cache` may name a folder that holds other
        things."""
        from feeds.itemstore import ItemStore  # only runs that render need it

        shared = self.folder / "items"
        ItemStore(shared).prune(set())
        with contextlib.suppress(OSError):
            shared.rmdir()

    # -- output files ----------------------------------------------------------------------------

    @_guarded(lambda: False)
    def outputs_in_place(self, found: Callable[[str], tuple[int, int]]) -> bool:
        """Whether the last build recorded its output files and each still has the size and
        mtime it was left with (`found` says what a path has now). Row by row: a big archive's
        table is not held whole."""
        return _outputs_match(self._db, found)

    @_guarded(dict)
    def output_fingerprints(self) -> dict[str, Known]:
        """Every output file's fingerprint, size and mtime (the full way plans every file)."""
        rows = self._db.execute("SELECT path, fingerprint, size, mtime_ns FROM outputs")
        return {path: (fingerprint, size, mtime) for path, fingerprint, size, mtime in rows}

    def output_rows(self) -> OutputRows:
        """The same, read a row at a time as asked (a delta run's few files)."""
        return OutputRows(self)

    @_guarded(lambda: -1)
    def output_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outputs").fetchone()[0])

    @_guarded(lambda: None)
    def output_paths_in(self, folder: str) -> list[str] | None:
        """The recorded output files in `folder` and its sub-folders: a range of the table's key
        (every `folder/...` sorts from `folder/` to `folder0`)."""
        query = "SELECT path FROM outputs WHERE path >= ? AND path < ?"
        return [path for (path,) in self._db.execute(query, (folder + "/", folder + "0"))]

    @_guarded(lambda: None)
    def output_row(self, path: str) -> Known | None:
        query = "SELECT fingerprint, size, mtime_ns FROM outputs WHERE path = ?"
        row = self._db.execute(query, (path,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    @_guarded(lambda: None)
    def store_outputs(
        self,
        fresh: Mapping[str, Known],
        before: Mapping[str, Known],
        gone: Iterable[str],
        *,
        afresh: bool = False,
    ) -> None:
        """Record output files for the next run: the rows of `fresh` that differ from `before`
        (a run that changed a few files does not rewrite a row per file of the archive), and no
        row for the `gone` ones; `afresh`, no other row either (a table that could not be read
        holds whatever it holds)."""
        with self._transaction():
            if afresh:
                self._db.execute("DELETE FROM outputs")
            self._db.executemany("DELETE FROM outputs WHERE path = ?", ((p,) for p in gone))
            self._db.executemany(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                ((path, *values) for path, values in fresh.items() if before.get(path) != values),
            )

    # -- the index of the last complete build (`index.py`) ------------------------------------

    def index(self) -> Index | None:
        """The index, unless the cache is in memory (a run that cannot keep it)."""
        from feeds.index import Index  # only runs that do work need it (and `collect`)

        return None if self._memory else Index(self._db)

    @_guarded(lambda: None)
    def drop_index(self) -> None:
        """Say there is no index: before a run changes the record files' outcomes without
        writing one, so that an index never describes other files than those."""
        with self._transaction():
            self._db.execute("DELETE FROM meta WHERE key = 'index'")

    @_guarded(lambda: False)
    def keep_index(self, write: Callable[[Index], None]) -> bool:
        """Write a new index's rows (`write`, in one transaction, in place of the old one's),
        which describe nothing until `describe_index` says what they were written for: a full
        build does once it is done. Whether they were written."""
        if self._memory:  # a run that cannot keep it
            return False
        with self._transaction():
            _index_into(self._db, write)
        return True

    def index_apart(self, write: Callable[[Index], None]) -> Callable[[], bool]:
        """`keep_index` for a process forked from this one (`build._IndexBeside`), which must
        not use this connection (SQLite's rule across a fork): the function given writes
        through a connection of its own, and says whether the rows were written. A failure
        there is only False: this process, not that one, says it and heals the cache (it
        writes the index itself then)."""
        database = None if self._memory else self._path

        def keep() -> bool:
            if database is None:
                return False
            _first_to_go()
            try:
                db = sqlite3.connect(database, isolation_level=None, timeout=LOCK_WAIT)
                try:
                    db.execute("BEGIN IMMEDIATE")
                    _index_into(db, write)
                    db.execute("COMMIT")
                finally:
                    db.close()  # not committed: rolled back
            except (sqlite3.Error, OSError):
                return False
            return True

        return keep

    def describe_index(self, about: IndexAbout) -> None:
        """Say what the index describes now (in the caller's transaction: a delta run's)."""
        self.put("index", {"config": about.key, "feeds": about.feeds})

    def index_about(self) -> IndexAbout | None:
        """What the index was written for (`keep_index`), if there is one."""
        found = self.get("index")
        if not isinstance(found, dict):
            return None
        key, feeds = found.get("config"), found.get("feeds")
        if not isinstance(key, str) or not isinstance(feeds, dict):
            return None
        return IndexAbout(key, {k: v for k, v in feeds.items() if isinstance(v, str)})

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction over the cache's tables (a delta run's updates); errors are the
        caller's."""
        with self._transaction():
            yield

    # -- the last complete build ---------------------------------------------------------------

    @_guarded(lambda: None)
    def get(self, key: str) -> Any:
        """What `put` kept under `key` (plain data), or None."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None or not isinstance(row[0], bytes):
            return None
        try:
            return codec.load(row[0])
        except codec.Damaged:
            return None

    @_guarded(lambda: None)
    def put(self, key: str, value: Any) -> None:
        """Keep `value` (plain data: JSON types) under `key`."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, codec.dump(value)))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _index_into(db: sqlite3.Connection, write: Callable[[Index], None]) -> None:
    """A new index's rows (`write`) in place of the old one's, described by nothing yet (in the
    caller's transaction)."""
    from feeds.index import Index  # only runs that do work need it (and `collect`)

    db.execute("DELETE FROM meta WHERE key = 'index'")
    write(Index(db))


def _first_to_go() -> None:
    """In a process that only saves the build time (`index_apart`): the one the out-of-memory
    killer picks first, not the build (Linux's `oom_score_adj`; nothing elsewhere)."""
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")


def _why(error: BaseException) -> str:
    return why(error) if isinstance(error, OSError) else str(error)


class OutcomeReader:
    """Reads the texts (or outlines) of stored outcomes (`Cache.database`), in whatever process
    asks: a worker forked after the first read opens a connection of its own, as SQLite
    requires. Any failure (no database, rows gone) is an empty answer: the caller reads the
    record again."""

    BATCH = 500  # paths asked in one query (SQLite allows 32,766 parameters)

    def __init__(self, database: Path | None) -> None:
        self.database = database
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def texts(self, paths: Sequence[str]) -> dict[str, bytes]:
        """The stored texts of those of `paths` that have them (`codec.decode_texts`)."""
        return self._column("texts", paths)

    def outlines(self, paths: Sequence[str]) -> dict[str, bytes]:
        """The stored outlines of those of `paths` that have them (`codec.decode_outcome`)."""
        return self._column("outcome", paths)

    def day_members(self, day: str) -> list[tuple[Any, ...]]:
        """The rows of the articles of `day` that some group shows, from the index
        (`index_rows.Row` and its checksum, `index.DAY_MEMBERS`)."""
        from feeds.index import DAY_MEMBERS

        if self.database is None:
            return []
        try:
            return self._connection().execute(DAY_MEMBERS, (day,)).fetchall()
        except (sqlite3.Error, OSError):
            return []

    def _column(self, column: str, paths: Sequence[str]) -> dict[str, bytes]:
        if self.database is None:
            return {}
        found: dict[str, bytes] = {}
        try:
            db = self._connection()
            for start in range(0, len(paths), self.BATCH):
                chunk = paths[start : start + self.BATCH]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT path, {column} FROM files WHERE path IN ({marks})"
                found.update(
                    (path, blob)
                    for path, blob in db.execute(query, chunk)
                    if isinstance(path, str) and isinstance(blob, bytes)
                )
        except (sqlite3.Error, OSError):
            pass
        return found

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            assert self.database is not None
            uri = f"{resolved(self.database).as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT)
            self._pid = os.getpid()
        return self._db

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None


class OutputRows(Mapping[str, Known]):
    """The outputs' table as a mapping that reads a row when it is asked for: a delta run asks
    for the few thousand files it may make again, out of a big archive's hundreds of thousands.
    Read whole only when it is gone through (a lost manifest: every recorded file is looked at).
    """

    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._asked: dict[str, Known | None] = {}
        self._whole: dict[str, Known] | None = None

    def __getitem__(self, path: str) -> Known:
        if self._whole is not None:
            return self._whole[path]
        if path not in self._asked:
            self._asked[path] = self._cache.output_row(path)
        row = self._asked[path]
        if row is None:
            raise KeyError(path)
        return row

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._whole) if self._whole is not None else self._cache.output_count()

    def items(self) -> ItemsView[str, Known]:
        return self._read().items()

    def paths_in(self, folder: str) -> list[str]:
        """The recorded files in `folder` and its sub-folders, without reading the whole table
        (a custom feed chosen again looks up its archive files: 150 MB at 1,000,000 records,
        read whole)."""
        if self._whole is None and (found := self._cache.output_paths_in(folder)) is not None:
            return found
        return [path for path in self._read() if path.startswith(folder + "/")]

    def _read(self) -> dict[str, Known]:
        if self._whole is None:
            self._whole = self._cache.output_fingerprints()
        return self._whole
