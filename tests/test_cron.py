"""Cron-grade regeneration: incremental equals full, kills leave old-or-new files, one run
at a time, owned files only, a full disk breaks nothing."""

from __future__ import annotations

import errno
import gc
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feeds.batches import Planned
from feeds.errors import OutputError
from feeds.lock import output_lock
from feeds.model import Article
from feeds.synthetic import write_corpus
from tests.helpers import BASE_URL, CORPUS, SEEDS, build_into, files_of, item_store, write_record


def feeds_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args], capture_output=True, text=True, check=False
    )


def published(folder: Path) -> dict[str, bytes]:
    """The feeds in `folder`, without hidden files (bookkeeping, a killed run's temporary files)."""
    return {
        path: data
        for path, data in files_of(folder).items()
        if not any(part.startswith(".") for part in path.split("/"))
    }


def edit_corpus(seeds: Path, rng: random.Random, start: int) -> None:
    """Random edits, additions and deletions, as curators make them."""
    records = sorted(seeds.rglob("*.md"))
    for path in rng.sample(records, 5):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("title: ", "title: Updated: ", 1), encoding="utf-8")
    for path in rng.sample(records, 3):
        path.unlink(missing_ok=True)
    write_corpus(seeds, rng.randrange(1, 6), seed=2, start=start)


def test_incremental_builds_equal_full_builds(tmp_path: Path) -> None:
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 150, seed=1)
    rng = random.Random(7)
    first = build_into(seeds, output, cache=cache)
    assert first.parsed == 150
    for round_ in range(4):
        edit_corpus(seeds, rng, start=1000 + 10 * round_)
        report = build_into(seeds, output, cache=cache)
        assert 0 < report.parsed <= 10, "only the changed files are read again"
        clean = tmp_path / f"clean-{round_}"
        build_into(seeds, clean, cache=tmp_path / f"clean-cache-{round_}")
        assert files_of(output) == files_of(clean)


def test_a_second_run_stops_at_once_while_one_holds_the_output(tmp_path: Path) -> None:
    output = tmp_path / "output"
    with output_lock(output):
        started = time.monotonic()
        result = feeds_cli("build", "--seeds", str(SEEDS), "--output", str(output))
        assert time.monotonic() - started < 10
    assert result.returncode == 4
    assert result.stderr == (
        f"feeds: another feeds build is writing to {output}; this one stops (try again later)\n"
    )
    assert not (output / "all.rss.xml").exists()
    # The lock went with its holder: the next run goes ahead.
    assert feeds_cli("build", "--seeds", str(SEEDS), "--output", str(output)).returncode == 0


def test_files_of_vanished_groups_go_and_foreign_files_stay(tmp_path: Path) -> None:
    seeds, output = tmp_path / "seeds", tmp_path / "output"
    shutil.copytree(SEEDS, seeds)
    (output / "topics").mkdir(parents=True)
    foreign = {"about.html": b"<p>the site's own page</p>", "topics/ai.rss.xml": b"hand-made"}
    for path, data in foreign.items():
        (output / path).write_bytes(data)
    report = build_into(seeds, output, cache=tmp_path / "cache")
    assert report.refused == ("topics/ai.rss.xml",)
    assert (output / "topics/ai.atom.xml").exists()
    record = next(seeds.iterdir())
    record.write_text(record.read_text().replace("  - Computer Vision\n", ""), encoding="utf-8")
    report = build_into(seeds, output, cache=tmp_path / "cache")
    assert sorted(report.removed) == [
        "topics/computer-vision.atom.xml",
        "topics/computer-vision.json",
        "topics/computer-vision.rss.xml",
    ]
    assert not (output / "topics/computer-vision.rss.xml").exists()
    assert {p: (output / p).read_bytes() for p in foreign} == foreign


@pytest.mark.parametrize(
    ("folder", "stand_in"), [("topics", "link"), ("topics", "file"), ("topics/ai", "file")]
)
def test_nothing_is_written_or_removed_through_a_link_or_a_file_in_an_output_folders_place(
    tmp_path: Path, folder: str, stand_in: str
) -> None:
    """An output folder (a group kind's, or a feed's archive) replaced by a link to a folder
    elsewhere, or by a file: nothing is written into it or removed from it, the run says so and
    publishes the rest; once it is gone, the next run makes the folder and its feeds again."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(CORPUS, seeds)
    build = partial(build_into, seeds, limit=1)  # AI's older items in its archive folder
    build(output, cache=cache)
    assert (output / "topics/ai").is_dir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Named like feeds' files: one of a topic that stays, one of a topic that goes.
    theirs = {"ai.rss.xml": b"theirs", "robotik.json": b"theirs too", "notes.txt": b"notes"}
    for name, data in theirs.items():
        (elsewhere / name).write_bytes(data)
    shutil.rmtree(output / folder)
    if stand_in == "link":
        (output / folder).symlink_to(elsewhere)
    else:
        (output / folder).write_bytes(b"not a folder")
    (seeds / "2020/robotik-heise.md").unlink()  # Robotik goes; AI and the others change
    report = build(output, cache=cache)
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == theirs
    assert report.refused and all(path.startswith(folder + "/") for path in report.refused)
    assert [n for n in report.notices if f"{output / folder} is a link or a file" in n]
    cold = tmp_path / "cold"
    build(cold, cache=tmp_path / "cold-cache")
    elsewhere_now = {p: d for p, d in published(cold).items() if not p.startswith(folder + "/")}
    assert {p: d for p, d in published(output).items() if p != folder} == elsewhere_now
    (output / folder).unlink()
    report = build(output, cache=cache)
    assert report.refused == () and published(output) == published(cold)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KB file system: room for one build of the seeds, not for much more."""
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)]
    if subprocess.run(command, check=False, capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_gives_a_clear_error_and_keeps_the_old_files(
    tmp_path: Path, tiny_disk: Path
) -> None:
    output, cache = tiny_disk / "output", tmp_path / "cache"
    build_into(SEEDS, output, cache=cache)
    before = files_of(output)
    fd = os.open(tiny_disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 4096):  # fill what is left
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    result = feeds_cli(
        *("build", "--seeds", str(SEEDS), "--output", str(output), "--cache", str(cache)),
        *("--base-url", "https://other.example/"),
    )
    assert result.returncode == 3
    assert result.stderr.startswith("feeds: output not writable: cannot write ")
    assert "No space left on device" in result.stderr
    assert files_of(output) == before, "every file is still the old one, whole"


def test_a_file_that_cannot_be_put_in_place_stops_the_run_and_the_next_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staged files are put in place many at once (each flushed, then renamed): one rename
    that fails (an I/O error) stops the run with an error naming the file, every file old or new
    and no temporary file left; the next run gives what a clean build gives."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 200, seed=3)
    build_into(seeds, output, cache=cache)
    old = published(output)
    edit_corpus(seeds, random.Random(5), start=5000)
    build_into(seeds, tmp_path / "reference", cache=tmp_path / "reference-cache")
    new = published(tmp_path / "reference")
    changed = sorted(path for path in new if new[path] != old.get(path))
    assert len(changed) > 20, "enough files to put many in place at once"
    failing = str(output / changed[len(changed) // 2])
    real_replace = os.replace

    def replace(source: str, target: str, **kwargs: Any) -> None:
        if os.fspath(target) == failing:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(source, target, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        with pytest.raises(OutputError, match=f"cannot write {re.escape(failing)}: "):
            build_into(seeds, output, cache=cache)
    for path, data in published(output).items():
        assert data in (old.get(path), new.get(path)), f"{path} is half-made"
    assert [p for p in files_of(output) if p.endswith(".tmp")] == [], "temporary files swept"
    build_into(seeds, output, cache=cache)
    assert published(output) == new


def test_killed_builds_leave_old_or_new_files_and_the_next_run_completes(tmp_path: Path) -> None:
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 300, seed=3)
    build_into(seeds, output, cache=cache)
    old = published(output)
    shutil.copytree(output, tmp_path / "old-output")
    shutil.copytree(cache, tmp_path / "old-cache")
    rng = random.Random(11)
    edit_corpus(seeds, rng, start=5000)
    build_into(seeds, tmp_path / "reference", cache=tmp_path / "reference-cache")
    new = published(tmp_path / "reference")
    assert new != old
    command = [
        *(sys.executable, "-m", "feeds", "build", "-q", "--seeds", str(seeds)),
        *("--output", str(output), "--base-url", BASE_URL, "--cache", str(cache)),
    ]
    kills = 0
    for attempt in range(12):
        for folder in (output, cache):  # every attempt starts from the old build
            shutil.rmtree(folder)
            shutil.copytree(tmp_path / f"old-{folder.name}", folder)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        for path, data in published(output).items():
            assert data in (old.get(path), new.get(path)), f"attempt {attempt}: {path} is half-made"
            if path.endswith(".json"):
                json.loads(data)
            elif path.endswith((".rss.xml", ".atom.xml")):
                assert not feedparser.parse(data).bozo, path
    assert kills >= 4, "the test must actually interrupt builds"
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert published(output) == new
    assert [p for p in files_of(output) if p.endswith(".tmp")] == [], "leftovers are cleaned up"


def test_a_damaged_item_store_changes_nothing(tmp_path: Path) -> None:
    """Serialized items are kept between runs, a file per archive month; a file cut short,
    filled with garbage or gone is a miss, and its items are made again."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 150, seed=3)
    build_into(seeds, output, cache=cache)
    rng = random.Random(11)
    for round_, damage in enumerate([lambda d: d[: len(d) // 2], lambda d: b"junk" * 99, None]):
        stored = sorted(item_store(cache).glob("*.items"))
        assert stored, "archive months keep their items"
        for path in stored:
            if damage:
                path.write_bytes(damage(path.read_bytes()))
            else:
                path.unlink()
        edit_corpus(seeds, rng, start=5000 + 10 * round_)
        build_into(seeds, output, cache=cache)
        clean = tmp_path / f"clean-{round_}"
        build_into(seeds, clean, cache=tmp_path / f"clean-cache-{round_}")
        assert files_of(output) == files_of(clean)


def test_the_kept_report_names_no_file_and_the_next_runs_say_the_same(tmp_path: Path) -> None:
    """The cache keeps the report as a run with nothing to do says it (all files unchanged),
    not the names of every file a cold build wrote: the run after it would decode them all."""
    from feeds import codec
    from feeds.cache import Cache

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 40, seed=2)
    cold = build_into(seeds, output, cache=cache)
    files = len(cold.written)
    kept = Cache(cache, seeds, output)
    try:
        stored = codec.report_from_plain(kept.get("report"))
    finally:
        kept.close()
    assert (stored.written, stored.unchanged) == ((), files)
    for _ in range(2):
        again = build_into(seeds, output, cache=cache)
        assert (again.written, again.unchanged, again.parsed) == ((), files, 0)
        assert (again.records, again.accepted, again.problems) == (40, 40, cold.problems)
        assert again.summary().endswith(f" 0 written, {files} unchanged (nothing changed)")


def test_a_run_after_a_few_changes_fsyncs_what_it_wrote_and_flushes_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Durable without waiting for the rest of the file system: each new file and each folder
    renamed into is fsynced (many at once), no `sync` or `syncfs` (which would wait for
    whatever else the machine wrote); a cold build of many files flushes its file system once."""
    from feeds import files

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 60, seed=12)
    synced: list[str] = []
    real_fsync = os.fsync
    whole: list[int] = []

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(files, "_syncfs", lambda fd: whole.append(fd) or 0)
    monkeypatch.setattr(os, "sync", lambda: pytest.fail("os.sync flushes every file system"))
    monkeypatch.setattr(files, "FSYNC_EACH_MAX", 50)
    # The head start, a process of its own: here one that notes which folder it was given.
    started = tmp_path / "head-starts"
    say = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')"
    monkeypatch.setattr(files, "WRITEBACK_COMMAND", (sys.executable, "-c", say, str(started)))
    cold = build_into(seeds, output, cache=cache)
    assert len(cold.written) > 100 and len(whole) == 1, "a cold build: one syncfs, its own"
    folders = started.read_text().splitlines()
    assert folders and {Path(f) for f in folders} == {output}, "a head start every 50 files"
    monkeypatch.setattr(files, "FSYNC_EACH_MAX", 5_000)
    synced.clear()
    whole.clear()
    for record in sorted(seeds.rglob("*.md"))[:6]:
        record.write_text(record.read_text().replace("title: ", "title: Edited ", 1))
    report = build_into(seeds, output, cache=cache)
    assert len(report.written) > 16, "enough files to fsync them many at once"
    assert whole == []
    staged = [path for path in synced if ".feeds-" in path and path.endswith(".tmp")]
    assert len(staged) >= len(report.written), "each file written, before its rename"
    folders = {str((output / path).parent) for path in report.written}
    assert folders <= set(synced), "each folder renamed into"


def test_a_build_leaves_nothing_out_of_the_garbage_collectors_reach(tmp_path: Path) -> None:
    """A build freezes its articles out of the collector's sight while it runs (speed, and
    memory shared with forked workers); a program that builds again and again must get them back,
    with the lists of topics and the days' names its articles shared."""
    from feeds import model

    build_into(SEEDS, tmp_path / "out", cache=tmp_path / "cache")
    assert gc.get_freeze_count() == 0
    assert model._TOPIC_LISTS == {}
    assert model._DAYS == {}


def test_the_item_store_forgets_months_no_archive_shows(tmp_path: Path) -> None:
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 120, seed=5)
    old = write_record(
        seeds,
        "old.md",
        "title: An old story\nwebUrl: https://example.com/old\n"
        "publishedDateTime: 2023-05-04T10:00:00Z\ntopics: [AI]",
    )
    build_into(seeds, output, cache=cache)
    names = {p.name for p in item_store(cache).iterdir()}  # a file per day
    assert "2023-05-04.items" in names
    assert {name[:7] for name in names} == {"2023-05", "2024-01"}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}\.items", name) for name in names)
    old.unlink()
    build_into(seeds, output, cache=cache)
    assert {p.name[:7] for p in item_store(cache).iterdir()} == {"2024-01"}
    assert not (output / "all" / "2023-05.rss.xml").exists()


FORMATS = (b"rss", b"atom", b"json")  # the rests of an article's item keys


def test_the_item_store_finds_each_key_it_keeps_and_no_other(tmp_path: Path) -> None:
    """A day's index is searched by key: every kept key is found with its own item, a key that
    only begins like one (or that one begins like) is not, and an index written out of order
    (planted, with its checksum right) gives misses, never another key's item."""
    import zlib

    from feeds.itemstore import _HEADER, _RECORD, ItemStore

    rng = random.Random(4)
    keys = [rng.randbytes(32) + fmt for _ in range(300) for fmt in (b"rss", b"atom", b"json")]
    keys += [b"", b"a", b"ab", b"a" * 36, b"ab\0"]
    items = {key: f"item {i}".encode() * (i % 5 + 1) for i, key in enumerate(keys)}
    store = ItemStore(tmp_path)

    def get(day: str, key: bytes) -> bytes | None:  # the item of exactly that key
        return store.get_all(day, key, (b"",)).get(b"")

    store.put("2024-05-31", {**items, b"k" * 37: b"too long a key"})
    assert all(get("2024-05-31", key) == item for key, item in items.items())
    strangers = [b"abc", b"a" * 35, b"k" * 37, keys[0][:34], keys[0] + b"x", b"\xff" * 36]
    assert [get("2024-05-31", key) for key in strangers] == [None] * len(strangers)
    assert get("2024-06-01", keys[0]) is None, "a day with no file"
    rests = (b"", b"b", b"a" * 35, b"b\0", b"zzz", b"a" * 36)
    assert store.get_all("2024-05-31", b"a", rests) == {
        key[1:]: item for key, item in items.items() if key[:1] == b"a" and key[1:] in rests
    }, "each rest asked for that the file has, and only those"
    store.close()

    articles = [rng.randbytes(32) for _ in range(50)]  # each with an item in every format
    formats = {
        a: {f: b"<" + a[::-1] + f * (i % 3 + 1) + b">" for f in (b"rss", b"atom", b"json")}
        for i, a in enumerate(articles)
    }
    store.put("2024-06-02", {a + f: item for a in articles for f, item in formats[a].items()})
    assert all(store.get_all("2024-06-02", a, FORMATS) == formats[a] for a in articles)
    store.close()
    day = tmp_path / "2024-06-02.items"
    data = bytearray(day.read_bytes())
    data[data.index(formats[articles[0]][b"atom"])] ^= 0xFF  # one format's item damaged
    day.write_bytes(bytes(data))
    store = ItemStore(tmp_path)
    assert store.get_all("2024-06-02", articles[0], FORMATS) == {
        f: formats[articles[0]][f] for f in (b"rss", b"json")
    }, "a miss, and the others found"
    store.close()

    path = tmp_path / "2024-05-31.items"
    data = path.read_bytes()
    size = int.from_bytes(data[:_HEADER], "big") * _RECORD.size
    records = [data[_HEADER + i : _HEADER + i + _RECORD.size] for i in range(0, size, _RECORD.size)]
    shuffled = b"".join(rng.sample(records, len(records)))
    sealed = shuffled + zlib.crc32(shuffled).to_bytes(4, "big")
    path.write_bytes(data[:_HEADER] + sealed + data[_HEADER + size + 4 :])
    store = ItemStore(tmp_path)
    found = {key: get("2024-05-31", key) for key in items}
    store.close()
    assert all(got in (None, items[key]) for key, got in found.items())
    assert None in found.values(), "out of order, most keys are missed"


def test_items_added_to_a_day_join_the_ones_it_holds_and_a_damaged_one_is_not_kept(
    tmp_path: Path,
) -> None:
    """A delta run adds its changed articles' items to their day's file: the items it held are
    found as before (an item asked for again gets its new bytes), one whose bytes were damaged
    is left out (copied, it would get a checksum of its damaged bytes), and a day with no
    readable file gets nothing: it must be written whole."""
    from feeds.itemstore import ItemStore

    store = ItemStore(tmp_path)
    held = {bytes([i]) * 32 + b"rss": f"<item {i}/>".encode() for i in range(20)}
    store.put("2024-05-31", held)
    store.close()
    day = tmp_path / "2024-05-31.items"
    data = bytearray(day.read_bytes())
    data[data.index(b"<item 7/>") + 1] ^= 0xFF
    day.write_bytes(bytes(data))
    damaged = bytes([7]) * 32 + b"rss"
    new = {b"\xee" * 32 + b"rss": b"<new/>", bytes([3]) * 32 + b"rss": b"<item 3, again/>"}
    assert store.add("2024-05-31", new)
    expected = {**{k: v for k, v in held.items() if k != damaged}, **new}
    assert {k: store.get_all("2024-05-31", k, (b"",)).get(b"") for k in [*held, *new]} == {
        **dict.fromkeys(held),
        **expected,
    }
    store.close()
    assert not store.add("2024-06-01", new), "no file: nothing to add to"
    assert not (tmp_path / "2024-06-01.items").exists()
    (tmp_path / "2024-06-02.items").write_bytes(b"\0\0\0\0\0\0\0\x09 not an index")
    assert not store.add("2024-06-02", new), "a damaged index: nothing to add to"
    store.close()


def test_an_articles_items_far_apart_or_out_of_order_are_each_found_or_missed(
    tmp_path: Path,
) -> None:
    """`get_all` reads an article's items at once when they lie together, as `put` lays them
    out. A planted file may put them anywhere (megabytes apart, in any order, overlapping):
    each is still its own item or a miss."""
    import zlib

    from feeds.itemstore import _HEADER, _RECORD, ItemStore

    article, other = b"a" * 32, b"b" * 32
    filler = bytes(range(256)) * 8192  # 2 MB between two of the article's items
    layout = [(article + b"rss", b"<rss item>"), (other + b"rss", filler)]
    layout += [(article + b"json", b"<json item>"), (article + b"atom", b"<atom item>")]
    offsets, at = {}, 0
    for key, item in layout:
        offsets[key], at = at, at + len(item)
    records = b"".join(
        _RECORD.pack(len(key), key, offsets[key], len(item), zlib.crc32(item))
        for key, item in sorted(layout)
    )
    data = b"".join(item for _, item in layout)
    head = len(layout).to_bytes(_HEADER, "big") + records + zlib.crc32(records).to_bytes(4, "big")
    (tmp_path / "2024-05-31.items").write_bytes(head + data)
    store = ItemStore(tmp_path)
    assert store.get_all("2024-05-31", article, FORMATS) == {
        b"rss": b"<rss item>",
        b"json": b"<json item>",
        b"atom": b"<atom item>",
    }
    assert store.get_all("2024-05-31", other, FORMATS) == {b"rss": filler}
    store.close()


def test_a_pages_items_of_one_day_are_read_in_stretches_each_its_own_or_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`get_many` finds what `get_all` finds for each article, in the order asked, reading the
    day's file in a few stretches rather than once per article; a damaged item amid a stretch
    is a miss and its neighbours are found; a file cut short gives misses, not an error."""
    import feeds.itemstore as itemstore
    from feeds.itemstore import ItemStore

    rng = random.Random(7)
    articles = [rng.randbytes(32) for _ in range(200)]
    items = {
        a + fmt: b"<" + fmt + b" " + a.hex().encode() * rng.randint(1, 9) + b">"
        for a in articles
        for fmt in FORMATS
    }
    store = ItemStore(tmp_path)
    store.put("2024-05-31", items)
    asked = [*rng.sample(articles, 120), b"z" * 32]  # and one the day does not have
    wanted = [(a, rng.sample(FORMATS, rng.randint(1, 3))) for a in asked]
    reads = []
    real_pread = os.pread
    monkeypatch.setattr(itemstore.os, "pread", lambda *a: reads.append(a) or real_pread(*a))
    found = store.get_many("2024-05-31", wanted)
    monkeypatch.undo()
    assert found == [{f: items[a + f] for f in formats if a + f in items} for a, formats in wanted]
    assert found == [store.get_all("2024-05-31", a, formats) for a, formats in wanted]
    assert len(reads) <= 3, "the day's file (index included) in a few reads, not one per article"
    store.close()

    path = tmp_path / "2024-05-31.items"
    data = bytearray(path.read_bytes())
    damaged = articles[100] + b"atom"
    data[data.index(items[damaged]) + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    store = ItemStore(tmp_path)
    everything = [(a, FORMATS) for a in articles]
    found = store.get_many("2024-05-31", everything)
    store.close()
    expected = [{f: items[a + f] for f in FORMATS if a + f != damaged} for a in articles]
    assert found == expected, "only the damaged item is missed"

    path.write_bytes(bytes(data[: len(data) // 2]))  # its index whole, half its items gone
    store = ItemStore(tmp_path)
    found = store.get_many("2024-05-31", everything)
    store.close()
    pairs = zip(found, expected, strict=True)
    assert all(got.items() <= whole.items() for got, whole in pairs)
    assert 0 < sum(map(len, found)) < len(items) - 1, "the items still there found, no others"


@pytest.mark.parametrize("first", [b"\x00", b"\xff"], ids=["planted first", "planted last"])
def test_a_planted_day_file_gives_at_most_the_items_asked_for(tmp_path: Path, first: bytes) -> None:
    """Hundreds of records sharing an article's key, each with another ending, pointing at the
    whole file with its right checksum: a look-up still reads and returns only the formats it
    asks for, one each, never hundreds of copies of the file. (Placed before the real records,
    they hide them: misses, which only cost making the items again.)"""
    import zlib

    from feeds.itemstore import _HEADER, _RECORD, ItemStore

    article = b"a" * 32
    real = {fmt: b"<" + fmt + b" item>" for fmt in FORMATS}
    data = b"".join(real.values()) + bytes(512 * 1024)
    offsets = dict(zip(FORMATS, (0, 10, 21), strict=True))
    records = [
        (article + fmt, offsets[fmt], len(item), zlib.crc32(item)) for fmt, item in real.items()
    ]
    planted = (article + first + n.to_bytes(3, "big") for n in range(300))
    records += [(key, 0, len(data), zlib.crc32(data)) for key in planted]
    index = b"".join(_RECORD.pack(len(k), k, o, n, c) for k, o, n, c in sorted(records))
    head = len(records).to_bytes(_HEADER, "big") + index + zlib.crc32(index).to_bytes(4, "big")
    (tmp_path / "2024-05-31.items").write_bytes(head + data)
    store = ItemStore(tmp_path)
    found = store.get_all("2024-05-31", article, FORMATS)
    store.close()
    assert found == (real if first == b"\xff" else {})


def _corpus_articles(seeds: Path, count: int, seed: int) -> list[Article]:
    """The articles of a synthetic corpus written into `seeds`, read as a build reads them."""
    from feeds.ingest import ingest_file
    from feeds.scan import scan

    write_corpus(seeds, count, seed=seed)
    return [a for s in scan(seeds) for a in ingest_file(seeds, s.path).articles]


def _items_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, how many items feedgen serializes, a number per document (RSS and Atom made
    together count twice)."""
    import feeds.feedgen_writer as writer

    made: list[int] = []
    real = writer._generator

    def counting(doc: object, *, rss: bool | None) -> object:
        made.append(len(doc.items) * (2 if rss is None else 1))  # type: ignore[attr-defined]
        return real(doc, rss=rss)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "_generator", counting)
    return made


def test_unchanged_items_come_from_the_store_not_from_feedgen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run makes no item it already stored, and its pages are the same bytes."""
    from feeds.collect import collect
    from feeds.config import Config
    from feeds.itemstore import ItemStore
    from feeds.render import plan

    articles = _corpus_articles(tmp_path / "seeds", 120, seed=9)
    config = Config(base_url=BASE_URL)
    made = _items_made(monkeypatch)

    def run() -> dict[str, bytes]:
        store = ItemStore(tmp_path / "items")
        try:
            return {p.path: p.make() for p in plan(collect(articles), config, store)}
        finally:
            store.close()

    first = run()
    assert sum(made) >= 2 * len(articles), "the first run makes every RSS and Atom item"
    made.clear()
    assert run() == first
    assert sum(made) == 0, "no item made again: all came from the store"


@pytest.mark.parametrize("big", [True, False])
def test_a_full_build_of_a_big_archive_holds_one_formats_items_of_a_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    """A full build makes an archive month's files format by format (`build._make_batch`, as
    its workers do). Of a big archive (over `render.ONE_FORMAT_OVER` articles), while a month's
    files are made the items held are of one format: each is made once, with its other
    formats, which are kept in the store and taken from it when their files come; of a smaller
    one, every format's items of the month are held. Either way each item is made once, and the
    files are the bytes of a build without a store."""
    from feeds import render
    from feeds.build import _make_batch
    from feeds.collect import collect
    from feeds.config import Config
    from feeds.itemstore import ItemStore
    from feeds.render import plan

    articles = _corpus_articles(tmp_path / "seeds", 120, seed=9)
    assert len(articles) < render.ONE_FORMAT_OVER
    if big:
        monkeypatch.setattr(render, "ONE_FORMAT_OVER", len(articles) // 2)
    config = Config(base_url=BASE_URL, limit=10)
    made = _items_made(monkeypatch)
    held: list[set[str]] = []  # the formats of the items held, after each archive file

    class Stager:
        def __init__(self) -> None:
            self.files: dict[str, bytes] = {}

        def stage(self, path: str, data: bytes) -> bool:
            self.files[path] = data
            return True

    store = ItemStore(tmp_path / "items")
    try:
        batches: dict[object, list[Planned]] = {}
        shown: set[str] = set()  # the articles pages show, mentions in providers' feeds too
        for planned in plan(collect(articles), config, store):
            batches.setdefault(planned.batch, []).append(planned)
            shown.update(a.url for a in planned.page.articles if planned.page)
        renderer = next(iter(batches.values()))[0].maker.__self__  # type: ignore[attr-defined]

        def noting(planned: Planned) -> bytes:
            data: bytes = renderer.page_file(planned)
            held.append({fmt for _, fmt in renderer._made})
            return data

        stager = Stager()
        for batch in sorted(batches.values(), key=lambda batch: batch[0].stage):
            if batch[0].batch.month:
                batch = [replace(p, maker=noting) for p in batch]
            assert all(_make_batch(stager, batch))  # type: ignore[arg-type]
    finally:
        store.close()
    assert len(held) > 3 * len(config.formats)
    assert all(len(formats) == (1 if big else len(config.formats)) for formats in held)
    assert len(shown) > len(articles)
    assert sum(made) == 2 * len(shown), "each RSS and Atom item once"
    without_store = {p.path: p.make() for p in plan(collect(articles), config, None)}
    assert stager.files == without_store


def test_a_big_archive_made_one_format_at_a_time_is_the_same_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole build of a big archive (over `render.ONE_FORMAT_OVER` articles: its months made
    one format at a time) publishes the bytes a build that holds every format publishes."""
    from feeds import render

    seeds = tmp_path / "seeds"
    write_corpus(seeds, 150, seed=3)
    outputs, threshold = [], render.ONE_FORMAT_OVER
    assert threshold > 150
    for big in (False, True):
        monkeypatch.setattr(render, "ONE_FORMAT_OVER", 0 if big else threshold)
        output, cache = tmp_path / f"output-{big}", tmp_path / f"cache-{big}"
        build_into(seeds, output, cache=cache)
        outputs.append(published(output))
    assert outputs[0] == outputs[1] and len(outputs[0]) > 100


def test_an_item_kept_in_the_store_is_made_again_when_its_topic_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A topic's displayed name is its most common spelling, and every item of the topic says
    it: when one more record spelled the other way renames the topic, no item of the old name
    may come back from the store. Each article's key (what its item depends on) names its
    topics' names, looked up once per spelling: its items are made again, the pages are the
    bytes of a build without a store."""
    from dataclasses import replace

    from feeds.collect import collect
    from feeds.config import Config
    from feeds.itemstore import ItemStore
    from feeds.render import plan

    articles = _corpus_articles(tmp_path / "seeds", 40, seed=4)
    spelled = [*["Space Flight"] * 3, *["space flight"] * 2]
    renamed = [replace(a, topics=(name,)) for a, name in zip(articles, spelled, strict=False)]
    config = Config(base_url=BASE_URL, limit=10)  # the oldest, renamed, in the archive

    def pages(corpus: list[Article], store: ItemStore | None) -> dict[str, bytes]:
        return {p.path: p.make() for p in plan(collect(corpus), config, store)}

    store = ItemStore(tmp_path / "items")
    try:
        before = [*renamed, *articles[5:]]
        assert b">Space Flight</category>" in b"".join(pages(before, store).values())
        made = _items_made(monkeypatch)
        more = [replace(a, url=f"{a.url}?also", topics=("space flight",)) for a in articles[-2:]]
        after = [*before, *more]
        again = pages(after, store)
        assert sum(made) >= 2 * (len(spelled) + len(more)), "the renamed topic's items, again"
    finally:
        store.close()
    assert again == pages(after, None)
    assert b">space flight</category>" in b"".join(again.values())
    assert b"Space Flight" not in b"".join(again.values())


def test_a_forked_worker_never_holds_the_output_lock_past_its_build(tmp_path: Path) -> None:
    """A render worker that outlives its build (killed while the worker finished a batch) must
    not make the next run exit as if another build were writing."""
    output = tmp_path / "output"
    ready, started = os.pipe()
    with output_lock(output):
        worker = os.fork()
        if worker == 0:  # the worker: forked (its fork handlers ran), busy after its build
            os.write(started, b"x")
            time.sleep(5)
            os._exit(0)
        os.read(ready, 1)
    os.close(ready)
    os.close(started)
    try:
        with output_lock(output):  # the next build gets the lock at once
            pass
    finally:
        os.kill(worker, signal.SIGKILL)
        os.waitpid(worker, 0)


def test_a_killed_run_never_leaves_a_stale_lock(tmp_path: Path) -> None:
    """README, "One at a time": the lock is held by the running process itself, so a run killed
    while it holds the output folder (`kill -9`) does not make the next run exit 4, and the next
    run gives what a clean build gives."""
    from feeds.errors import LockHeld

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 2000, seed=13)
    command = [
        *(sys.executable, "-m", "feeds", "build", "-q", "--seeds", str(seeds)),
        *("--output", str(output), "--base-url", BASE_URL, "--cache", str(cache)),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        journal = output / ".feeds-runs.json"  # written under the lock, before any file
        while not journal.exists():
            assert process.poll() is None, "the build ended before it began publishing"
            assert time.monotonic() < deadline, "the build never began publishing"
            time.sleep(0.005)
        with pytest.raises(LockHeld), output_lock(output):  # it holds the output: proven
            pass
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "killed mid-run, not finished"
    assert journal.exists(), "killed while publishing"
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert (finished.stdout, finished.stderr) == ("", ""), "-q: all is well, nothing to say"
    clean = tmp_path / "clean"
    build_into(seeds, clean, cache=tmp_path / "clean-cache")
    after = files_of(output)
    assert [p for p in after if p.endswith(".tmp")] == [], "no temporary file is left"
    assert sorted(after) == sorted(files_of(clean))
    assert after == files_of(clean)


def _stats(folder: Path) -> dict[str, tuple[int, int]]:
    """(mtime in ns, inode) of every file under `folder`, by its relative path."""
    stats = {path: (folder / path).stat() for path in files_of(folder)}
    return {path: (stat.st_mtime_ns, stat.st_ino) for path, stat in stats.items()}


def test_a_file_whose_bytes_did_not_change_is_not_rewritten(tmp_path: Path) -> None:
    """README, "Quiet when nothing changed": a file whose bytes did not change keeps its mtime
    (and its inode: it was not replaced by a copy of itself), after an edit and after the cache
    was lost."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 120, seed=17)
    build_into(seeds, output, cache=cache)
    before, stats = files_of(output), _stats(output)
    time.sleep(0.05)  # a rewrite now would show in the mtime, however coarse the clock
    record = sorted(seeds.rglob("*.md"))[7]
    record.write_text(record.read_text().replace("title: ", "title: Edited ", 1))
    report = build_into(seeds, output, cache=cache)
    after, stats_after = files_of(output), _stats(output)
    assert sorted(after) == sorted(before)
    changed = sorted(path for path in after if after[path] != before[path])
    assert changed and all(b"Edited " in after[p] for p in changed if p.endswith(".xml")), (
        "the edit shows in the files that changed"
    )
    assert sorted(report.written) == [p for p in changed if not p.startswith(".")]
    kept = [path for path in after if after[path] == before[path]]
    assert len(kept) > len(changed)
    assert {p: stats_after[p] for p in kept} == {p: stats[p] for p in kept}
    assert all(stats_after[p] != stats[p] for p in changed), "a changed file is a new file"

    time.sleep(0.05)
    shutil.rmtree(cache)  # the cache is only a cache: the next run reads every record again
    report = build_into(seeds, output, cache=cache)
    assert report.parsed == 120
    assert report.written == ()
    assert files_of(output) == after, "the same bytes"
    assert _stats(output) == stats_after, "and not one file rewritten"


def test_a_first_build_makes_its_output_folder_durably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files of a first build are flushed into their folders; the output folder itself, and
    each folder made to hold it, is flushed into its parent, so a power cut cannot take the
    whole site away. A build into a folder that is there flushes none of its parents."""
    real_fsync = os.fsync
    flushed: list[str] = []

    def fsync(fd: int) -> None:
        real_fsync(fd)
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", fsync)
    base = os.path.realpath(tmp_path)
    output = tmp_path / "site" / "public" / "feeds"
    build_into(SEEDS, output, cache=tmp_path / "cache")
    parents = [base, f"{base}/site", f"{base}/site/public"]
    assert [path for path in flushed if path in parents] == parents, "outermost first"
    flushed.clear()
    build_into(SEEDS, output, cache=tmp_path / "cache", base_url="https://other.example/")
    assert flushed, "the second build wrote files"
    assert not set(flushed) & set(parents)
