"""What a seeds folder may hold besides records: FIFOs, sockets, looping links, names that are not
UTF-8, files that cannot be read for now. Each is reported, none stops or hangs the build, and a
file that could not be read is read again on the next run."""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import ConfigError
from feeds.synthetic import write_corpus
from tests.helpers import SEEDS, build_into, build_unpowered, can_drop_power, files_of, write_record

SEED = next(SEEDS.iterdir())


@pytest.fixture
def odd_seeds(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds)
    os.mkfifo(seeds / "fifo.md")  # opening it for reading would wait for a writer, forever
    os.mkfifo(seeds / "pipe.bin")  # not named like a record: ignored without a word
    (seeds / "loop-a.md").symlink_to("loop-b.md")
    (seeds / "loop-b.md").symlink_to("loop-a.md")
    (seeds / "dangling.yaml").symlink_to("nowhere.yaml")
    (seeds / os.fsdecode(b"caf\xe9.md")).write_bytes(SEED.read_bytes())  # Latin-1 name
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(seeds / "socket.md"))
    return seeds


EXPECTED = [
    "caf\\xe9.md: error: has a name that is not UTF-8; rename it to read it",
    "dangling.yaml: error: cannot be read: No such file or directory",
    "fifo.md: warning: is a FIFO, not a regular file; skipped without opening it",
    "loop-a.md: error: cannot be read: Too many levels of symbolic links",
    "loop-b.md: error: cannot be read: Too many levels of symbolic links",
    "socket.md: warning: is a socket, not a regular file; skipped without opening it",
]


@pytest.mark.parametrize("command", ["build", "check"])
def test_odd_entries_are_reported_and_never_opened(
    odd_seeds: Path, tmp_path: Path, command: str
) -> None:
    args = [sys.executable, "-m", "feeds", command, "--seeds", str(odd_seeds)]
    if command == "build":
        args += ["--output", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:-1] == EXPECTED
    assert lines[-1].startswith(
        "8 files (3 ignored, 1 parsed): 5 records, 1 accepted, 4 rejected, 0 duplicates"
    )
    assert result.returncode == (1 if command == "check" else 0)


def test_the_feeds_of_odd_seeds_are_those_of_the_readable_records(
    odd_seeds: Path, tmp_path: Path
) -> None:
    report = build_into(odd_seeds, tmp_path / "odd", cache=tmp_path / "c1")
    assert (report.files_read, report.files_ignored, report.rejected) == (8, 3, 4)
    build_into(SEEDS, tmp_path / "plain", cache=tmp_path / "c2")
    odd, plain = files_of(tmp_path / "odd"), files_of(tmp_path / "plain")
    assert {p: d for p, d in odd.items() if not p.startswith(".")} == {
        p: d for p, d in plain.items() if not p.startswith(".")
    }


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_link_to_a_folder_is_not_followed_and_said_on_every_run(
    tmp_path: Path, command: str
) -> None:
    """A link may lead back up the tree (a cycle) or out of it (to `/`): it is not followed,
    and the curator is told on every run, whatever changed since."""
    seeds, elsewhere = tmp_path / "seeds", tmp_path / "elsewhere"
    (seeds / "news").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(SEED, seeds / "news")
    write_record(
        elsewhere,
        "linked.md",
        "title: Only behind a link\nwebUrl: https://example.com/linked\n"
        "publishedDateTime: 2023-05-04T10:00:00Z\ntopics: [Linked folders]",
    )
    (seeds / "news" / "up").symlink_to("..")  # a cycle, if it were followed
    (seeds / "shared").symlink_to(elsewhere)
    args = [sys.executable, "-m", "feeds", command, "--seeds", str(seeds)]
    if command == "build":
        args += ["--output", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]
    said = [
        f"feeds: warning: {link} in the seeds folder is a link to a folder, which feeds does not "
        "follow (a link may lead back up the tree, or out of it): the records in it are not "
        "read; move or copy them into the seeds folder"
        for link in ("news/up", "shared")
    ]
    for _ in range(2):  # the second run has nothing else to do
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[:-1] == said
        assert lines[-1].startswith("1 file (0 ignored, ")
    if command == "build":
        published = files_of(tmp_path / "out")
        assert b"Only behind a link" not in published["all.rss.xml"]
        assert not any(path.startswith("topics/linked") for path in published)


def test_odd_entries_do_not_send_the_runs_after_a_change_the_full_way(
    odd_seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FIFO, a socket, a link to nowhere or a name that is not UTF-8 is skipped as the scan
    finds it: a run after a few new records, or after such an entry comes or goes, reads only
    what changed, says every skipped entry's problem again, and counts as a build from scratch
    does."""
    from feeds.cache import Cache

    write_corpus(odd_seeds / "news", 40, seed=3)
    output, cache = tmp_path / "out", tmp_path / "cache"
    build_into(odd_seeds, output, cache=cache)

    def refuse(*args: object) -> None:
        raise AssertionError("the full way: every record's outcome decoded")

    changes: list[Callable[[], object]] = [
        lambda: write_corpus(odd_seeds / "news", 2, seed=4, start=100),
        lambda: os.mkfifo(odd_seeds / "news" / "late-fifo.md"),
        lambda: (odd_seeds / "loop-a.md").unlink(),  # loop-b.md now points to nowhere
        lambda: (odd_seeds / "news" / "late-fifo.md").unlink(),
        # Nothing but why an entry is skipped changes: said as it is now.
        lambda: (odd_seeds / "fifo.md").unlink() or _socket_at(odd_seeds / "fifo.md"),
        # A name that is not UTF-8, shown with an escape: said in the scan's order.
        lambda: (odd_seeds / os.fsdecode(b"\xfe.md")).write_bytes(SEED.read_bytes()),
    ]
    for step, change in enumerate(changes):
        change()
        with monkeypatch.context() as patch:
            patch.setattr(Cache, "outcomes", refuse)
            report = build_into(odd_seeds, output, cache=cache)
        clean = build_into(odd_seeds, tmp_path / f"clean-{step}", cache=tmp_path / f"c-{step}")
        assert files_of(output) == files_of(tmp_path / f"clean-{step}"), step
        counts = ("files_read", "files_ignored", "records", "accepted", "rejected", "duplicates")
        assert [getattr(report, n) for n in counts] == [getattr(clean, n) for n in counts], step
        assert report.problems == clean.problems, step
        assert [str(p) for p in report.recent] == [str(p) for p in clean.recent], step
        assert report.parsed == (2 if step == 0 else 0), step


def _socket_at(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))


def _as_nobody(run: Callable[[], object]) -> int:
    """Run `run()` in a forked child without root's power to read any file; its exit code.
    What the build imports late is imported first: nobody cannot read root's Python."""
    for module in ("feeds.itemstore", "feeds.render", "feeds.site"):
        importlib.import_module(module)
    pid = os.fork()
    if pid == 0:
        try:
            os.cpu_count = lambda: 1  # no worker pool: its modules would be imported late
            os.setgid(65534)
            os.setuid(65534)
            run()
            os._exit(0)
        except BaseException:
            traceback.print_exc()  # shown by pytest with the failure
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch users")
def test_a_file_that_could_not_be_read_is_read_again_once_it_can_be() -> None:
    """Fixing a file's permissions changes neither its size nor its mtime: the failure must not
    be remembered as the file's outcome."""
    with tempfile.TemporaryDirectory() as folder:  # pytest's own folders are root's only
        _read_again_once_it_can_be(Path(folder))


def _read_again_once_it_can_be(tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    seeds, output, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"
    seeds.mkdir()
    record = seeds / "record.md"
    shutil.copy(SEED, record)
    record.chmod(0o000)
    reports = tmp_path / "reports"
    reports.mkdir()
    reports.chmod(0o777)

    def build_and_keep_report() -> None:
        report = build_into(seeds, output, cache=cache)
        (reports / "first").write_text(f"{report.rejected} {report.rejections[0].message}")

    assert _as_nobody(build_and_keep_report) == 0
    assert (reports / "first").read_text() == "1 cannot be read: Permission denied"
    record.chmod(0o644)
    fixed = build_into(seeds, output, cache=cache)
    assert (fixed.accepted, fixed.rejected, fixed.parsed) == (1, 0, 1)
    assert (output / "topics" / "ai.rss.xml").exists()


@pytest.mark.skipif(not can_drop_power, reason="needs root, and setpriv")
def test_a_record_made_unreadable_leaves_the_feeds(tmp_path: Path) -> None:
    """`chmod 000` changes neither its size nor its mtime: its outcome was taken from the cache
    and it stayed in every feed, where a cold build rejects it. Its ctime moved. (Built as root
    without the power to read any file, as a user would.)"""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"
    record = seeds / "record.md"
    write_record(seeds, "other.md", "title: Other\nwebUrl: https://example.com/other\n"
                 "publishedDateTime: 2020-01-01T00:00:00Z\n")  # fmt: skip
    shutil.copy(SEED, record)

    seed_url = b"https://www.cnbc.com/"
    assert build_unpowered(seeds, output, cache)["records"] == {
        "found": 2,
        "accepted": 2,
        "rejected": 0,
        "duplicate": 0,
    }
    assert seed_url in (output / "all.rss.xml").read_bytes()
    record.chmod(0o000)
    report = build_unpowered(seeds, output, cache)
    assert report["records"] == {"found": 2, "accepted": 1, "rejected": 1, "duplicate": 0}
    assert report["rejections"][0]["message"] == "cannot be read: Permission denied"
    assert seed_url not in (output / "all.rss.xml").read_bytes()
    assert not (output / "topics" / "ai.rss.xml").exists()


def test_an_edit_that_puts_back_the_old_mtime_is_seen(tmp_path: Path) -> None:
    """`touch -r`, `cp -p`, `tar x`: a record edited to the same size, its old mtime put back.
    Its ctime moved (no program can set it)."""
    seeds = tmp_path / "seeds"
    record = write_record(seeds, "a.md", "title: Alpha\nwebUrl: https://example.com/a\n"
                          "publishedDateTime: 2020-01-01T00:00:00Z\n")  # fmt: skip
    build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    before = record.stat()
    record.write_text(record.read_text().replace("Alpha", "Gamma"))
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (record.stat().st_size, record.stat().st_mtime_ns) == (
        before.st_size,
        before.st_mtime_ns,
    )
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    assert report.parsed == 1
    assert b"<title>Gamma</title>" in (tmp_path / "out/all.rss.xml").read_bytes()


def test_a_seeds_folder_that_cannot_be_listed_stops_the_run_and_keeps_the_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting it as empty would remove every feed: the run stops, nothing is written."""
    seeds, output = tmp_path / "seeds", tmp_path / "out"
    (seeds / "news").mkdir(parents=True)
    shutil.copy(SEED, seeds / "news")
    build_into(seeds, output, cache=tmp_path / "cache")
    before = files_of(output)
    real = os.scandir

    def failing(path: Any = ".") -> Any:
        if Path(path) == seeds / "news":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", failing)
    with pytest.raises(ConfigError) as caught:
        build_into(seeds, output, cache=tmp_path / "cache")
    assert str(caught.value) == (
        f"the seeds folder '{seeds / 'news'}' cannot be read (Permission denied); nothing was "
        "written, the feeds stay as they were"
    )
    assert files_of(output) == before


def test_a_scan_knows_each_folders_own_files_and_their_digest(tmp_path: Path) -> None:
    """What lets a run compare only the folders that changed: each folder's own entries (a
    sub-folder's sit among them, by name), and a digest that moves with any of theirs only."""
    from feeds.scan import scan

    for name in ["a.md", "m/x.md", "m/n/y.md", "m/z.md", "q.md"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("---\ntitle: t\n---\n")
    found = scan(tmp_path)
    assert [s.path for s in found] == ["a.md", "m/n/y.md", "m/x.md", "m/z.md", "q.md"]
    assert {f: [s.path for s in found.in_folders([f])] for f in found.spans} == {
        "": ["a.md", "q.md"],
        "m": ["m/x.md", "m/z.md"],
        "m/n": ["m/n/y.md"],
    }
    assert [s.path for s in found.in_folders(["m", "m/n"])] == ["m/n/y.md", "m/x.md", "m/z.md"]
    before = found.digests()
    os.utime(tmp_path / "m/z.md", ns=(0, 10**18))
    after = scan(tmp_path).digests()
    assert {f for f in before if before[f] != after[f]} == {"m"}
    (tmp_path / "m/n/y.md").rename(tmp_path / "m/n/w.md")
    renamed = scan(tmp_path).digests()
    assert {f for f in after if after[f] != renamed[f]} == {"m/n"}


def test_a_folder_whose_name_is_not_utf8_is_reported_run_after_run(tmp_path: Path) -> None:
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(SEEDS, seeds)
    folder = seeds / os.fsdecode(b"caf\xe9")  # Latin-1: its files' paths cannot be shown as is
    folder.mkdir()
    shutil.copy(SEED, folder / "story.md")
    args = [sys.executable, "-m", "feeds", "build", "--seeds", str(seeds), "--output", str(output)]
    args += ["--cache", str(cache)]
    said = "caf\\xe9/story.md: error: has a name that is not UTF-8; rename it to read it"
    for round_, expected in enumerate([said, "feeds: 1 warning or rejection of unchanged"]):
        # The second run starts from what the first one kept in the cache.
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        assert (result.returncode, result.stderr) == (0, ""), round_
        assert result.stdout.startswith(expected), round_
    assert (output / "all.rss.xml").exists()


def test_a_record_that_grew_since_its_size_was_taken_is_read_in_a_few_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record file is read asking for its size and one byte more. One that said 0 (or was
    still being written when its size was taken) must not be read a byte at a time: its
    40,000 bytes in at most twenty reads, whole, and no more than the limit."""
    records = importlib.import_module("feeds.records")
    path = tmp_path / "growing.md"
    text = b"---\ntitle: Growing\n---\n" + b"x" * 40_000
    path.write_bytes(text)
    reads: list[int] = []
    real_read = os.read

    def counted(fd: int, size: int) -> bytes:
        reads.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(records.os, "read", counted)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert records._read_up_to(fd, 1_000_000, 1) == text  # as a size of 0 asks
        assert len(reads) <= 20, reads
        os.lseek(fd, 0, os.SEEK_SET)
        assert records._read_up_to(fd, 1_000, 1) == text[:1_000]
    finally:
        os.close(fd)
