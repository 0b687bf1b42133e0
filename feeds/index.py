"""The index of the last complete build: what its pages need to know of their articles, kept in
the cache beside the record files' outcomes, so that a run with a few changed records plans
only the pages they touch (`delta.py`) instead of decoding, grouping and fingerprinting all.

A full build writes it whole (`Index.write`); a delta run updates it from the changed files. In
the cache's database (its tables are created and dropped with the cache's own):

- `groups`: each group, by its place in the collection (`gid`): kind, key, its header (name,
  slug, provider, description), how many articles it shows and the newest one's time;
- `members`: each group's articles: URL, time (microseconds since 1970, UTC), day, record file
  and place in it (`Article.place`), what its item depends on (`ArticleKeys.content`) and, in
  provider groups, its provider (the group's domain and logo are its newest members'). Under
  the number `KEPT`, not a group's: every article the feeds choose from (`Collection.kept`),
  with what filters test of it (`filters.Facts`) in place of a provider: a custom feed whose
  filters change chooses its articles from these rows again. Under `LEFT_OUT`, the articles the
  filters of every feed leave out (once duplicates are resolved), without facts or content key:
  with `KEPT`'s, every article the newest may be, and those a window of days that moves back
  keeps again;
- `days`: how many members each group (and `KEPT`, `LEFT_OUT`) has on each day, newest first,
  by month: a row of every month's total, and a row per month of its days (what its pages are
  cut from, `pages.cuts`), kept by delta runs as they add and remove members: a change reads
  and writes its months' rows and the group's totals, not its whole history;
- `urls`: every URL each record file holds, its records' and their related articles': the other
  places a changed URL may be (duplicates, mentions);
- `names`: how many articles spell each topic's and provider's name each way, and how many name
  each key at all (`Collection.spellings`, `Collection.known`);
- `problems`: each record file's problems, in order, for the report;
- `folders`: a digest of the names, sizes and change stamps of each seeds folder's own files, as the
  `files` table has them (`Scan.digests`): a folder whose digest did not change is not compared
  file by file. A damaged digest only costs its folder's comparison, and is written again;
- `corpus`: the time of the newest article of all (`Collection.newest`), sealed: what a
  `max_age_days` counts back from; the newest of the rows of `KEPT` and `LEFT_OUT`.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import replace
from typing import Any

from feeds import codec
from feeds._version import CODE_DIGEST
from feeds.cache import INDEX_TABLE_NAMES, IndexAbout
from feeds.collect import Collection, Group, GroupKind, group_provider_details
from feeds.config import Config
from feeds.filters import Facts
from feeds.fingerprints import ArticleKeys
from feeds.index_rows import (
    KEPT,
    KNOWN,
    LEFT_OUT,
    POOLS,
    Indexed,
    Members,
    Row,
    checked_row,
    day_counts_of,
    day_of,
    facts_from_plain,
    header_from_plain,
    header_to_plain,
    member_check,
    mentioned_topics,
    micros,
    period_span,
    problems_to_plain,
    url_check,
    urls_of,
)
from feeds.model import Article, FileOutcome, FileStat, Problem
from feeds.pages import DayCounts

_SECONDARY = {
    # Only of groups' rows (not `KEPT`'s nor `LEFT_OUT`'s), which no look-up by day asks for.
    "members_day": "CREATE INDEX members_day ON members (day) WHERE gid >= 0",
    "urls_url": "CREATE INDEX urls_url ON urls (url)",
    "urls_path": "CREATE INDEX urls_path ON urls (path)",
}
_INSERT_MEMBER = "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_SET_DAYS = "INSERT OR REPLACE INTO days VALUES (?, ?, ?)"
_ROW = "time, url, modified, day, path, i, j, content, provider, check_"  # read back: `checked_row`
# Every article of a day some group shows, once (`OutcomeReader.day_members`).
DAY_MEMBERS = (
    "SELECT gid, time, url, modified, day, path, i, j, content, provider, check_ "
    "FROM members WHERE day = ? AND gid >= 0 GROUP BY path, i, j"
)


def index_about(config: Config) -> IndexAbout:
    """What an index depends on besides the records: the code and the configuration, its custom
    feeds apart (a delta run chooses a changed feed's articles again, `Index.choose`)."""
    return IndexAbout(config_key(config), feed_keys(config))


def config_key(config: Config) -> str:
    """The code and the configuration but its folders and custom feeds, as a digest."""
    general = replace(config.without_folders(), custom=())
    return hashlib.sha256(f"{CODE_DIGEST}|{general!r}".encode()).hexdigest()


def feed_keys(config: Config) -> dict[str, str]:
    """Each custom feed's settings, by slug, as a digest."""
    return {f.slug: hashlib.sha256(repr(f).encode()).hexdigest() for f in config.custom}


class Index:
    """The index's tables, through the cache's connection. Every failure is a
    `sqlite3.Error` or `codec.Damaged`: the caller goes the full way instead."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._last_gid: int | None = None  # the highest group number given out (`add_group`)

    # -- written whole by a full build ---------------------------------------------------------

    def write(
        self,
        collection: Collection,
        articles: Sequence[Article],
        problems: Sequence[tuple[str, tuple[Problem, ...]]],
        folders: dict[str, bytes],
    ) -> None:
        """Index a full build's collection, and the digests of the seeds folders it was read from
        (inside the caller's transaction)."""
        self.clear()
        members = Members(ArticleKeys(collection, ""))
        db = self.db
        # Loaded first, indexed after: faster than keeping the indexes up to date row by row.
        for name in _SECONDARY:
            db.execute(f"DROP INDEX IF EXISTS {name}")
        for gid, group in enumerate(collection.groups):
            newest = None if (at := group.newest) is None else micros(at)
            header = header_to_plain(Indexed(gid, group, len(group.articles), newest))
            db.execute("INSERT INTO groups VALUES (?, ?)", (gid, header))
            db.executemany(_INSERT_MEMBER, members.rows(group.articles, gid, group))
            self.set_day_counts(gid, day_counts_of(group.articles))
        self.add_kept(collection.kept, members)
        self.set_day_counts(KEPT, day_counts_of(collection.kept))
        self.add_left_out(collection.left_out, members)
        self.set_day_counts(LEFT_OUT, day_counts_of(collection.left_out))
        db.executemany("INSERT INTO urls VALUES (?, ?, ?)", urls_of(articles))
        for statement in _SECONDARY.values():
            db.execute(statement)
        self.add_names(collection.spellings, collection.known + mentioned_topics(collection))
        db.executemany(
            "INSERT INTO problems VALUES (?, ?)",
            ((path, problems_to_plain(found)) for path, found in problems),
        )
        db.executemany("INSERT INTO folders VALUES (?, ?)", folders.items())
        self.set_corpus_newest(None if collection.newest is None else micros(collection.newest))

    def clear(self) -> None:
        for table in INDEX_TABLE_NAMES:  # created with the cache's own (`cache.py`)
            self.db.execute(f"DELETE FROM {table}")

    def add_names(
        self,
        spellings: dict[tuple[GroupKind, str], Counter[str]],
        known: Counter[tuple[str, str]],
        sign: int = 1,
    ) -> None:
        """Add (or with `sign` -1, take away) counts of spellings and known names."""
        rows = [
            (kind.value, key, spelling, sign * n)
            for (kind, key), counter in spellings.items()
            for spelling, n in counter.items()
        ]
        rows += [(KNOWN + kind, key, "", sign * n) for (kind, key), n in known.items()]
        self.db.executemany(
            "INSERT INTO names VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, key, spelling) DO UPDATE SET n = n + excluded.n",
            rows,
        )
        self.db.execute("DELETE FROM names WHERE n = 0")

    # -- read by a delta run --------------------------------------------------------------------

    def groups(self) -> list[Indexed]:
        rows = self.db.execute("SELECT gid, header FROM groups")
        found = [header_from_plain(gid, header) for gid, header in rows]
        self._last_gid = max((g.gid for g in found), default=0)
        return found

    def folders(self) -> dict[str, bytes]:
        """Each seeds folder's digest, as the last run left its files (`Scan.digests`)."""
        rows = self.db.execute("SELECT folder, digest FROM folders")
        return {folder: digest for folder, digest in rows if isinstance(folder, str)}

    def file_stats(self, folders: Iterable[str]) -> set[tuple[str, int, int]]:
        """The (path, size, change stamp) of each record file the cache has in these folders (not in
        their sub-folders): a range of the table's primary key each."""
        found: set[tuple[str, int, int]] = set()
        for folder in folders:
            if folder:  # byte order: every `folder/...` sorts from `folder/` to `folder0`
                query = "SELECT path, size, stamp FROM files WHERE path >= ? AND path < ?"
                rows = self.db.execute(query, (folder + "/", folder + "0"))
            else:
                rows = self.db.execute("SELECT path, size, stamp FROM files")
            found.update(
                row
                for row in rows
                if isinstance(row[0], str) and row[0].rpartition("/")[0] == folder
            )
        return found

    def set_folders(self, digests: dict[str, bytes | None]) -> None:
        """Folders' digests as their files are now (None: the folder is gone)."""
        self.db.executemany("DELETE FROM folders WHERE folder = ?", ((f,) for f in digests))
        self.db.executemany(
            "INSERT INTO folders VALUES (?, ?)",
            ((folder, digest) for folder, digest in digests.items() if digest is not None),
        )

    def outcomes(self, paths: Sequence[str]) -> dict[str, FileOutcome]:
        """The stored outcomes (outlines) of those of `paths` the cache has."""
        found = {}
        for path in paths:
            row = self.db.execute("SELECT outcome FROM files WHERE path = ?", (path,)).fetchone()
            if row is not None:
                found[path] = codec.decode_outcome(row[0])
        return found

    def holders(self, urls: Iterable[str]) -> set[str]:
        """The record files that hold any of `urls`."""
        query = "SELECT url, path, check_ FROM urls WHERE url = ?"
        return {path for url in urls for _, path in self._checked(query, url)}

    def urls_in(self, paths: Iterable[str]) -> set[str]:
        """Every URL the record files `paths` hold."""
        query = "SELECT url, path, check_ FROM urls WHERE path = ?"
        return {url for path in paths for url, _ in self._checked(query, path)}

    def _checked(self, query: str, value: str) -> Iterator[tuple[str, str]]:
        for url, path, check in self.db.execute(query, (value,)):
            if url_check(url, path) != check:
                raise codec.Damaged("a damaged row in the index")
            yield url, path

    def spellings(self, kind: GroupKind, key: str) -> Counter[str]:
        query = "SELECT spelling, n FROM names WHERE kind = ? AND key = ?"
        return Counter(dict(self.db.execute(query, (kind.value, key)).fetchall()))

    def named(self) -> set[tuple[GroupKind, str]]:
        """The topics and providers whose spellings are counted: those with a group."""
        query = "SELECT DISTINCT kind, key FROM names WHERE kind IN (?, ?) AND n > 0"
        kinds = (GroupKind.TOPIC.value, GroupKind.PROVIDER.value)
        return {(GroupKind(kind), key) for kind, key in self.db.execute(query, kinds)}

    def known(self, kind: str, key: str) -> int:
        query = "SELECT n FROM names WHERE kind = ? AND key = ? AND spelling = ''"
        row = self.db.execute(query, (KNOWN + kind, key)).fetchone()
        return int(row[0]) if row else 0

    def day_counts(self, gid: int) -> DayCounts:
        """How many members a group has on each day, newest first, by month: every month's total
        now, a month's days when they are asked for (none: no rows)."""
        months = self._counts(gid, "")
        return DayCounts(months, lambda month: self._days_of(gid, month, months[month]))

    def set_day_counts(
        self, gid: int, counts: DayCounts, months: Iterable[str] | None = None
    ) -> None:
        """A group's members on each day: every month's total, and the days of `months` (None:
        of every month, and no others), each row sealed with its group and month."""
        db = self.db
        db.execute(_SET_DAYS, (gid, "", codec.dump([gid, "", counts.months])))
        if months is None:
            db.execute("DELETE FROM days WHERE gid = ? AND month != ''", (gid,))
            months = counts.months
        for month in months:
            if month in counts.months:
                db.execute(_SET_DAYS, (gid, month, codec.dump([gid, month, counts.days(month)])))
            else:
                db.execute("DELETE FROM days WHERE gid = ? AND month = ?", (gid, month))

    def _days_of(self, gid: int, month: str, total: int) -> dict[str, int]:
        days = self._counts(gid, month)
        if sum(days.values()) != total:
            raise codec.Damaged("a group's days and its month's total count apart")
        return days

    def _counts(self, gid: int, month: str) -> dict[str, int]:
        """A `days` row: months ("") or a month's days, newest first, as counted (none: {})."""
        query = "SELECT counts FROM days WHERE gid = ? AND month = ?"
        row = self.db.execute(query, (gid, month)).fetchone()
        if row is None:
            return {}
        loaded = codec.load(row[0])
        of, at, found = loaded if isinstance(loaded, list) and len(loaded) == 3 else (None,) * 3
        width = 10 if month else 7  # days of the month, or months
        if (
            (of, at) != (gid, month)
            or not isinstance(found, dict)
            or not all(type(n) is int and n > 0 for n in found.values())
            or not all(len(key) == width and key.startswith(month) for key in found)
            or list(found) != sorted(found, reverse=True)
        ):
            raise codec.Damaged("not this group's day counts")
        return found

    def rows(self, gid: int, period: str | None, skip: int, count: int) -> list[Row]:
        """`count` members of a group past the first `skip`, newest first: of all its members
        (`period` None) or of one month or day."""
        if period is None:
            query = f"SELECT {_ROW} FROM members WHERE gid = ? ORDER BY time DESC, url"
            found = self.db.execute(f"{query} LIMIT ? OFFSET ?", (gid, count, skip))
        else:
            start, end = period_span(period)
            query = (
                f"SELECT {_ROW} FROM members WHERE gid = ? AND time >= ? AND time < ? "
                "ORDER BY time DESC, url LIMIT ? OFFSET ?"
            )
            found = self.db.execute(query, (gid, start, end, count, skip))
        return [checked_row(gid, *row) for row in found]

    def provider_details(self, gid: int) -> tuple[str | None, Any]:
        """A provider group's domain and logo, as `collect` gives them."""
        query = "SELECT provider FROM members WHERE gid = ? ORDER BY time DESC, url"
        rows = self.db.execute(query, (gid,))
        return group_provider_details(
            codec.provider_from_plain(codec.load(blob)) for (blob,) in rows if blob
        )

    def archived(self, month: str, limit: int) -> bool:
        """Whether some group shows members of `month` on an archive page: it has more than
        `limit` members of that month or newer."""
        start, _ = period_span(month)
        groups = self.db.execute(
            "SELECT DISTINCT gid FROM members WHERE day >= ? AND day < ? AND gid >= 0",
            (month, month + "~"),
        )
        # Counted up to `limit + 1` only: a big group has hundreds of thousands of members.
        query = "SELECT count(*) FROM (SELECT 1 FROM members WHERE gid = ? AND time >= ? LIMIT ?)"
        return any(
            self.db.execute(query, (gid, start, limit + 1)).fetchone()[0] > limit
            for (gid,) in groups.fetchall()
        )

    def heats(self, gid: int) -> dict[tuple[int, str], int | None]:
        """The heat of each member of a group, by (time, URL), from its facts (`KEPT`'s rows):
        what a feed sorted by heat orders its members by."""
        columns = ", ".join(
            f"k.{c}" for c in ("time", "url", "modified", "day", "path", "i", "j", "content")
        )
        query = (
            f"SELECT {columns}, k.provider, k.check_ FROM members m JOIN members k "
            f"ON k.gid = {KEPT} AND k.time = m.time AND k.url = m.url WHERE m.gid = ?"
        )
        found = {}
        for row in self.db.execute(query, (gid,)):
            checked = checked_row(KEPT, *row)
            found[checked.time, checked.url] = facts_from_plain(row[8], checked.time).heat
        return found

    def corpus_newest(self) -> int | None:
        """The time of the newest article of all (`Collection.newest`); None: there is none."""
        row = self.db.execute("SELECT value FROM corpus WHERE key = 'newest'").fetchone()
        found = codec.load(row[0]) if row else None
        if not (isinstance(found, list) and len(found) == 2 and found[0] == "newest"):
            raise codec.Damaged("the index lost the newest article's time")
        if found[1] is not None and type(found[1]) is not int:
            raise codec.Damaged(f"not a time: {found[1]!r}")
        return found[1]

    def set_corpus_newest(self, time: int | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO corpus VALUES ('newest', ?)", (codec.dump(["newest", time]),)
        )

    def kept_before(self, time: int) -> set[str]:
        """The record files of the articles the feeds choose from (`KEPT`) older than `time`:
        a row lost would leave its article in the feeds (`_counted`)."""
        rows = self._counted(KEPT, None, day_of(time))
        return {row.path for row in rows if row.time < time}

    def left_out_between(self, start: int, end: int) -> set[str]:
        """The record files of the articles the filters of every feed leave out (`LEFT_OUT`)
        from `start` to before `end`: a row lost would keep its article out (`_counted`)."""
        rows = self._counted(LEFT_OUT, day_of(start), day_of(end - 1))
        return {row.path for row in rows if start <= row.time < end}

    def newest_besides(self, paths: Set[str]) -> int | None:
        """The time of the newest article (of `KEPT` and `LEFT_OUT`: every one, once duplicates
        are resolved) of a record file not among `paths`; None: there is none. The rows of its
        day and every later one are counted (`_counted`): a row lost would make an older one
        the newest."""
        found: int | None = None
        for gid in POOLS:
            query = f"SELECT {_ROW} FROM members WHERE gid = ? ORDER BY time DESC"
            for values in self.db.execute(query, (gid,)):
                row = checked_row(gid, *values)
                if row.path not in paths:
                    found = row.time if found is None else max(found, row.time)
                    break
        since = None if found is None else day_of(found)
        for gid in POOLS:
            self._counted(gid, since, None)
        return found

    def _counted(self, gid: int, first: str | None, last: str | None) -> list[Row]:
        """The rows of `KEPT` or `LEFT_OUT` on the days from `first` to `last` (None: from the
        first, to the last), each checked, and as many on each day as the day counts say."""
        query, values = f"SELECT {_ROW} FROM members WHERE gid = ?", [gid]
        if first:
            query, values = query + " AND time >= ?", [*values, period_span(first)[0]]
        if last:
            query, values = query + " AND time < ?", [*values, period_span(last)[1]]
        rows = [checked_row(gid, *row) for row in self.db.execute(query, values)]
        counts = self.day_counts(gid)
        expected = {
            day: n
            for month in counts.months
            if (first is None or month >= first[:7]) and (last is None or month <= last[:7])
            for day, n in counts.days(month).items()
            if (first is None or day >= first) and (last is None or day <= last)
        }
        if dict(Counter(row.day for row in rows)) != expected:
            raise codec.Damaged("the index counts the articles of a day apart")
        return rows

    def problems(self) -> dict[str, tuple[Problem, ...]]:
        return {
            path: tuple(map(codec.problem_from_plain, codec.load(blob)))
            for path, blob in self.db.execute("SELECT path, problems FROM problems")
        }

    # -- updated by a delta run -----------------------------------------------------------------

    def choose(self, gid: int, test: Callable[[Facts], bool]) -> DayCounts:
        """Make a group's members the articles the feeds choose from (`KEPT`) whose facts pass
        `test`, in place of those it had: a custom feed whose filters changed. Its members on
        each day, newest first. Done by SQLite, in one statement: the group may be most of the
        archive."""
        db, failed, read = self.db, [], [0]

        def chosen(*row: Any) -> bool:
            try:
                read[0] += 1
                checked_row(KEPT, *row)
                return test(facts_from_plain(row[8], row[0]))
            except Exception as e:  # said again below: SQLite only says a function failed
                failed.append(e)
                raise

        def check(*row: Any) -> int:
            return member_check(gid, None, *row)

        db.create_function("chosen", 10, chosen)
        db.create_function("member_check", 8, check)
        columns = "time, url, modified, day, path, i, j, content"
        self.drop_members(gid)
        try:
            db.execute(
                f"INSERT INTO members SELECT ?, {columns}, NULL, member_check({columns}) "
                f"FROM members WHERE gid = ? AND chosen({columns}, provider, check_)",
                (gid, KEPT),
            )
        except sqlite3.Error:
            if failed:
                raise failed[0] from None
            raise
        if read[0] != self.day_counts(KEPT).total:
            raise codec.Damaged("the index counts the articles to choose from apart")
        query = "SELECT day, count(*) FROM members WHERE gid = ? GROUP BY day ORDER BY day DESC"
        return DayCounts.of(dict(db.execute(query, (gid,)).fetchall()))

    def drop_members(self, gid: int) -> None:
        self.db.execute("DELETE FROM members WHERE gid = ?", (gid,))

    def remove_members(self, gid: int, articles: Iterable[Article]) -> None:
        self.db.executemany(
            "DELETE FROM members WHERE gid = ? AND time = ? AND url = ?",
            ((gid, micros(a.published), a.url) for a in articles),
        )

    def add_members(self, indexed: Indexed, articles: Iterable[Article], members: Members) -> None:
        rows = members.rows(articles, indexed.gid, indexed.group)
        self.db.executemany(_INSERT_MEMBER, rows)

    def add_kept(self, articles: Iterable[Article], members: Members) -> None:
        self.db.executemany(_INSERT_MEMBER, members.kept_rows(articles))

    def add_left_out(self, articles: Iterable[Article], members: Members) -> None:
        self.db.executemany(_INSERT_MEMBER, members.left_out_rows(articles))

    def add_group(self, group: Group) -> Indexed:
        """A group that appears, empty for now: its number is a new one, never one a group had
        earlier in the run (pages are not cut by it: a group's place in the collection follows
        from its kind and slug)."""
        if self._last_gid is None:
            (last,) = self.db.execute("SELECT max(gid) FROM groups").fetchone()
            self._last_gid = last or 0
        self._last_gid += 1
        indexed = Indexed(self._last_gid, group, 0, None)
        self.db.execute("INSERT INTO groups VALUES (?, ?)", (indexed.gid, header_to_plain(indexed)))
        return indexed

    def set_group(self, indexed: Indexed) -> None:
        self.db.execute(
            "UPDATE groups SET header = ? WHERE gid = ?", (header_to_plain(indexed), indexed.gid)
        )

    def drop_group(self, gid: int) -> None:
        self.db.execute("DELETE FROM groups WHERE gid = ?", (gid,))
        self.db.execute("DELETE FROM days WHERE gid = ?", (gid,))

    def newest(self, gid: int) -> int | None:
        query = "SELECT time FROM members WHERE gid = ? ORDER BY time DESC LIMIT 1"
        row = self.db.execute(query, (gid,)).fetchone()
        return int(row[0]) if row else None

    def replace_files(
        self,
        old: Iterable[str],
        new: dict[str, FileOutcome],
        encoded: Sequence[tuple[FileStat, tuple[bytes, bytes]]],
    ) -> None:
        """The changed record files: what the cache and the index keep of the `old` ones
        (changed or gone) out, the `new` ones (changed or come: their outcomes, `encoded` for
        the cache) in."""
        gone = [(path,) for path in old]
        for table in ("files", "urls", "problems"):
            self.db.executemany(f"DELETE FROM {table} WHERE path = ?", gone)
        self.db.executemany(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?)",
            [(s.path, s.size, s.stamp, *blobs) for s, blobs in encoded],
        )
        articles = [a for outcome in new.values() for a in outcome.articles]
        self.db.executemany("INSERT INTO urls VALUES (?, ?, ?)", urls_of(articles))
        self.db.executemany(
            "INSERT INTO problems VALUES (?, ?)",
            [(path, problems_to_plain(o.problems)) for path, o in new.items() if o.problems],
        )
