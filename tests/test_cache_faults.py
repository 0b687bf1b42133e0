"""The cache never stops a build, never serves bad bytes and never runs code.

Every file of the cache is damaged in every way in turn (cut short, a byte flipped, garbage,
removed, replaced by a folder); the cache is made unusable (a file where its folder should be, a
read-only or full file system, a lock another process holds); planted pickles sit where values
are read. Each time the build finishes, says at most a warning, and its output is byte for byte
what a clean build gives."""

from __future__ import annotations

import os
import pickle
import random
import re
import shutil
import sqlite3
import string
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from feeds import Report, itemstore
from feeds.synthetic import write_corpus
from tests.helpers import (
    build_into,
    build_unpowered,
    can_drop_power,
    files_of,
    item_store,
    write_record,
)

CORPUS_SIZE = 60


def edit(seeds: Path, round_: int) -> None:
    """A curator's change, so that the next build has work to do and reads the cache."""
    records = sorted(seeds.rglob("*.md"))
    path = records[round_ % len(records)]
    path.write_text(path.read_text().replace("title: ", f"title: Edit {round_}: ", 1))


def assert_same_as_clean_build(
    seeds: Path, output: Path, tmp_path: Path, name: str, **settings: Any
) -> None:
    clean = tmp_path / f"clean-{name}"
    build_into(seeds, clean, cache=tmp_path / f"clean-cache-{name}", limit=10, **settings)
    assert files_of(output) == files_of(clean)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, Path]:
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, CORPUS_SIZE, seed=8)
    build_into(seeds, output, cache=cache, limit=10)
    return seeds, output, cache


def _flip(data: bytes) -> bytes:
    if not data:
        return b"\x01"
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :]


DAMAGES: dict[str, Callable[[Path], None]] = {
    "cut short": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "byte flipped": lambda p: p.write_bytes(_flip(p.read_bytes())),
    "garbage": lambda p: p.write_bytes(random.Random(1).randbytes(max(64, p.stat().st_size))),
    "removed": lambda p: p.unlink(),
    "a folder": lambda p: (p.unlink(), p.mkdir()),  # type: ignore[func-returns-value]
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_every_file_of_the_cache_damaged_in_turn(
    built: tuple[Path, Path, Path], tmp_path: Path, damage: str
) -> None:
    seeds, output, cache = built
    kept = tmp_path / "kept-cache"
    shutil.copytree(cache, kept)
    cache_files = sorted(p.relative_to(cache) for p in cache.rglob("*") if p.is_file())
    assert any(p.suffix == ".sqlite" for p in cache_files)
    assert any(p.suffix == ".items" for p in cache_files)
    for round_, relative in enumerate(cache_files):
        shutil.rmtree(cache)
        shutil.copytree(kept, cache)
        DAMAGES[damage](cache / relative)
        edit(seeds, round_)
        report = build_into(seeds, output, cache=cache, limit=10)
        assert len(report.notices) <= 1, report.notices
        assert_same_as_clean_build(seeds, output, tmp_path, f"{damage}-{round_}")
        again = build_into(seeds, output, cache=cache, limit=10)  # healed: no word, no work
        assert (again.notices, again.written) == ((), ()), relative


def test_a_damaged_database_says_so_once_and_heals(built: tuple[Path, Path, Path]) -> None:
    seeds, output, cache = built
    (database,) = cache.glob("*.sqlite")
    for name in ("-wal", "-shm"):
        Path(f"{database}{name}").unlink(missing_ok=True)
    data = bytearray(database.read_bytes())
    data[4096 : 4096 * 3] = b"\xff" * 8192  # pages 2 and 3: "database disk image is malformed"
    database.write_bytes(bytes(data))
    edit(seeds, 1)
    report = build_into(seeds, output, cache=cache, limit=10)
    assert report.notices == (f"the cache {database} was damaged; it is started afresh",)
    assert report.parsed == CORPUS_SIZE
    assert build_into(seeds, output, cache=cache, limit=10).notices == ()


def test_a_flipped_byte_in_a_stored_item_is_never_published(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    seeds, output, cache = built
    for path in item_store(cache).glob("*.items"):
        data = path.read_bytes()
        at = data.rindex(b"<title>") + len(b"<title>")  # inside an item, not the index
        path.write_bytes(data[:at] + b"X" + data[at + 1 :])
    edit(seeds, 2)  # the month's pages are made again, from the store where it can
    build_into(seeds, output, cache=cache, limit=10)
    assert_same_as_clean_build(seeds, output, tmp_path, "flipped")


class _Payload:
    """A pickle that, if ever loaded, creates a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_planted_pickles_never_run(built: tuple[Path, Path, Path], tmp_path: Path) -> None:
    seeds, output, cache = built
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    (database,) = cache.glob("*.sqlite")
    with sqlite3.connect(database) as db:
        db.execute("UPDATE files SET outcome = ?", (payload,))
        db.execute("UPDATE meta SET value = ? WHERE key != 'schema'", (payload,))
    for path in item_store(cache).glob("*.items"):
        path.write_bytes(len(payload).to_bytes(8, "big") + payload)
    edit(seeds, 3)
    build_into(seeds, output, cache=cache, limit=10)
    assert not marker.exists(), "a pickle from the cache was loaded"
    assert_same_as_clean_build(seeds, output, tmp_path, "pickles")


def test_seeds_folders_sharing_a_cache_never_take_each_others_records(tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    for name, title in (("a", "Alpha"), ("b", "Bravo")):
        seeds = tmp_path / f"seeds-{name}"
        seeds.mkdir()
        record = seeds / "story.md"
        record.write_text(
            f"---\ntitle: {title} story\nwebUrl: https://example.com/{name}\n"
            "publishedDateTime: 2024-05-01T10:00:00Z\n---\n"
        )
        os.utime(record, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
        build_into(seeds, tmp_path / f"out-{name}", cache=cache)
    assert b"Bravo story" in (tmp_path / "out-b" / "all.rss.xml").read_bytes()
    assert b"Alpha" not in (tmp_path / "out-b" / "all.rss.xml").read_bytes()


def _unusable(report: Report, cache: Path) -> None:
    assert len(report.notices) == 1, report.notices
    assert report.notices[0].startswith(f"the cache {cache}/")
    assert "cannot be used" in report.notices[0] and report.notices[0].endswith(
        "; this run goes without"
    )


def test_a_cache_path_that_is_a_file(tmp_path: Path) -> None:
    seeds, cache = tmp_path / "seeds", tmp_path / "not-a-folder"
    write_corpus(seeds, 20, seed=2)
    cache.write_text("a file, not a folder")
    report = build_into(seeds, tmp_path / "output", cache=cache, limit=10)
    _unusable(report, cache)
    assert cache.read_text() == "a file, not a folder"
    assert_same_as_clean_build(seeds, tmp_path / "output", tmp_path, "file")


def test_an_item_store_that_is_not_a_folder(built: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A file that took the item store's name is removed, and said once: the store starts
    afresh and serves the next runs (without the warning, it would only miss, silently)."""
    seeds, output, cache = built
    store = item_store(cache)
    shutil.rmtree(store)
    store.write_text("not a folder")
    edit(seeds, 4)
    report = build_into(seeds, output, cache=cache, limit=10)
    assert report.notices == (f"the item store {store} was not a folder; it is started afresh",)
    assert_same_as_clean_build(seeds, output, tmp_path, "store-file")
    assert store.is_dir() and any(store.glob("*.items"))
    edit(seeds, 5)
    assert not build_into(seeds, output, cache=cache, limit=10).notices


def test_an_item_store_that_cannot_be_written(
    built: tuple[Path, Path, Path], small_mount: Callable[[str], Path], tmp_path: Path
) -> None:
    """The item store on a read-only file system (a link to it), the database usable: said,
    and every item is made again; the output is a clean build's."""
    seeds, output, cache = built
    store = item_store(cache)
    shutil.rmtree(store)
    store.symlink_to(small_mount("ro,size=1m"))
    edit(seeds, 4)
    report = build_into(seeds, output, cache=cache, limit=10)
    assert report.notices == (
        f"the item store {store} cannot be used (it cannot be written); every item is made again",
    )
    assert_same_as_clean_build(seeds, output, tmp_path, "store-read-only")


def test_a_cache_locked_by_another_process(built: tuple[Path, Path, Path], tmp_path: Path) -> None:
    seeds, output, cache = built
    (database,) = cache.glob("*.sqlite")
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program keeps it locked
    try:
        edit(seeds, 4)
        report = build_into(seeds, output, cache=cache, limit=10)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _unusable(report, cache)
    assert_same_as_clean_build(seeds, output, tmp_path, "locked")


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mounts a tmpfs with the given options (needs root); unmounted afterwards."""
    mounts: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mount-{len(mounts)}"
        point.mkdir()
        command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)]
        if subprocess.run(command, check=False, capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.mark.skipif(not can_drop_power, reason="needs root, and setpriv")
def test_a_database_made_read_only_for_a_run_is_used_again_once_it_is_writable(
    tmp_path: Path,
) -> None:
    """During the run that found the database read-only, SQLite made its `-shm` file with the
    database's mode: once the database was writable again, every run said "cannot be used" and
    went without. Those leftovers are cleared: one run starts the cache afresh, the next uses
    it."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 20, seed=5)
    assert build_unpowered(seeds, output, cache)["notices"] == []
    (database,) = cache.glob("*.sqlite")
    database.chmod(0o444)
    edit(seeds, 1)
    (notice,) = build_unpowered(seeds, output, cache)["notices"]
    assert "cannot be used (attempt to write a readonly database)" in notice
    database.chmod(0o644)
    edit(seeds, 2)
    (notice,) = build_unpowered(seeds, output, cache)["notices"]
    assert notice == (
        f"the cache {database} had files beside it that no run can write (left by a run that "
        "found it read-only); it is started afresh"
    )
    edit(seeds, 3)
    report = build_unpowered(seeds, output, cache)
    assert (report["notices"], report["files_parsed"]) == ([], 1)
    build_into(seeds, tmp_path / "clean", cache=tmp_path / "clean-cache")
    assert files_of(output) == files_of(tmp_path / "clean")


def test_a_read_only_cache_folder(small_mount: Callable[[str], Path], tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 20, seed=2)
    cache = small_mount("ro,size=1m") / "cache"
    report = build_into(seeds, tmp_path / "output", cache=cache, limit=10)
    _unusable(report, cache)
    assert_same_as_clean_build(seeds, tmp_path / "output", tmp_path, "read-only")


def test_a_full_disk_under_the_cache(small_mount: Callable[[str], Path], tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 300, seed=2)
    cache = small_mount("size=64k") / "cache"
    report = build_into(seeds, tmp_path / "output", cache=cache, limit=10)
    assert len(report.notices) == 1 and "cannot be used" in report.notices[0], report.notices
    assert_same_as_clean_build(seeds, tmp_path / "output", tmp_path, "full")


def test_planted_values_with_a_right_checksum_are_misses(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A checksum finds damage, not a value planted on purpose with its checksum: what such a
    value holds (nesting too deep to decode, lengths no file has, text where numbers go) must
    be a miss too."""
    from feeds import codec

    seeds, output, cache = built
    (database,) = cache.glob("*.sqlite")
    deep = codec.seal(b"[" * 100_000 + b"]" * 100_000)
    wrong = codec.dump({"files_read": "many", "problems": [["a", "b", None, None, "error"]]})
    with sqlite3.connect(database) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'state'", (deep,))
        db.execute("UPDATE meta SET value = ? WHERE key = 'report'", (wrong,))
        db.execute("UPDATE files SET outcome = ?", (deep,))
    record = itemstore._RECORD
    for path in item_store(cache).glob("*.items"):  # the real keys, with impossible lengths
        data = path.read_bytes()
        size = int.from_bytes(data[:8], "big") * record.size
        index = b"".join(
            record.pack(n, key, offset, 2**32 - 1 - offset % 7, check)
            for n, key, offset, _, check in record.iter_unpack(data[8 : 8 + size])
        )  # and the index's own checksum right: only the lengths lie
        sealed = index + zlib.crc32(index).to_bytes(4, "big")
        path.write_bytes(data[:8] + sealed + data[8 + size + 4 :])
    edit(seeds, 5)
    build_into(seeds, output, cache=cache, limit=10)
    assert_same_as_clean_build(seeds, output, tmp_path, "planted")


def _texts_swapped(db: sqlite3.Connection) -> None:
    """Each row gets the next row's texts: well-formed, right checksum, another file's."""
    rows = db.execute("SELECT path, texts FROM files ORDER BY path").fetchall()
    for (path, _), (_, texts) in zip(rows, [*rows[1:], rows[0]], strict=True):
        db.execute("UPDATE files SET texts = ? WHERE path = ?", (texts, path))


TEXT_DAMAGES: dict[str, Callable[[sqlite3.Connection], object]] = {
    "gone": lambda db: db.execute("UPDATE files SET texts = NULL"),
    "byte flipped": lambda db: db.executemany(
        "UPDATE files SET texts = ? WHERE path = ?",
        [(_flip(t), p) for p, t in db.execute("SELECT path, texts FROM files").fetchall()],
    ),
    "a pickle": lambda db: db.execute(
        "UPDATE files SET texts = ?", (pickle.dumps(_Payload(Path("/nonexistent/ran"))),)
    ),
    "too deep": lambda db: db.execute(
        "UPDATE files SET texts = ?", (__import__("feeds.codec").codec.seal(b"[" * 50_000),)
    ),
    "another file's": _texts_swapped,
}


@pytest.mark.parametrize("damage", TEXT_DAMAGES, ids=list(TEXT_DAMAGES))
def test_articles_whose_texts_the_cache_lost_are_read_from_their_records_again(
    built: tuple[Path, Path, Path], tmp_path: Path, damage: str
) -> None:
    """A run with a change decodes unchanged records without their texts (title, excerpt,
    body, images) and takes them from the cache only for the items it makes. With the stored
    items gone, every page made again needs the texts of records that did not change: when the
    cache lost or spoiled them, they are read from the records, never taken from another."""
    seeds, output, cache = built
    (database,) = cache.glob("*.sqlite")
    with sqlite3.connect(database) as db:
        TEXT_DAMAGES[damage](db)
    shutil.rmtree(item_store(cache))
    edit(seeds, 7)
    report = build_into(seeds, output, cache=cache, limit=10)
    assert report.parsed == 1  # one record read: the others' outlines came from the cache
    assert_same_as_clean_build(seeds, output, tmp_path, "texts")


INDEX_DAMAGES: dict[str, str] = {
    "members' items changed": "UPDATE members SET content = content || x'00'",
    "members moved to another day": "UPDATE members SET day = '2000-01-01'",
    "members' order changed": "UPDATE members SET time = -time",
    "an article gone from its groups": (
        "DELETE FROM members WHERE url = (SELECT url FROM members ORDER BY time DESC LIMIT 1)"
    ),
    "names counted twice": "UPDATE names SET n = n * 2",
    "the newest member lost from one group": (
        "DELETE FROM members WHERE gid = 0 AND time = (SELECT max(time) FROM members WHERE gid = 0)"
    ),
    "groups garbled": "UPDATE groups SET header = x'00'",
    "day counts garbled": "UPDATE days SET counts = x'00'",
    "day counts forgotten": "DELETE FROM days",
    # Kept by month: a row of every month's total per group, and a row per month of its days.
    "the newest month's days forgotten, its totals kept": (
        "DELETE FROM days WHERE month = (SELECT max(month) FROM days)"
    ),
    "months' days garbled, their totals kept": "UPDATE days SET counts = x'00' WHERE month != ''",
    "URLs given to another file": "UPDATE urls SET path = 'elsewhere.md'",
    "the newest article's time garbled": "UPDATE corpus SET value = x'00'",
    "the newest article's time forgotten": "DELETE FROM corpus",
}


@pytest.mark.parametrize("damage", INDEX_DAMAGES, ids=list(INDEX_DAMAGES))
def test_a_damaged_index_is_never_followed(
    built: tuple[Path, Path, Path], tmp_path: Path, damage: str
) -> None:
    """The index (what a run after a few changes plans from) checks each row it reads, and
    its counts against the rows: damaged, the run goes the full way (which writes it afresh) and
    its output is a clean build's; the run after is a quick one again."""
    seeds, output, cache = built
    database = _damage(cache, INDEX_DAMAGES[damage])
    edit(seeds, 3)
    build_into(seeds, output, cache=cache, limit=10)
    assert_same_as_clean_build(seeds, output, tmp_path, "index")
    edit(seeds, 4)
    report = build_into(seeds, output, cache=cache, limit=10)
    assert (report.parsed, report.notices) == (1, ())
    assert_same_as_clean_build(seeds, output, tmp_path, "index-after")
    # Healed: the index is a clean build's.
    (clean,) = (tmp_path / "clean-cache-index-after").glob("*.sqlite")
    assert _members(database) == _members(clean) != []


def test_a_months_days_lost_or_counted_apart_are_damage_never_fewer_members() -> None:
    """A group's day counts are kept by month, a row of totals and a row of days per month: a
    month's row that is gone, another month's, or that adds up to another number than its total
    is damage (the run goes the full way), never read as a month with fewer members."""
    from feeds import codec
    from feeds.cache import _INDEX_TABLES
    from feeds.index import Index
    from feeds.pages import DayCounts

    db = sqlite3.connect(":memory:")
    db.executescript(_INDEX_TABLES)
    index = Index(db)
    counts = DayCounts.of({"2024-06-02": 2, "2024-06-01": 1, "2024-05-31": 4})
    index.set_day_counts(7, counts)
    read = index.day_counts(7)
    assert read.months == {"2024-06": 3, "2024-05": 4}
    assert [read.days(m) for m in read.months] == [
        {"2024-06-02": 2, "2024-06-01": 1},
        {"2024-05-31": 4},
    ]

    fewer = DayCounts.of({"2024-06-02": 1, "2024-05-31": 4})
    index.set_day_counts(7, fewer, ["2024-06"])  # June's days as one member...
    index.set_day_counts(7, counts, [])  # ...under totals that say three
    with pytest.raises(codec.Damaged):
        index.day_counts(7).days("2024-06")
    may = db.execute("SELECT counts FROM days WHERE gid = 7 AND month = '2024-05'").fetchone()
    db.execute("UPDATE days SET counts = ? WHERE gid = 7 AND month = '2024-06'", may)
    with pytest.raises(codec.Damaged):  # May's row in June's place
        index.day_counts(7).days("2024-06")
    db.execute("DELETE FROM days WHERE gid = 7 AND month = '2024-05'")
    with pytest.raises(codec.Damaged):  # gone
        index.day_counts(7).days("2024-05")


# What a custom feed chooses from when its filters change (`index_rows.KEPT`, gid -1).
CHOICE_DAMAGES: dict[str, str] = {
    "facts changed": "UPDATE members SET provider = provider || x'00' WHERE gid = -1",
    "an article gone from the choice": (
        "DELETE FROM members WHERE gid = -1 AND time = (SELECT max(time) FROM members "
        "WHERE gid = -1)"
    ),
    "its day counts forgotten": "DELETE FROM days WHERE gid = -1",
}


@pytest.mark.parametrize("damage", CHOICE_DAMAGES, ids=list(CHOICE_DAMAGES))
def test_a_damaged_choice_is_never_followed(
    built: tuple[Path, Path, Path], tmp_path: Path, damage: str
) -> None:
    """A new custom feed chooses its articles from the index's rows of every article, and checks
    each row and their count: damaged, the run goes the full way. The feed has no filter: any
    article lost or left out would show."""
    from feeds.filters import CustomFeed

    seeds, output, cache = built
    _damage(cache, CHOICE_DAMAGES[damage])
    settings = {"custom": (CustomFeed("every", "Every article"),)}
    report = build_into(seeds, output, cache=cache, limit=10, **settings)
    assert report.parsed == 0 and not report.notices
    assert_same_as_clean_build(seeds, output, tmp_path, "choice", **settings)
    edit(seeds, 4)  # then quick again, from an index written afresh
    report = build_into(seeds, output, cache=cache, limit=10, **settings)
    assert (report.parsed, report.notices) == (1, ())
    assert_same_as_clean_build(seeds, output, tmp_path, "choice-after", **settings)


# The articles a window of days for every feed leaves behind are found in those rows too.
WINDOW_DAMAGES: dict[str, str] = {
    "an article gone from the choice": (
        "DELETE FROM members WHERE gid = -1 AND time = (SELECT min(time) FROM members "
        "WHERE gid = -1)"
    ),
    "an article moved to another file": (
        "UPDATE members SET path = 'elsewhere.md' WHERE gid = -1 AND time = (SELECT min(time) "
        "FROM members WHERE gid = -1)"
    ),
}


@pytest.mark.parametrize("damage", WINDOW_DAMAGES, ids=list(WINDOW_DAMAGES))
def test_a_damaged_choice_never_keeps_an_article_the_window_left(
    tmp_path: Path, damage: str
) -> None:
    """With `max_age_days` for every feed, a record newer than every other moves the window:
    the articles it leaves behind, taken from the index's rows of the articles the feeds choose
    from, go from every feed. A row lost or changed would keep one there: the run goes the full
    way instead, and its output is a clean build's."""
    from feeds.filters import Filters

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, CORPUS_SIZE, seed=8)
    window = {"filters": Filters(max_age_days=3650)}  # every record now; none after 2100
    build_into(seeds, output, cache=cache, limit=10, **window)
    _damage(cache, WINDOW_DAMAGES[damage])
    newer = "webUrl: https://x.example/later.html\ntitle: Later\npublishedDateTime: 2100-01-01"
    (seeds / "later.md").write_text(f"---\n{newer}\n---\n", encoding="utf-8")
    report = build_into(seeds, output, cache=cache, limit=10, **window)
    assert report.parsed == 1 and not report.notices
    assert_same_as_clean_build(seeds, output, tmp_path, "window", **window)


# Records at these times, a window of 5 days; then one more, and a row lost before it came.
WINDOW_MOVES: dict[str, tuple[list[str], str, str]] = {
    # The newest article's row: the next one looks like the newest, the window starts too early
    # and lets in the new record, older than the window really keeps.
    "the newest article's row lost": (["01-06T00", "01-10T00"], "n1", "01-04T00"),
    # A row on the day the window now starts, before its time: the article must leave.
    "a row lost on the day the window starts": (
        ["01-05T06", "01-07T00", "01-09T00"],
        "n0",
        "01-10T12",
    ),
}


@pytest.mark.parametrize("damage", WINDOW_MOVES, ids=list(WINDOW_MOVES))
def test_a_lost_row_never_moves_the_window_wrong(tmp_path: Path, damage: str) -> None:
    """The rows a window of days is moved by (the newest article, the articles older than it
    keeps now) are counted against the day counts, the newest's day and every day up to the
    window's start: a row lost sends the run the full way, whose output is a clean build's."""
    from feeds.filters import Filters

    times, lost, new = WINDOW_MOVES[damage]
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    for n, at in enumerate(times):
        record = f"webUrl: https://x.example/n{n}\ntitle: n{n}\npublishedDateTime: 2024-{at}:00:00Z"
        (seeds / f"n{n}.md").parent.mkdir(parents=True, exist_ok=True)
        (seeds / f"n{n}.md").write_text(f"---\n{record}\n---\n", encoding="utf-8")
    window = {"filters": Filters(max_age_days=5)}
    build_into(seeds, output, cache=cache, limit=1, **window)
    _damage(cache, f"DELETE FROM members WHERE gid = -1 AND url = 'https://x.example/{lost}'")
    record = f"webUrl: https://x.example/new\ntitle: new\npublishedDateTime: 2024-{new}:00:00Z"
    (seeds / "new.md").write_text(f"---\n{record}\n---\n", encoding="utf-8")
    report = build_into(seeds, output, cache=cache, limit=1, **window)
    assert report.parsed == 1 and not report.notices
    clean = tmp_path / "clean"
    build_into(seeds, clean, cache=tmp_path / "clean-cache", limit=1, **window)
    assert files_of(output) == files_of(clean)


# Records at these times (n0, n1, n2), a window of 5 days; the newest (n2) deleted, and a row of
# the articles the filters leave out (`index_rows.LEFT_OUT`, gid -2) lost before.
WINDOW_MOVES_BACK: dict[str, str] = {
    # The next newest's row: an older one looks like the newest, the window starts too early.
    "the next newest article's row lost": "n1",
    # A row of a day the window moves back over: its article would stay out.
    "a row lost where the window comes back to": "n0",
}


@pytest.mark.parametrize("damage", WINDOW_MOVES_BACK, ids=list(WINDOW_MOVES_BACK))
def test_a_lost_row_never_moves_the_window_back_wrong(tmp_path: Path, damage: str) -> None:
    """When the newest article goes, the next one and the articles the window keeps again are
    found in the index's rows of the articles the filters left out; those rows are counted
    against their day counts: a row lost sends the run the full way, whose output is a clean
    build's (both articles are in the feeds again)."""
    from feeds.filters import Filters

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    for n, at in enumerate(["01-01T00", "01-03T00", "01-10T00"]):
        record = f"webUrl: https://x.example/n{n}\ntitle: n{n}\npublishedDateTime: 2024-{at}:00:00Z"
        (seeds / f"n{n}.md").parent.mkdir(parents=True, exist_ok=True)
        (seeds / f"n{n}.md").write_text(f"---\n{record}\n---\n", encoding="utf-8")
    window = {"filters": Filters(max_age_days=5)}
    build_into(seeds, output, cache=cache, limit=5, **window)
    lost = WINDOW_MOVES_BACK[damage]
    _damage(cache, f"DELETE FROM members WHERE gid = -2 AND url = 'https://x.example/{lost}'")
    (seeds / "n2.md").unlink()
    report = build_into(seeds, output, cache=cache, limit=5, **window)
    assert not report.notices
    clean = tmp_path / "clean"
    build_into(seeds, clean, cache=tmp_path / "clean-cache", limit=5, **window)
    assert files_of(output) == files_of(clean)
    assert (output / "all.rss.xml").read_text(encoding="utf-8").count("<item>") == 2


def test_a_damaged_spelling_count_never_renames_a_topic(tmp_path: Path) -> None:
    """A topic is shown by its most common spelling, counted in the index. A count moved from
    one spelling to another (the sum of its counts stays right) would rename the topic in the
    item of every article about it; when a run finds a topic renamed, it has all its articles
    at hand and checks the counts against them: damaged, the run goes the full way."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    for n in range(4):
        record = f"webUrl: https://x.example/{n}\ntitle: {n}\npublishedDateTime: 2024-05-1{n}"
        write_record(seeds, f"{n}.md", record + ("\ntopics: [Deep sea]" if n else ""))
    build_into(seeds, output, cache=cache, limit=10)
    _damage(cache, "UPDATE names SET spelling = 'Deep Sea' WHERE spelling = 'Deep sea'")
    edit(seeds, 0)  # the record without the topic: the topic's count is not touched
    (seeds / "4.md").write_text(
        "---\nwebUrl: https://x.example/4\ntitle: 4\npublishedDateTime: 2024-05-20\n"
        "topics: [Deep sea]\n---\n",
        encoding="utf-8",
    )
    report = build_into(seeds, output, cache=cache, limit=10)
    assert not report.notices
    assert_same_as_clean_build(seeds, output, tmp_path, "spelling")
    assert ">Deep sea</category>" in (output / "all.rss.xml").read_text(encoding="utf-8")


# Groups numbered as a full build numbers them: all news 0, then the topics, ..., the custom feeds.
GROUP_LOSSES: dict[str, str] = {
    "a topic's": "DELETE FROM groups WHERE gid = 1",
    "a custom feed's": "DELETE FROM groups WHERE gid = (SELECT max(gid) FROM groups)",
}


@pytest.mark.parametrize("lost", GROUP_LOSSES, ids=list(GROUP_LOSSES))
def test_a_group_lost_from_the_index_is_never_left_out(tmp_path: Path, lost: str) -> None:
    """The index's groups are checked against the topics and providers it counts names of and
    the custom feeds configured: a group lost (here an unchanged one, the custom feed without
    articles) sends the run the full way, never to a site that lacks its feed."""
    from feeds.filters import CustomFeed, Filters

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, CORPUS_SIZE, seed=8)
    feeds = {"custom": (CustomFeed("none", "None", filters=Filters(type="x")),)}
    build_into(seeds, output, cache=cache, limit=10, **feeds)
    _damage(cache, GROUP_LOSSES[lost])
    record = "webUrl: https://x.example/new\ntitle: New\npublishedDateTime: 2024-05-20"
    write_record(seeds, "new.md", record)  # in no topic, by no provider: no group it is in lost
    report = build_into(seeds, output, cache=cache, limit=10, **feeds)
    assert not report.notices
    assert_same_as_clean_build(seeds, output, tmp_path, "lost-group", **feeds)


FOLDER_DAMAGES: dict[str, str] = {
    "digests garbled": "UPDATE folders SET digest = x'00'",
    "digests forgotten": "DELETE FROM folders",
    "folders renamed": "UPDATE folders SET folder = folder || 'x'",
}


@pytest.mark.parametrize("damage", FOLDER_DAMAGES, ids=list(FOLDER_DAMAGES))
def test_a_damaged_folder_digest_costs_a_comparison_never_a_change(
    built: tuple[Path, Path, Path], tmp_path: Path, damage: str
) -> None:
    """A folder whose digest is unchanged is not compared file by file: a damaged digest makes
    its folder compared, so no change goes unseen, and the run writes the digest again."""
    seeds, output, cache = built
    database = _damage(cache, FOLDER_DAMAGES[damage])
    edit(seeds, 3)
    report = build_into(seeds, output, cache=cache, limit=10)
    assert (report.parsed, report.notices) == (1, ())
    assert_same_as_clean_build(seeds, output, tmp_path, "folders")
    (clean,) = (tmp_path / "clean-cache-folders").glob("*.sqlite")
    assert _folders(database) == _folders(clean) != []


def _damage(cache: Path, statement: str) -> Path:
    """Run `statement` on the cache's database; the database."""
    (database,) = cache.glob("*.sqlite")
    with sqlite3.connect(database) as db:
        db.execute(statement)
    return database


def _folders(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT folder, digest FROM folders ORDER BY 1").fetchall()


def _members(database: Path) -> list[tuple[object, ...]]:
    """Every group's members, as the index has them (but for the groups' numbers)."""
    with sqlite3.connect(database) as db:
        query = "SELECT url, time, day, path, i, j, content FROM members ORDER BY 1, 2, 7"
        return db.execute(query).fetchall()


def test_an_index_that_points_at_outlines_the_cache_lost_is_left_for_the_full_way(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A run after a few changes decodes an unchanged article only to make its item; when its
    stored outline is spoiled and its item gone, the run goes the full way (which reads such
    records again), never publishes without it."""
    seeds, output, cache = built
    (database,) = cache.glob("*.sqlite")
    edited = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.md"))[2]
    with sqlite3.connect(database) as db:
        db.execute("UPDATE files SET outcome = substr(outcome, 1, 10) WHERE path != ?", (edited,))
    shutil.rmtree(item_store(cache))
    edit(seeds, 2)
    report = build_into(seeds, output, cache=cache, limit=10)
    # Every file read in this run: the edited one before the run went the full way, then each
    # spoiled record again.
    assert report.parsed == CORPUS_SIZE
    assert_same_as_clean_build(seeds, output, tmp_path, "lost-outlines")


def test_a_database_found_damaged_in_the_middle_of_a_run_keeps_no_half_record(
    built: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database found damaged while a run reads it is started afresh: what the run recorded
    before is gone, so it keeps no index of the records and records every output again; the
    runs after give a clean build's output."""
    from feeds.cache import Cache
    from feeds.filters import Filters

    seeds, output, cache = built
    read = Cache.outcomes

    def damaged_once(self: Cache, *args: Any) -> Any:
        monkeypatch.setattr(Cache, "outcomes", read)
        self._fail(sqlite3.DatabaseError("database disk image is malformed"))  # as if found
        return {}

    monkeypatch.setattr(Cache, "outcomes", damaged_once)
    # A filter on every feed: the run goes the full way (its files stay as they were: the
    # filter leaves every article in).
    settings: dict[str, Any] = {"limit": 10, "filters": Filters(topics_none=("No such",))}
    report = build_into(seeds, output, cache=cache, **settings)
    assert any("started afresh" in notice for notice in report.notices)
    for round_ in (3, 4):
        edit(seeds, round_)
        build_into(seeds, output, cache=cache, **settings)
        clean = tmp_path / f"clean-{round_}"
        build_into(seeds, clean, cache=tmp_path / f"cc-{round_}", **settings)
        assert files_of(output) == files_of(clean), round_


def test_the_item_store_of_earlier_versions_is_removed(tmp_path: Path) -> None:
    """Before one store per pair, a cache folder kept its items in `items/`: a third of a site's
    size that nothing reads any more."""
    seeds, cache = tmp_path / "seeds", tmp_path / "cache"
    write_corpus(seeds, CORPUS_SIZE, seed=8)
    (cache / "items").mkdir(parents=True)
    (cache / "items" / "2024-01-02.items").write_bytes(b"\0" * 64)
    build_into(seeds, tmp_path / "out", cache=cache, limit=10)
    assert not (cache / "items").exists()
    assert list(item_store(cache).glob("*.items")), "the pair's own store is where items are"
    # A `--cache` folder may hold other things: a folder of that name that is not only items
    # loses its items, and keeps the rest.
    (cache / "items").mkdir()
    (cache / "items" / "2024-01-02.items").write_bytes(b"\0" * 64)
    (cache / "items" / "notes.txt").write_text("mine")
    build_into(seeds, tmp_path / "out", cache=cache, limit=12)  # the full way again
    assert [p.name for p in (cache / "items").iterdir()] == ["notes.txt"]


def test_two_output_folders_sharing_a_cache_folder_keep_their_own_work(tmp_path: Path) -> None:
    """README: "each pair of seeds and output folders has its own database". The same seeds
    built into two output folders with different base URLs, through one cache folder, in turn:
    a run after the other folder's finds its own work done (it writes nothing), and each
    folder holds what a clean build of it gives; so also after an edit (each has its own item
    store, `items-<digest>`)."""
    seeds, shared = tmp_path / "seeds", tmp_path / "shared-cache"
    write_corpus(seeds, CORPUS_SIZE, seed=8)
    sites = {"a": "https://a.example.org/feeds/", "b": "https://news.example.net/"}

    def run(site: str) -> Report:
        return build_into(seeds, tmp_path / site, cache=shared, limit=10, base_url=sites[site])

    assert run("a").written and run("b").written
    assert len(list(shared.glob("*.sqlite"))) == 2, "one database for each pair"
    assert len(list(shared.glob("items-*"))) == 2, "and one item store: neither prunes the other"
    again = run("a")
    assert (again.written, again.parsed, again.notices) == ((), 0, ())
    assert b"https://a.example.org/feeds/" in (tmp_path / "a" / "all.rss.xml").read_bytes()
    for site in sites:
        assert_same_as_clean_build(seeds, tmp_path / site, tmp_path, site, base_url=sites[site])
    edit(seeds, 5)
    for site in ("b", "a"):
        report = run(site)
        assert report.parsed == 1 and report.written and report.notices == (), site
        assert_same_as_clean_build(
            seeds, tmp_path / site, tmp_path, f"{site}-edited", base_url=sites[site]
        )


def test_two_seeds_folders_alike_but_for_their_bytes_sharing_a_cache_and_an_output(
    tmp_path: Path,
) -> None:
    """The mirror case: one output folder, one cache folder, two seeds folders whose record
    files have the same names, sizes and mtimes but other titles. Built from one, the other,
    the first again and the second again: each time what a clean build of that folder gives,
    never the other's records."""
    first, second = tmp_path / "seeds-x", tmp_path / "seeds-y"
    write_corpus(first, CORPUS_SIZE, seed=3)
    shutil.copytree(first, second)
    swap = str.maketrans(
        string.ascii_lowercase + string.ascii_uppercase,
        string.ascii_uppercase + string.ascii_lowercase,
    )
    for record in sorted(second.rglob("*.md")):
        text = record.read_text()
        title = re.search(r"(?m)^title: (.*)$", text)
        assert title is not None
        record.write_text(text.replace(title[0], "title: " + title[1].translate(swap), 1))
        twin = (first / record.relative_to(second)).stat()
        os.utime(record, ns=(twin.st_atime_ns, twin.st_mtime_ns))
        assert (record.stat().st_size, record.stat().st_mtime_ns) == (
            twin.st_size,
            twin.st_mtime_ns,
        )
        assert record.read_bytes() != (first / record.relative_to(second)).read_bytes()
    output, shared = tmp_path / "output", tmp_path / "shared-cache"
    for round_, seeds in enumerate((first, second, first, second)):
        report = build_into(seeds, output, cache=shared, limit=10)
        assert report.written and report.notices == (), round_
        assert report.parsed == (CORPUS_SIZE if round_ < 2 else 0), "its own database's records"
        assert_same_as_clean_build(seeds, output, tmp_path, f"{seeds.name}-{round_}")


def test_a_cache_locked_for_less_than_the_wait_is_waited_for(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """README: another process holding the cache's lock "for more than 2 seconds" has it put
    aside; for less, the run waits and uses it: no word, and only the changed record is read.
    A connection of its own (as another process's) holds `BEGIN EXCLUSIVE` for half a second
    from before the build starts; the build ends after the lock is let go."""
    from feeds.cache import LOCK_WAIT

    seeds, output, cache = built
    (database,) = cache.glob("*.sqlite")
    hold = 0.5
    assert hold < LOCK_WAIT
    holding, released = threading.Event(), []

    def holder() -> None:
        db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        try:
            db.execute("BEGIN EXCLUSIVE")
            holding.set()
            time.sleep(hold)
            db.execute("ROLLBACK")
            released.append(time.monotonic())
        finally:
            db.close()

    edit(seeds, 6)
    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10), "the lock was never taken"
        report = build_into(seeds, output, cache=cache, limit=10)
        ended = time.monotonic()
    finally:
        thread.join()
    assert report.notices == ()
    assert report.parsed == 1, "the cache on disk was used: only the changed record is read"
    assert report.written
    assert ended >= released[0], "the build did not wait for the lock"
    assert_same_as_clean_build(seeds, output, tmp_path, "short-lock")
    again = build_into(seeds, output, cache=cache, limit=10)
    assert (again.notices, again.written, again.parsed) == ((), (), 0), "the cache kept the run"
