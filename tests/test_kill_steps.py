"""A build killed at every step boundary of publishing, in turn: every visible file is old or new
and parses, and the next run gives exactly what a clean build gives.

Deterministic fault injection: the build runs in a forked child whose file-system mutations
(`os.replace`, `os.unlink`, `os.rmdir`, `os.rename`) and cache writes are counted; the child
kills itself with SIGKILL just before step N. A first traced run lists the steps, and the kill
points are the first and last step of every run of steps of one kind, and one in the middle: each
boundary between publishing phases (manifest, staged renames, removals, sweep, final manifest,
cache), whatever their number.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feeds import Report
from feeds.cache import Cache
from feeds.paths import MANIFEST_PATH, RUNS_PATH
from feeds.synthetic import write_corpus
from tests.helpers import (
    BASE_URL,
    SEEDS,
    UNPOWERED,
    build_into,
    build_unpowered,
    can_drop_power,
    files_of,
    write_record,
)

STEPS: list[tuple[Any, str]] = [
    (os, "replace"),
    (os, "rename"),
    (os, "unlink"),
    (os, "rmdir"),
    (Cache, "store_outcomes"),
    (Cache, "store_outputs"),
    (Cache, "put"),
]
FINISHED, TRACED = 17, 18  # exit codes of a child that was not killed


def _in_child(run: Callable[[], object], kill_at: int | None, trace: Path | None) -> int:
    """Run `run` in a forked child that dies by SIGKILL before mutation number `kill_at` (or
    writes the list of its mutations to `trace`); the child's wait status."""
    pid = os.fork()
    if pid:
        return os.waitpid(pid, 0)[1]
    try:  # the child: never returns into pytest
        os.cpu_count = lambda: 1  # one process: every step is counted here
        seen: list[str] = []
        for owner, name in STEPS:
            real = getattr(owner, name)

            def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                seen.append(_kind(_name, args))
                if kill_at is not None and len(seen) == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
                return _real(*args, **kwargs)

            setattr(owner, name, counted)
        run()
        if trace is not None:
            trace.write_text(json.dumps(seen))
            os._exit(TRACED)
        os._exit(FINISHED)
    except BaseException:
        os._exit(1)


def _kind(name: str, args: tuple[Any, ...]) -> str:
    """What a step does, so that the boundaries between phases show: "replace manifest",
    "replace items", "replace feed", "unlink tmp", "unlink feed", "store_outputs", ..."""
    if name not in ("replace", "rename", "unlink", "rmdir"):
        return name
    target = str(args[-1] if name in ("replace", "rename") else args[0])
    marks = (".feeds-manifest", "manifest"), (".feeds-runs", "journal"), (".items", "items")
    for mark, what in (*marks, (".tmp", "tmp")):
        if mark in target:
            return f"{name} {what}"
    return f"{name} feed"


def kill_points(steps: list[str]) -> list[int]:
    """1-based step numbers: the first, middle and last of each run of steps of one kind."""
    points: set[int] = set()
    start = 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[start]:
            points.update({start + 1, (start + i + 1) // 2, i})
            start = i
    return sorted(points)


def visible(folder: Path) -> dict[str, bytes]:
    return {
        path: data
        for path, data in files_of(folder).items()
        if not any(part.startswith(".") for part in path.split("/"))
    }


def assert_each_file_is_old_or_new(
    output: Path, old: dict[str, bytes], new: dict[str, bytes]
) -> None:
    for path, data in visible(output).items():
        assert data in (old.get(path), new.get(path)), f"{path} is neither the old nor the new file"
        if path.endswith(".json"):
            json.loads(data)
        elif path.endswith((".rss.xml", ".atom.xml")):
            assert not feedparser.parse(data).bozo, path


def _scenario(tmp_path: Path, kind: str) -> tuple[Path, Callable[[Path, Path], Report]]:
    """Seeds whose build changes, adds and removes files (a topic disappears), or only changes
    some (`edits`: the manifest stays, the run's token goes to the journal); and the build."""
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 30, seed=4)
    shutil.copy(next(SEEDS.iterdir()), seeds)  # another month, another archive page
    gone = write_record(
        seeds, "gone.md", "title: Soon gone\nwebUrl: https://example.com/gone\n"
        "publishedDateTime: 2024-01-01T08:00:00Z\ntopics: [Vanishing]",
    )  # fmt: skip

    def run(output: Path, cache: Path) -> Report:
        return build_into(seeds, output, cache=cache, limit=5)

    if kind != "first-build":
        run(tmp_path / "old-output", tmp_path / "old-cache")
        if kind == "rebuild":
            gone.unlink()
        if kind == "rebuild":
            for path in sorted(seeds.glob("*.md"))[:4]:
                path.write_text(path.read_text().replace("title: ", "title: Edited: ", 1))
        else:
            gone.write_text(gone.read_text().replace("Soon gone", "Soon gone, edited"))
        if kind == "rebuild":
            write_corpus(seeds, 3, seed=5, start=900)
    else:
        (tmp_path / "old-output").mkdir()
        (tmp_path / "old-cache").mkdir()
    return seeds, run


@pytest.mark.parametrize("kind", ["rebuild", "first-build", "edits"])
def test_a_kill_at_every_step_boundary_leaves_old_or_new_files_and_the_next_run_converges(
    tmp_path: Path, kind: str
) -> None:
    _, run = _scenario(tmp_path, kind)
    old = visible(tmp_path / "old-output")
    run(tmp_path / "clean", tmp_path / "clean-cache")
    clean = files_of(tmp_path / "clean")
    new = visible(tmp_path / "clean")
    output, cache = tmp_path / "output", tmp_path / "cache"

    def restore() -> None:
        for folder in (output, cache):
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(tmp_path / f"old-{folder.name}", folder)

    restore()
    trace = tmp_path / "trace.json"
    status = _in_child(lambda: run(output, cache), None, trace)
    assert os.waitstatus_to_exitcode(status) == TRACED
    steps = json.loads(trace.read_text())
    assert {"replace feed", "store_outputs"} <= set(steps), steps
    assert kind != "rebuild" or "unlink feed" in steps, "a rebuild removes a vanished topic's files"
    if kind == "edits":  # no file to add to the manifest: it stays, the journal holds the token
        assert "replace journal" in steps and "replace manifest" not in steps, steps
    else:
        assert "replace manifest" in steps, steps
    points = kill_points(steps)
    assert len(points) >= 10
    for point in points:
        restore()
        status = _in_child(lambda: run(output, cache), point, None)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, point
        assert_each_file_is_old_or_new(output, old, new)
        report = run(output, cache)  # the next cron run
        assert files_of(output) == clean, f"killed before step {point} ({steps[point - 1]})"
        assert not report.refused, point


def test_kill_points_are_the_edges_and_middle_of_each_phase() -> None:
    steps = ["put", "replace", "replace", "replace", "replace", "unlink", "put"]
    assert kill_points(steps) == [1, 2, 3, 5, 6, 7]
    assert _kind("replace", ("x/.a.rss.xml.feeds-1.tmp", "x/a.rss.xml")) == "replace feed"
    assert _kind("unlink", ("x/.a.rss.xml.feeds-1.tmp",)) == "unlink tmp"


def test_a_foreign_manifest_is_not_obeyed(tmp_path: Path) -> None:
    """A manifest is only a file: names feeds never writes, or outside the output, are ignored
    with a warning and their files left alone."""
    output = tmp_path / "output"
    (output / "etc").mkdir(parents=True)
    (output / "etc" / "passwd").write_text("root:x:0:0")
    (tmp_path / "outside").write_text("keep me")
    (output / ".feeds-manifest.json").write_text(
        json.dumps({"files": ["etc/passwd", "../outside", "/etc/hostname", "all.rss.xml", 7]})
    )
    report = build_into(SEEDS, output, cache=tmp_path / "cache")
    assert (output / "etc" / "passwd").read_text() == "root:x:0:0"
    assert (tmp_path / "outside").read_text() == "keep me"
    assert (output / "all.rss.xml").exists()
    assert len(report.notices) == 1
    assert report.notices[0].endswith(
        "lists 4 name(s) that feeds never writes ('etc/passwd', '../outside', '/etc/hostname' …); "
        "they are ignored and their files left alone"
    )
    again = build_into(SEEDS, output, cache=tmp_path / "cache")
    assert again.notices == (), "the manifest feeds wrote lists only its own files"


def test_a_manifest_feeds_left_is_taken_as_it_is_and_one_changed_since_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking every name of a big site's manifest took most of the time spent reading it: the
    manifest the last run left (its digest is in the cache) is taken as it is. Any other bytes,
    a foreign name added by hand among them, are checked name by name again."""
    from feeds import publish

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=4)
    build_into(seeds, output, cache=cache, limit=5)
    manifest = output / ".feeds-manifest.json"
    names = json.loads(manifest.read_text())["files"]
    checked: list[str] = []
    real = publish.is_output_path
    monkeypatch.setattr(
        publish, "is_output_path", lambda path: bool(checked.append(path)) or real(path)
    )
    record = sorted(seeds.rglob("*.md"))[-1]

    def edit(title: str) -> Report:
        record.write_text(record.read_text().replace("title: ", f"title: {title} ", 1))
        return build_into(seeds, output, cache=cache, limit=5)

    assert edit("Edited").written
    assert len(checked) < len(names) / 2, "the names of the manifest feeds left are not checked"
    (output / "etc").mkdir()
    (output / "etc" / "passwd").write_text("root:x:0:0")
    listed = json.loads(manifest.read_text())["files"]
    manifest.write_text(json.dumps({"files": [*listed, "etc/passwd"], "runs": []}, indent=1))
    checked.clear()
    report = edit("Again")
    assert len(checked) >= len(listed), "a manifest feeds did not leave is checked name by name"
    (notice,) = report.notices
    assert "lists 1 name(s) that feeds never writes ('etc/passwd')" in notice
    assert (output / "etc" / "passwd").read_text() == "root:x:0:0"
    assert "etc/passwd" not in json.loads(manifest.read_text())["files"]


def test_a_planted_manifest_the_cache_vouches_for_still_removes_only_names_feeds_writes(
    tmp_path: Path,
) -> None:
    """The cache's digest of the manifest spares checking its names on reading, never before
    acting on one: with the manifest and the cache both planted, `etc/passwd` and a file
    outside the output folder stay."""
    import sqlite3

    from feeds import codec
    from feeds.publish import _digest, _ManifestText

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=4)
    build_into(seeds, output, cache=cache, limit=5)
    (output / "etc").mkdir()
    (output / "etc" / "passwd").write_text("root:x:0:0")
    (tmp_path / "outside").write_text("keep me")
    manifest = output / ".feeds-manifest.json"
    listed = json.loads(manifest.read_text())["files"]
    planted = _ManifestText(sorted([*listed, "etc/passwd", "../outside"]), [])
    manifest.write_bytes(b"".join(planted))
    (database,) = cache.glob("*.sqlite")
    with sqlite3.connect(database) as db:
        db.execute(
            "UPDATE meta SET value = ? WHERE key = 'manifest'", (codec.dump(_digest(planted)),)
        )
    record = sorted(seeds.rglob("*.md"))[-1]
    record.write_text(record.read_text().replace("title: ", "title: Edited ", 1))
    assert build_into(seeds, output, cache=cache, limit=5).written
    assert (output / "etc" / "passwd").read_text() == "root:x:0:0"
    assert (tmp_path / "outside").read_text() == "keep me"


def test_a_trusted_manifest_naming_a_folder_outside_gets_it_neither_swept_nor_emptied(
    tmp_path: Path,
) -> None:
    """The same at the publisher itself, with what a delta run gives it: a manifest the cache
    vouches for names a file outside the output folder, the cache records it, and the manifest
    lists a run's token, so that every folder of every name is swept of that run's temporary
    files. The folder outside keeps its files."""
    from feeds.publish import Publisher, _digest, _ManifestText

    output, victim = tmp_path / "output", tmp_path / "victim"
    output.mkdir()
    victim.mkdir()
    token = "0123456789abcdef"
    (victim / "a.xml").write_text("not feeds'")
    (victim / f".notes.feeds-{token}.tmp").write_text("not feeds' either")
    names = ["../victim/a.xml", "all.rss.xml"]
    planted = _ManifestText(names, [token])
    (output / ".feeds-manifest.json").write_bytes(b"".join(planted))
    recorded = {name: (b"", 10, 0) for name in names}
    publisher = Publisher(output, recorded, trusted=_digest(planted))
    publisher.keep_recorded(but={"all.rss.xml"})
    publisher.write("all.rss.xml", b"<rss/>")
    publisher.begin()
    publisher.finish()
    assert sorted(p.name for p in victim.iterdir()) == [f".notes.feeds-{token}.tmp", "a.xml"]
    assert (output / "all.rss.xml").read_bytes() == b"<rss/>"


def test_hidden_files_that_look_like_temporary_files_are_left_alone(tmp_path: Path) -> None:
    output = tmp_path / "output"
    build_into(SEEDS, output, cache=tmp_path / "cache")
    lookalikes = [
        output / ".all.rss.xml.abcdefgh.tmp",
        output / "topics" / ".ai.rss.xml.feeds-0123456789abcdef.x1y2z3.tmp",
    ]
    for path in lookalikes:
        path.write_text("a curator's own file")
    build_into(SEEDS, output, cache=tmp_path / "cache", base_url="https://moved.example/")
    assert all(path.read_text() == "a curator's own file" for path in lookalikes)


def test_a_first_build_into_a_folder_feeds_does_not_own_says_so(tmp_path: Path) -> None:
    output = tmp_path / "site"
    output.mkdir()
    (output / "about.html").write_text("<p>hello</p>")
    report = build_into(SEEDS, output, cache=tmp_path / "cache")
    assert report.notices == (
        f"{output} already holds files that feeds did not write: they are left alone, and a "
        "feed whose file name one of them takes is not written",
    )
    assert build_into(SEEDS, output, cache=tmp_path / "cache").notices == ()


@pytest.mark.parametrize(
    ("name", "torn"),
    [(".feeds-manifest.json", '{"files": ['), (".feeds-runs.json", '{"runs": ["0123')],
    ids=["manifest", "journal"],
)
def test_a_damaged_manifest_or_journal_costs_a_notice_and_freezes_nothing(
    tmp_path: Path, name: str, torn: str
) -> None:
    """A torn manifest, or a torn journal (which only a killed run leaves): said once, the run
    goes on (files whose size and mtime are still those the cache recorded are recognized as
    ours), and the next run is quiet."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=4)
    build_into(seeds, output, cache=cache, limit=5)
    (output / name).write_text(torn)
    record = sorted(seeds.rglob("*.md"))[-1]
    record.write_text(record.read_text().replace("title: ", "title: Edited ", 1))
    report = build_into(seeds, output, cache=cache, limit=5)
    assert report.written and report.refused == ()
    (notice,) = report.notices
    assert f"{name} cannot be read" in notice
    assert not (output / ".feeds-runs.json").exists()
    assert build_into(seeds, output, cache=cache, limit=5).notices == ()
    build_into(seeds, tmp_path / "clean", cache=tmp_path / "clean-cache", limit=5)
    assert files_of(output) == files_of(tmp_path / "clean")


@pytest.mark.parametrize("damage", ["another-token", "not-a-token", "cut-short", "deleted"])
def test_a_killed_runs_temporary_files_go_whatever_became_of_its_journal(
    tmp_path: Path, damage: str
) -> None:
    """A run killed once its files are staged leaves them beside their targets; the journal
    names its token, and so does the cache (`build.RUNS_BEGUN`). The journal lost or damaged,
    the next run still sweeps them: by the cache's token, or by their names when the journal is
    damaged (it may have named any run)."""
    _, run = _scenario(tmp_path, "first-build")
    output, cache = tmp_path / "output", tmp_path / "cache"
    trace = tmp_path / "trace.json"
    assert os.waitstatus_to_exitcode(_in_child(lambda: run(output, cache), None, trace)) == TRACED
    first_rename = json.loads(trace.read_text()).index("replace feed") + 1
    shutil.rmtree(output)
    shutil.rmtree(cache)
    status = _in_child(lambda: run(output, cache), first_rename, None)
    assert os.WIFSIGNALED(status)
    assert any(name.endswith(".tmp") for name in files_of(output)), "a killed run's files"
    journal = output / RUNS_PATH
    (token,) = json.loads(journal.read_text())["runs"]
    if damage == "deleted":
        journal.unlink()
    elif damage == "cut-short":
        journal.write_text(journal.read_text()[:20])
    else:
        other = "0123456789abcdef" if damage == "another-token" else "not a token"
        journal.write_text(journal.read_text().replace(token, other))
    # A folder named like a temporary file is nobody's file to remove: left, never an error.
    (output / f".a-folder.feeds-{'f' * 16}.tmp").mkdir()
    run(output, cache)
    (output / f".a-folder.feeds-{'f' * 16}.tmp").rmdir()
    run(tmp_path / "clean", tmp_path / "clean-cache")
    assert files_of(output) == files_of(tmp_path / "clean")


@pytest.mark.skipif(not can_drop_power, reason="needs root and setpriv to drop file powers")
def test_a_killed_runs_file_that_cannot_be_swept_exits_3_naming_it(tmp_path: Path) -> None:
    """Its folder now read-only (another user's): the run says which file and why (exit 3, not
    "a bug"), keeps the killed run on record, and the next run with the folder writable sweeps
    it."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(SEEDS, seeds)
    build_unpowered(seeds, output, cache)
    token = "0123456789abcdef"
    (output / RUNS_PATH).write_text(json.dumps({"files": [], "runs": [token]}))
    leftover = output / "topics" / f".ai.rss.xml.feeds-{token}.tmp"
    leftover.write_text("half")
    config = tmp_path / "feeds.yaml"  # a new custom feed: this run writes nothing in topics/
    config.write_text(f"site:\n  base_url: {BASE_URL}\n"
                      "custom:\n  - title: Good ones\n    min_quality: 10\n")  # fmt: skip
    (output / "topics").chmod(0o555)
    try:
        command = [sys.executable, "-m", "feeds", "build", "--seeds", str(seeds), "--output",
                   str(output), "--cache", str(cache), "--config", str(config), "-q"]  # fmt: skip
        done = subprocess.run([*UNPOWERED, *command], capture_output=True, text=True, check=False)
    finally:
        (output / "topics").chmod(0o755)
    assert done.returncode == 3, done.stderr
    assert (
        done.stderr == f"feeds: output not writable: cannot remove {leftover}: Permission denied\n"
    )
    subprocess.run([*UNPOWERED, *command], capture_output=True, check=True)
    assert not leftover.exists()
    clean = {"--output": str(tmp_path / "clean"), "--cache": str(tmp_path / "clean-cache")}
    command = [clean.get(before, arg) for before, arg in zip(["", *command], command, strict=False)]
    subprocess.run(command, capture_output=True, check=True)
    assert files_of(output) == files_of(tmp_path / "clean")


@pytest.mark.parametrize("count", [0, 1, 4096, 4097, 9000])
def test_the_manifest_is_indented_json_however_many_names_it_holds(count: int) -> None:
    """Written in pieces of a few thousand names, encoded in C: the same bytes as Python's
    indenting encoder gives, one name a line (a manifest reads well and diffs well)."""
    from feeds.publish import _ManifestText

    files = sorted(f"topics/t{i}/2024-05-{i % 28 + 1:02d}.rss.xml" for i in range(count))
    runs = ["0123456789abcdef"][: count % 2]
    expected = json.dumps({"files": files, "runs": runs}, indent=1) + "\n"
    assert b"".join(_ManifestText(files, runs)) == expected.encode()


@pytest.mark.parametrize(
    "odd", ['a "quoted" name', "back\\slash", "caf\u00e9", "tab\there", "new\nline"]
)
def test_a_name_json_must_escape_is_escaped_in_the_manifest(odd: str) -> None:
    """Only a damaged manifest or journal brings such a name (feeds writes none): the journal
    that names it again must still be JSON that gives the same name back."""
    from feeds.publish import _ManifestText

    files = ["all.rss.xml", odd, *(f"topics/t{i}.rss.xml" for i in range(5000))]
    expected = json.dumps({"files": files, "runs": []}, indent=1) + "\n"
    assert b"".join(_ManifestText(files, [])) == expected.encode()


def test_a_delta_run_rewrites_the_manifest_only_when_the_files_it_names_change(
    tmp_path: Path,
) -> None:
    """A run after a few changes keeps every other file of the last run without listing them
    one by one: the manifest stays untouched when the same files are produced, gains the
    files of a new topic, loses them (and they go) when the topic goes; each time it is the
    manifest a cold build leaves."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=5)
    build_into(seeds, output, cache=cache, limit=5)
    manifest = output / ".feeds-manifest.json"
    record = sorted(seeds.rglob("*.md"))[0]
    text = record.read_text()

    def build_and_compare() -> tuple[Report, int]:
        report = build_into(seeds, output, cache=cache, limit=5)
        assert report.parsed == 1 and report.written, "a delta run"
        clean, clean_cache = tmp_path / "clean", tmp_path / "clean-cache"
        shutil.rmtree(clean, ignore_errors=True)
        shutil.rmtree(clean_cache, ignore_errors=True)
        build_into(seeds, clean, cache=clean_cache, limit=5)
        assert files_of(output) == files_of(clean)
        return report, manifest.stat().st_mtime_ns

    before = manifest.stat().st_mtime_ns
    record.write_text(text.replace("title: ", "title: Edited - ", 1))
    report, after = build_and_compare()
    assert after == before and not report.removed, "the same files: the manifest stays"

    record.write_text(text.replace("topics:", "topics:\n- Zeppelin Studies", 1))
    report, after = build_and_compare()
    names = json.loads(manifest.read_text())["files"]
    assert "topics/zeppelin-studies.rss.xml" in names and names == sorted(names)

    record.write_text(text)
    report, _ = build_and_compare()
    assert "topics/zeppelin-studies.rss.xml" in report.removed
    assert not (output / "topics" / "zeppelin-studies.rss.xml").exists()
    assert "topics/zeppelin-studies.rss.xml" not in json.loads(manifest.read_text())["files"]


def test_a_deleted_manifest_is_written_again_by_a_run_with_nothing_else_to_do(
    tmp_path: Path,
) -> None:
    """The quick "nothing changed" look checked every recorded output but the manifest: it
    stayed gone until a run changed the files owned. A run that finds it gone goes the full
    way, which knows its files by the cache's record of them, and writes it again."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=4)
    build_into(seeds, output, cache=cache, limit=5)
    kept = files_of(output)
    (output / MANIFEST_PATH).unlink()
    report = build_into(seeds, output, cache=cache, limit=5)
    assert (report.refused, report.removed, report.notices) == ((), (), ())
    assert files_of(output) == kept
    assert build_into(seeds, output, cache=cache, limit=5).parsed == 0


def test_a_name_lost_from_the_manifest_is_a_file_feeds_no_longer_owns(tmp_path: Path) -> None:
    """A manifest still whole but without one of its names (edited by hand): feeds leaves that
    file alone and says so, also on a run that changes other feeds (a delta run keeps the
    manifest's files at once only when it names every file the cache recorded)."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=4)
    build_into(seeds, output, cache=cache, limit=5)
    record = sorted(seeds.rglob("*.md"))[-1]
    text = record.read_text()
    manifest = output / ".feeds-manifest.json"
    names = json.loads(manifest.read_text())["files"]
    lost = next(
        name
        for name in names
        if name.startswith("providers/") and name.split("/")[1].split("-")[0] not in text
    )
    manifest.write_text(json.dumps({"files": [n for n in names if n != lost], "runs": []}))
    before = (output / lost).read_bytes()
    record.write_text(text.replace("title: ", "title: Edited: ", 1))
    report = build_into(seeds, output, cache=cache, limit=5)
    assert report.parsed == 1 and report.written
    assert report.refused == (lost,)
    assert (output / lost).read_bytes() == before
    assert lost not in json.loads(manifest.read_text())["files"]


def test_a_foreign_file_removed_by_the_curator_is_replaced_at_the_next_run(
    tmp_path: Path,
) -> None:
    output, cache = tmp_path / "output", tmp_path / "cache"
    (output / "topics").mkdir(parents=True)
    (output / "topics" / "ai.rss.xml").write_text("hand-made")
    assert build_into(SEEDS, output, cache=cache).refused == ("topics/ai.rss.xml",)
    assert build_into(SEEDS, output, cache=cache).refused == ("topics/ai.rss.xml",), "still said"
    (output / "topics" / "ai.rss.xml").unlink()  # as the warning says
    report = build_into(SEEDS, output, cache=cache)
    assert (report.refused, report.written) == ((), ("topics/ai.rss.xml",))
    assert b"<rss" in (output / "topics" / "ai.rss.xml").read_bytes()


def test_a_run_killed_after_it_updated_the_index_is_made_good_even_after_more_changes(
    tmp_path: Path,
) -> None:
    """A run after a few changes updates the cache's index before it publishes. Killed between
    the two, its changes are in the index and not in the feeds: the next run, whatever else
    changed meanwhile, must not take the index's word for the feeds."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=4)
    build_into(seeds, output, cache=cache, limit=5)
    records = sorted(seeds.rglob("*.md"))
    records[3].write_text(records[3].read_text().replace("title: ", "title: First: ", 1))
    run = lambda: build_into(seeds, output, cache=cache, limit=5)  # noqa: E731
    for folder in (cache, output):
        shutil.copytree(folder, tmp_path / f"{folder.name}-before")
    trace = tmp_path / "trace.json"
    assert os.waitstatus_to_exitcode(_in_child(run, None, trace)) == TRACED
    steps = json.loads(trace.read_text())
    assert steps[: steps.index("replace manifest")].count("put") >= 2, "the index came first"
    for folder in (cache, output):
        shutil.rmtree(folder)
        shutil.copytree(tmp_path / f"{folder.name}-before", folder)
    status = _in_child(run, steps.index("replace manifest") + 1, None)  # before any file
    assert os.WIFSIGNALED(status), steps
    records[9].write_text(records[9].read_text().replace("title: ", "title: Second: ", 1))
    run()
    build_into(seeds, tmp_path / "clean", cache=tmp_path / "clean-cache", limit=5)
    assert files_of(output) == files_of(tmp_path / "clean")


_STAGED = re.compile(r"^\.(.+)\.feeds-([0-9a-f]{16})\.tmp$")


class Recorder:
    """One ordered log of what happens in the output folder and what makes it durable, by
    wrapping the functions that do it: files created (`create`), staged files done (`staged`),
    `fsync`s (by the path their file descriptor names), `syncfs` or `sync`, renames (with their
    target; for `syncfs`, the device flushed), folders made, removals, and the cache's record of
    the outputs (`cache`). Also the journal as each rename gives it its name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, output: Path) -> None:
        from feeds import files

        self.out = os.path.realpath(output)
        self.log: list[tuple[str, str, str]] = []  # appended from `files.flush`'s threads too
        self.journals: list[Any] = []
        real_open, real_fsync, real_replace = os.open, os.fsync, os.replace
        real_unlink, real_mkdir, real_sync = os.unlink, os.mkdir, os.sync
        real_stage, real_syncfs, real_store = files.stage, files._syncfs, Cache.store_outputs
        note, of_fd = self._note, self._of_fd

        def opened(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            fd = real_open(path, flags, *args, **kwargs)
            if flags & os.O_CREAT:
                note("create", of_fd(fd))
            return fd

        def fsynced(fd: Any) -> None:
            real_fsync(fd)
            note("fsync", of_fd(fd if isinstance(fd, int) else fd.fileno()))

        def replaced(src: Any, dst: Any, **kwargs: Any) -> None:
            source, target = os.path.realpath(src), os.path.realpath(dst)
            if target == os.path.join(self.out, RUNS_PATH):
                self.journals.append(json.loads(Path(source).read_bytes()))
            real_replace(src, dst, **kwargs)
            note("replace", source, target)

        def unlinked(path: Any, **kwargs: Any) -> None:
            where = os.path.realpath(path)
            real_unlink(path, **kwargs)
            note("unlink", where)

        def made(path: Any, *args: Any, **kwargs: Any) -> None:
            real_mkdir(path, *args, **kwargs)
            note("mkdir", os.path.realpath(path))

        def staged(temporary: str, *args: Any, **kwargs: Any) -> None:
            real_stage(temporary, *args, **kwargs)
            note("staged", os.path.realpath(temporary))

        def synced_fs(fd: int) -> int:
            done = real_syncfs(fd)  # type: ignore[misc]
            note("syncfs", of_fd(fd), str(os.fstat(fd).st_dev))  # the file system flushed
            return done

        def synced() -> None:
            real_sync()
            note("sync", "/")

        def stored(cache: Cache, *args: Any, **kwargs: Any) -> None:
            note("cache", "")
            real_store(cache, *args, **kwargs)

        monkeypatch.setattr(os, "cpu_count", lambda: 1)  # no worker process: all is seen here
        for owner, name, wrapper in [
            (os, "open", opened),
            (os, "fsync", fsynced),
            (os, "replace", replaced),
            (os, "unlink", unlinked),
            (os, "mkdir", made),
            (os, "sync", synced),
            (files, "stage", staged),
            (Cache, "store_outputs", stored),
            *([(files, "_syncfs", synced_fs)] if real_syncfs is not None else []),
        ]:
            monkeypatch.setattr(owner, name, wrapper)

    def _note(self, what: str, path: str, target: str = "") -> None:
        if what in ("syncfs", "sync", "cache") or os.path.commonpath([self.out, path]) == self.out:
            self.log.append((what, path, target))

    @staticmethod
    def _of_fd(fd: int) -> str:
        return os.readlink(f"/proc/self/fd/{fd}")

    def clear(self) -> None:
        self.log.clear()
        self.journals.clear()

    def syncs(self) -> list[str]:
        return [what for what, _, _ in self.log if what in ("syncfs", "sync")]


def assert_published_in_durable_order(
    recorder: Recorder, written: tuple[str, ...], listed_before: set[str]
) -> None:
    """The order the README's "a power cut after the flush leaves every file old or new" rests
    on, for every staged file: the journal naming the run's new files is on disk (flushed,
    renamed, its folder flushed) before the first staged file is created; each staged file is
    flushed (its own `fsync`, or one `syncfs` of the output's file system) after it is written
    and before it is renamed over its target; every folder a file was renamed into, and the
    folder holding each folder made, is flushed after those and before the manifest is
    replaced, the journal removed and the cache told; the new manifest is on disk before the
    journal goes."""
    log, out = recorder.log, recorder.out
    device = str(os.stat(out).st_dev)

    def first(what: str, path: str, target: str | None = None, after: int = -1) -> int:
        for i, (w, p, t) in enumerate(log):
            if i > after and w == what and p == path and target in (None, t):
                return i
        raise AssertionError(f"no {what} of {os.path.relpath(path, out)} in the log")

    def flushed(path: str, after: int, before: int) -> bool:
        return any(
            (w == "fsync" and p == path) or (w == "syncfs" and t == device) or w == "sync"
            for w, p, t in log[after + 1 : before]
        )

    temporaries = [p for w, p, _ in log if w == "staged"]
    assert temporaries, "nothing was staged"
    tokens = {_STAGED.fullmatch(os.path.basename(p)) for p in temporaries}
    assert None not in tokens and len({m.group(2) for m in tokens if m}) == 1, temporaries
    token = next(m.group(2) for m in tokens if m)

    # The journal, on disk before the first staged file is created, naming the run's files.
    journal = os.path.join(out, RUNS_PATH)
    journal_temporary = journal + ".tmp"
    journal_renamed = first("replace", journal_temporary, journal)
    assert first("fsync", journal_temporary) < journal_renamed
    journal_on_disk = first("fsync", out, after=journal_renamed)
    first_staged = min(first("create", p) for p in temporaries)
    assert journal_on_disk < first_staged, "a file is staged before the journal is on disk"
    (said,) = recorder.journals
    assert token in said["runs"], "the journal does not name the run's token"
    unlisted = set(written) - listed_before
    assert unlisted <= set(said["files"]), f"not in the journal: {unlisted - set(said['files'])}"

    # Each staged file: written, flushed, then renamed over its target.
    last_change: dict[str, int] = {}  # folder: the last rename into it, or folder made in it
    targets = []
    for temporary in temporaries:
        folder, name = os.path.split(temporary)
        target = os.path.join(folder, _STAGED.fullmatch(name).group(1))  # type: ignore[union-attr]
        done = first("staged", temporary)
        renamed = first("replace", temporary, target)
        assert first("create", temporary) < done < renamed, temporary
        assert flushed(temporary, done, renamed), (
            f"{os.path.relpath(target, out)} is renamed into place before its bytes are flushed"
        )
        last_change[folder] = max(last_change.get(folder, -1), renamed)
        targets.append(os.path.relpath(target, out))
    assert sorted(targets) == sorted(written), "every file written was staged, and only those"
    for i, (w, made, _) in enumerate(log):
        if w == "mkdir" and made != out:  # its entry in its parent is how the folder is found
            parent = os.path.dirname(made)
            last_change[parent] = max(last_change.get(parent, -1), i)

    # The folders, flushed before the manifest is replaced, the journal removed, the cache told.
    manifest = os.path.join(out, MANIFEST_PATH)
    later = {
        "the cache": first("cache", ""),
        "the journal's removal": first("unlink", journal),
    }
    if any(w == "replace" and t == manifest for w, _, t in log):
        later["the manifest"] = first("replace", manifest + ".tmp", manifest)
        assert first("fsync", manifest + ".tmp") < later["the manifest"]
        assert flushed(out, later["the manifest"], later["the journal's removal"]), (
            "the journal is removed before the new manifest is on disk"
        )
    assert max(last_change.values()) < min(later.values()), "a file is renamed after the rest"
    for folder, changed in sorted(last_change.items()):
        for step, at in later.items():
            assert flushed(folder, changed, at), (
                f"{os.path.relpath(folder, out)}/ is not flushed after its renames, before {step}"
            )


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names an fd's file by /proc")
@pytest.mark.parametrize("flush", ["fsync each", "syncfs"])
def test_the_journal_the_staged_files_and_the_folders_reach_the_disk_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flush: str
) -> None:
    """What "a power cut after the flush leaves every file old or new" rests on (README,
    "Running from cron"), for a first build of 60 records and a run after one record was
    edited: the order in which the steps reach the disk."""
    from feeds import files

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 60, seed=4)
    if flush == "syncfs":  # a cold build's way, at 60 records; the edit still syncs each file
        monkeypatch.setattr(files, "FSYNC_EACH_MAX", 50)
        # Only a head start, in a process of its own: the final `flush` is what is checked.
        monkeypatch.setattr(files.Writeback, "wrote", lambda self: None)
    recorder = Recorder(monkeypatch, output)

    first = build_into(seeds, output, cache=cache, limit=5)
    assert first.parsed == 60 and len(first.written) > 50
    assert bool(recorder.syncs()) == (flush == "syncfs"), recorder.syncs()
    assert_published_in_durable_order(recorder, first.written, set())

    listed = set(json.loads((output / MANIFEST_PATH).read_text())["files"])
    record = sorted(seeds.rglob("*.md"))[7]
    record.write_text(record.read_text().replace("title: ", "title: Edited: ", 1))
    recorder.clear()
    second = build_into(seeds, output, cache=cache, limit=5)
    assert second.parsed == 1 and second.written
    assert not recorder.syncs(), "a few files: an fsync each"
    assert_published_in_durable_order(recorder, second.written, listed)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names an fd's file by /proc")
def test_a_vanished_groups_files_are_gone_on_disk_before_the_manifest_forgets_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: "the files of vanished groups are removed; ...; the final manifest is written",
    in steps that each reach the disk before the next begins. A removal still in memory when
    the power goes comes back as a file the new manifest no longer names: feeds then never
    touches it again (a file it did not write), and the output is not a clean build's."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 30, seed=4)
    gone = write_record(
        seeds, "gone.md", "title: Soon gone\nwebUrl: https://example.com/gone\n"
        "publishedDateTime: 2024-01-01T08:00:00Z\ntopics: [Vanishing]",
    )  # fmt: skip
    build_into(seeds, output, cache=cache, limit=5)
    gone.unlink()
    recorder = Recorder(monkeypatch, output)
    report = build_into(seeds, output, cache=cache, limit=5)
    assert "topics/vanishing.rss.xml" in report.removed
    log, out = recorder.log, recorder.out
    manifest = os.path.join(out, MANIFEST_PATH)
    (replaced,) = [i for i, (w, _, t) in enumerate(log) if w == "replace" and t == manifest]
    for path in report.removed:
        where = os.path.join(out, path)
        (removed,) = [i for i, (w, p, _) in enumerate(log) if w == "unlink" and p == where]
        folder = os.path.dirname(where)
        assert any(
            (w == "fsync" and p == folder) or w in ("syncfs", "sync")
            for w, p, _ in log[removed + 1 : replaced]
        ), f"the removal of {path} is not on disk before the manifest forgets it"
