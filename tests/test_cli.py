"""The `feeds` command as a user runs it: exact messages and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from feeds.cli import _parser, main
from feeds.synthetic import write_corpus
from tests.helpers import CORPUS, ROOT, SEEDS, ctrl_c_reaches_it, files_of, write_record

BAD = ROOT / "tests" / "bad_records"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m feeds ARGS` in a process of its own: for what crosses the process boundary
    (the entry point, exit statuses, signals)."""
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def invoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The same command in this process (`cli.main`), with its output captured: faster, for
    tests of what the command says and does."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse's usage errors
            code = e.code if isinstance(e.code, int) else 2
    return subprocess.CompletedProcess(["feeds", *args], code, out.getvalue(), err.getvalue())


def test_build_with_no_arguments_reads_seeds_and_writes_output(tmp_path: Path) -> None:
    (tmp_path / "seeds").symlink_to(SEEDS)
    result = run(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "1 file (0 ignored, 1 parsed): 1 record, 1 accepted, 0 rejected, 0 duplicates; "
        "5 feeds in 18 files, 18 written, 0 unchanged\n"
    )
    assert files_of(tmp_path / "output") == files_of(ROOT / "output")


def test_an_unchanged_rebuild_writes_nothing(tmp_path: Path) -> None:
    args = ["build", "--seeds", str(SEEDS), "--output", str(tmp_path)]
    assert invoke(*args).returncode == 0
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    result = invoke(*args)
    assert result.stdout.endswith("18 files, 0 written, 18 unchanged (nothing changed)\n")
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == mtimes


def test_rejections_are_printed_and_only_strict_fails(tmp_path: Path) -> None:
    args = ["--seeds", str(BAD), "--output", str(tmp_path), "-q"]
    relaxed = invoke("build", *args)
    assert relaxed.returncode == 0
    assert "missing-title.md: error: title: is missing or empty\n" in relaxed.stdout
    assert "warning" not in relaxed.stdout  # -q shows rejections only
    again = invoke("build", *args)  # nothing changed: said before, not again
    assert (again.returncode, again.stdout) == (0, "")
    # Exit 1 names its reason, also when every rejected file is as the last run left it (it
    # said nothing, the exit alone in cron's mail).
    strict = invoke("build", "--strict", *args)
    assert strict.returncode == 1
    assert strict.stdout == relaxed.stdout
    assert len(strict.stdout.splitlines()) == 23


def test_a_problem_is_one_line_whatever_its_file_is_named(tmp_path: Path) -> None:
    """A record file's name with a line end and terminal escapes: its problem was printed as
    two lines, the second forged ("all is well"), and the escapes reached the terminal."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    name = "x.md\nall is well\x1b[31m\u202e.md"
    write_record(
        seeds, name, "title: T\nwebUrl: javascript:x\npublishedDateTime: 2020-01-01T00:00:00Z\n"
    )
    result = invoke("check", str(seeds))
    assert result.stdout.splitlines() == [
        "x.md\\nall is well\\x1b[31m\\u202e.md:3: error: webUrl: must be an absolute http(s) URL, "
        "not a 'javascript' one",
        "1 file (0 ignored, 1 parsed): 1 record, 0 accepted, 1 rejected, 0 duplicates",
    ]


def test_a_configuration_mistake_is_one_line_whatever_its_key_holds(tmp_path: Path) -> None:
    """A key with a line end and a terminal escape in it: the message named it as it was."""
    config = tmp_path / "feeds.yaml"
    config.write_text('site:\n  "ti\\ntle\\e[31m": 1\n')
    result = invoke("check", "--config", str(config), str(SEEDS))
    assert result.returncode == 2
    assert result.stderr == (
        f"feeds: {config}:2: site.ti\\ntle\\x1b[31m: unknown key (known here: title, base_url, "
        "url, description, language, logo, icon, author)\n"
    )


def test_check_validates_without_writing(tmp_path: Path) -> None:
    result = invoke("check", "--seeds", str(BAD), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        "33 files (1 ignored, 33 parsed): 33 records, 10 accepted, 23 rejected, 0 duplicates"
    )
    assert list(tmp_path.iterdir()) == []
    assert invoke("check", str(SEEDS)).returncode == 0  # PATH is the same as --seeds


def test_check_takes_one_record_file(tmp_path: Path) -> None:
    """`feeds check article.md` checks that file alone, named as it is; it once said "not a
    folder" with exit 2."""
    rejected = invoke("check", str(BAD / "impossible-date.md"), cwd=tmp_path)
    assert (rejected.returncode, rejected.stdout.splitlines()) == (
        1,
        [
            "impossible-date.md:4: error: publishedDateTime: is not a possible date: "
            "'2020-02-30T00:00:00Z' (day is out of range for month)",
            "1 file (0 ignored, 1 parsed): 1 record, 0 accepted, 1 rejected, 0 duplicates",
        ],
    )
    listed = invoke("check", "--json", str(BAD / "api-export.json"), cwd=tmp_path)
    report = json.loads(listed.stdout)
    assert (listed.returncode, report["records"]["found"], report["rejections"][0]["path"]) == (
        1,
        2,
        "api-export.json (item 2)",
    )
    ignored = invoke("check", str(BAD / "notes.html"), cwd=tmp_path)
    assert (ignored.returncode, ignored.stdout) == (
        0,
        "1 file (1 ignored, 1 parsed): 0 records, 0 accepted, 0 rejected, 0 duplicates\n",
    )
    assert list(tmp_path.iterdir()) == []
    # Found as a scan of its folder finds it: a name that is not UTF-8 (exit 70 before), a
    # FIFO ("not a folder", exit 2 before), never opened.
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / os.fsdecode(b"bad\xffname.md")).write_text("---\ntitle: T\n---\n")
    os.mkfifo(odd / "pipe.md")
    said = [invoke("check", str(odd / name)) for name in sorted(os.listdir(odd))]
    assert [(r.returncode, r.stdout.splitlines()[0]) for r in said] == [
        (1, "bad\\xffname.md: error: has a name that is not UTF-8; rename it to read it"),
        (0, "pipe.md: warning: is a FIFO, not a regular file; skipped without opening it"),
    ]


def test_json_report_goes_to_stdout(tmp_path: Path) -> None:
    result = invoke("build", "--seeds", str(CORPUS), "--output", str(tmp_path), "--json")
    report = json.loads(result.stdout)
    assert report["records"] == {"found": 7, "accepted": 6, "rejected": 0, "duplicate": 1}
    assert report["duplicates"][0]["path"] == "wires/robotics-wire-early.md"
    assert len(report["files_written"]) == 54  # 17 feeds in 3 formats, index, OPML, report
    assert "54 written" in result.stderr
    kept = json.loads((tmp_path / ".feeds-report.json").read_text())
    assert kept == {key: report[key] for key in kept}
    assert set(report) - set(kept) == {
        key for key in report if key.startswith(("files_", "websub_")) or key == "notices"
    }


def test_base_url_flag_sets_every_link(tmp_path: Path) -> None:
    invoke(
        "build", "--seeds", str(SEEDS), "--output", str(tmp_path), "--base-url", "https://x.test/f"
    )
    text = (tmp_path / "all.atom.xml").read_text()
    assert '<link href="https://x.test/f/all.atom.xml" rel="self"' in text
    assert "localhost" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--seeds", "nowhere"],
            "feeds: seeds folder 'nowhere' does not exist or is not a folder\n",
        ),
        (
            ["--base-url", "ftp://x"],
            "feeds: --base-url: must be an absolute http(s) URL, not 'ftp://x'\n",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("build", *args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, message)


def test_unwritable_output_exits_3(tmp_path: Path) -> None:
    (tmp_path / "output").write_text("a file where a folder should be")
    result = invoke("build", "--seeds", str(SEEDS), "--output", str(tmp_path / "output"))
    assert result.returncode == 3
    assert result.stderr.startswith("feeds: output not writable: cannot use ")


def test_readme_documents_every_option() -> None:
    """Keeps the README's option table honest: each flag of `feeds build`, and no other."""
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(-[-\w]+)", readme, re.MULTILINE))
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    actions = [
        a for a in commands.choices["build"]._actions if a.option_strings != ["-h", "--help"]
    ]
    for action in actions:
        assert documented & set(action.option_strings), action.option_strings
    offered = {option for action in actions for option in action.option_strings}
    assert documented <= offered


def test_serve_builds_then_serves_for_its_own_address(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that is free now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "feeds", "serve", "--seeds", str(SEEDS)]
    command += ["--output", str(tmp_path / "out"), "--port", str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=ctrl_c_reaches_it,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()  # printed once the server listens
        assert (
            banner
            == f"feeds: serving {tmp_path / 'out'} at http://127.0.0.1:{port}/ (Ctrl-C to stop)\n"
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/all.rss.xml", timeout=5) as response:
            assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
            assert f"http://localhost:{port}/all.rss.xml".encode() in response.read()
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "5 feeds in 18 files, 18 written" in out


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (
            ["--output", "{seeds}"],
            "feeds: the output folder '{seeds}' is the seeds folder: feeds would read its own "
            "feeds back as records; choose another output folder\n",
        ),
        (
            ["--output", "{seeds}/out"],
            "feeds: the output folder '{seeds}/out' is inside the seeds folder: feeds would read "
            "its own feeds back as records; choose another output folder\n",
        ),
        (
            ["--output", "{tmp}/out", "--cache", "{tmp}/out/cache"],
            "feeds: the cache folder '{tmp}/out/cache' is inside the output folder: it would be "
            "published; choose another cache folder (--cache)\n",
        ),
        (
            ["--output", "{tmp}/out", "--cache", "{seeds}/.cache"],
            "feeds: the cache folder '{seeds}/.cache' is inside the seeds folder: it would be "
            "read as records; choose another cache folder (--cache)\n",
        ),
    ],
    ids=["output-is-seeds", "output-in-seeds", "cache-in-output", "cache-in-seeds"],
)
def test_overlapping_folders_are_refused_before_anything_is_written(
    tmp_path: Path, layout: list[str], message: str
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.md").write_bytes((SEEDS / next(p.name for p in SEEDS.iterdir())).read_bytes())
    before = files_of(tmp_path)
    args = [arg.format(seeds=seeds, tmp=tmp_path) for arg in layout]
    result = run("build", "--seeds", str(seeds), *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == message.format(seeds=seeds, tmp=tmp_path)
    assert files_of(tmp_path) == before


@pytest.mark.parametrize(
    ("looping", "code", "said"),
    [
        ("cache", 0, "feeds: warning: the cache {tmp}/loop-a/records-"),
        ("output", 3, "feeds: output not writable: cannot use {tmp}/loop-a as the output folder: "),
        ("seeds", 2, "feeds: seeds folder '{tmp}/loop-a' does not exist or is not a folder"),
    ],
)
def test_a_folder_that_is_a_link_loop_is_said_never_a_bug(
    tmp_path: Path, looping: str, code: int, said: str
) -> None:
    """Python 3.11's `Path.resolve` raises RuntimeError on a loop: that was exit 70, "a bug"."""
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    folders = {"seeds": SEEDS, "output": tmp_path / "out", "cache": tmp_path / "cache"}
    folders[looping] = tmp_path / "loop-a"
    result = run("build", *(f"--{k}={v}" for k, v in folders.items()))
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert output.startswith(said.format(tmp=tmp_path)), output
    if looping != "seeds":
        assert "a file or a link to no folder stands where the folder should be" in output
    assert (tmp_path / "out" / "all.rss.xml").exists() == (looping == "cache")


def test_a_bug_exits_70_with_one_line_and_the_traceback_only_with_v(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import feeds.cli

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(feeds.cli, "build", broken)
    argv = ["build", "--seeds", str(SEEDS), "--output", str(tmp_path)]
    assert feeds.cli.main(argv) == 70
    assert capsys.readouterr().err == (
        "feeds: internal error (a bug in feeds): KeyError: 'surprise'; "
        "run again with -v for the details\n"
    )
    assert feeds.cli.main([*argv, "-v"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("feeds: internal error (a bug in feeds): KeyError: 'surprise'\n")


def test_a_run_says_the_problems_of_the_files_it_read_and_counts_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(BAD, seeds)
    argv = ["build", "--seeds", str(seeds), "--output", str(tmp_path / "out")]
    argv += ["--cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    first = capsys.readouterr().out.splitlines()
    assert len(first) > 25, "the first run says every problem"
    assert "missing-title.md: error: title: is missing or empty" in first

    (seeds / "missing-title.md").write_text(
        "---\nwebUrl: https://example.com/b\npublishedDateTime: 2021-01-01T00:00:00Z\n---\n"
    )
    assert main(argv) == 0
    second = capsys.readouterr().out.splitlines()
    earlier = len(first) - 2  # all but the edited file's rejection and the summary
    assert second[:-1] == [
        "missing-title.md: error: title: is missing or empty",
        f"feeds: {earlier} warnings and rejections of unchanged files not repeated "
        "(`feeds check` lists them all)",
    ]
    files = len(list(seeds.iterdir()))
    assert second[-1].startswith(f"{files} files (1 ignored, 1 parsed): ")

    assert main(argv) == 0  # nothing changed: nothing new to say
    third = capsys.readouterr().out.splitlines()
    assert third[:-1] == [
        f"feeds: {earlier + 1} warnings and rejections of unchanged files not repeated "
        "(`feeds check` lists them all)"
    ]
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr().out == "", "cron hears nothing when nothing is new"
    report = json.loads((tmp_path / "out" / ".feeds-report.json").read_text())
    assert len(report["rejections"]) + len(report["warnings"]) + len(report["duplicates"]) == (
        earlier + 1
    ), "the kept report lists every problem"


def test_counts_are_said_in_good_english(tmp_path: Path) -> None:
    result = invoke("build", "--seeds", str(SEEDS), "--output", str(tmp_path))
    assert result.stdout == (
        "1 file (0 ignored, 1 parsed): 1 record, 1 accepted, 0 rejected, 0 duplicates; "
        "5 feeds in 18 files, 18 written, 0 unchanged\n"
    )
    page = (tmp_path / "index.html").read_text()
    assert '<td class="n count">1<span class="unit"> item</span></td>' in page


def test_the_readme_shows_the_summary_line_the_corpus_build_prints(tmp_path: Path) -> None:
    result = invoke("build", "--seeds", str(CORPUS), "--output", str(tmp_path))
    (line,) = result.stdout.splitlines()[-1:]
    assert f"\n{line}\n" in (ROOT / "README.md").read_text()


def test_a_new_duplicate_is_said_when_the_record_that_wins_arrives(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    story = "webUrl: https://example.com/story\npublishedDateTime: 2024-05-01T10:00:00Z\n"
    (seeds / "early.md").write_text(f"---\ntitle: Early\n{story}---\n")
    args = ["build", "--seeds", str(seeds), "--output", str(tmp_path / "out")]
    assert invoke(*args).stdout.splitlines()[:-1] == []
    (seeds / "update.md").write_text(
        f"---\ntitle: Update\n{story}updatedDateTime: 2024-05-01T12:00:00Z\n---\n"
    )
    assert invoke(*args).stdout.splitlines()[:-1] == [
        "early.md: warning: webUrl: same webUrl as update.md, which was kept (changed later or "
        "sorts first)"
    ]


def test_a_seeds_folder_inside_the_output_folder_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    """The reverse of the overlaps above: the records would be published (or removed as stale
    outputs), so the run stops before it writes anything, into the output folder above all."""
    output = tmp_path / "out"
    seeds = output / "seeds"
    seeds.mkdir(parents=True)
    (seeds / "a.md").write_bytes((SEEDS / next(p.name for p in SEEDS.iterdir())).read_bytes())
    before = files_of(tmp_path)
    result = run("build", "--seeds", str(seeds), "--output", str(output))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"feeds: the seeds folder '{seeds}' is inside the output folder: the records would be "
        "published; choose another output folder\n"
    )
    assert files_of(tmp_path) == before
    assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*")) == [
        "seeds",
        "seeds/a.md",
    ], "not even a hidden file or an empty folder"


STORY = """
title: {title}
webUrl: https://example.com/{slug}
publishedDateTime: 2024-05-0{day}T10:00:00Z
provider: {{name: Example, domain: example.com}}
topics: [{topic}]
"""


def _written_and_removed(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(("wrote ", "removed "))]


def test_v_prints_every_file_written_and_removed(tmp_path: Path) -> None:
    seeds, output = tmp_path / "seeds", tmp_path / "out"
    write_record(seeds, "first.md", STORY.format(title="First", slug="a", day=1, topic="AI"))
    args = ["build", "--seeds", str(seeds), "--output", str(output), "-v"]
    args += ["--cache", str(tmp_path / "cache")]
    first = invoke(*args)
    assert first.returncode == 0, first.stderr
    lines = _written_and_removed(first.stdout)
    assert "wrote topics/ai.rss.xml" in lines
    assert "wrote all.json" in lines
    assert "wrote index.html" in lines
    assert not [line for line in lines if line.startswith("removed ")]

    new = write_record(
        seeds, "second.md", STORY.format(title="Second", slug="b", day=2, topic="Quantum Sensing")
    )
    second = invoke(*args)
    assert second.returncode == 0, second.stderr
    lines = _written_and_removed(second.stdout)
    for fmt in ("rss.xml", "atom.xml", "json"):
        assert f"wrote topics/quantum-sensing.{fmt}" in lines
        assert (output / f"topics/quantum-sensing.{fmt}").is_file()
    assert "wrote topics/ai.rss.xml" not in lines, "an untouched feed is not written again"
    assert not [line for line in lines if line.startswith("removed ")]
    summary = second.stdout.splitlines()[-1]
    written = int(re.search(r", (\d+) written,", summary).group(1))  # type: ignore[union-attr]
    assert len([line for line in lines if line.startswith("wrote ")]) == written, (
        "every file written is named, and only those"
    )

    new.unlink()
    third = invoke(*args)
    assert third.returncode == 0, third.stderr
    lines = _written_and_removed(third.stdout)
    for fmt in ("rss.xml", "atom.xml", "json"):
        assert f"removed topics/quantum-sensing.{fmt}" in lines
        assert not (output / f"topics/quantum-sensing.{fmt}").exists()
    assert not [line for line in lines if "quantum-sensing" in line and line.startswith("wrote")]

    quiet = invoke(*args)  # nothing changed: nothing written, nothing removed, nothing said
    assert quiet.returncode == 0, quiet.stderr
    assert _written_and_removed(quiet.stdout) == []
    assert quiet.stdout.endswith(" 0 written, 12 unchanged (nothing changed)\n")


def _damage_database(cache: Path) -> Path:
    """Garbage over the middle of the cache's database, as a bad disk or a stray write leaves
    it; the database's path."""
    (database,) = cache.glob("*.sqlite")
    for name in ("-wal", "-shm"):
        assert not Path(f"{database}{name}").exists(), "a finished build leaves no journal"
    data = bytearray(database.read_bytes())
    middle = len(data) // 2
    data[middle - 4096 : middle + 4096] = random.Random(7).randbytes(8192)
    database.write_bytes(bytes(data))
    return database


@pytest.mark.parametrize("strict", [[], ["--strict"]], ids=["plain", "strict"])
def test_a_damaged_cache_is_a_warning_and_a_notice_never_an_exit_code(
    tmp_path: Path, strict: list[str]
) -> None:
    seeds, output, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"
    shutil.copytree(SEEDS, seeds)
    args = ["build", "--seeds", str(seeds), "--output", str(output), "--cache", str(cache)]
    assert invoke(*args).returncode == 0
    database = _damage_database(cache)
    # A run with nothing to do never reads the damaged pages: a curator's edit gives it work.
    (record,) = seeds.iterdir()
    record.write_text(record.read_text().replace('title: "IBM', 'title: "Edited: IBM', 1))

    result = invoke(*args, *strict, "--json")
    assert result.returncode == 0, result.stderr
    notice = f"the cache {database} was damaged; it is started afresh"
    assert json.loads(result.stdout)["notices"] == [notice]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("feeds: warning:")]
    assert warnings == [f"feeds: warning: {notice}"]
    assert result.stderr.splitlines()[-1].startswith("1 file (0 ignored, ")
    assert "Edited: IBM" in (output / "all.rss.xml").read_text(), "the build went on"

    again = invoke(*args, *strict, "--json")  # started afresh: healed, nothing more to say
    assert (again.returncode, json.loads(again.stdout)["notices"]) == (0, [])
    assert "warning" not in again.stderr


CONFIG_WITH_A_TYPO = """\
custom:
  - title: Quantum news
    topics: {any: [Quantum Typo]}
"""


def test_the_configurations_warnings_are_printed_on_every_run_that_does_work(
    tmp_path: Path,
) -> None:
    seeds, config = tmp_path / "seeds", tmp_path / "feeds.yaml"
    shutil.copytree(SEEDS, seeds)
    config.write_text(CONFIG_WITH_A_TYPO)
    args = ["build", "--seeds", str(seeds), "--output", str(tmp_path / "out")]
    args += ["--config", str(config), "--cache", str(tmp_path / "cache")]
    warning = f"{config}:2: warning: custom[0].topics.any: no article has the topic 'Quantum Typo'"

    first = invoke(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[:-1] == [warning]

    (record,) = seeds.iterdir()
    record.write_text(record.read_text().replace('title: "IBM', 'title: "Edited: IBM', 1))
    second = invoke(*args)
    assert second.returncode == 0, second.stderr
    assert " 0 written," not in second.stdout, "this run did work"
    assert second.stdout.splitlines()[:-1] == [warning], "said again, and the same"


@pytest.mark.parametrize(
    "how",
    [
        "edited",  # the run after a few changes: what the others must say too
        "topic-respelled",
        "cache-damaged",
    ],
)
def test_a_record_edited_with_a_problem_is_said_whichever_way_the_run_goes(
    tmp_path: Path, how: str
) -> None:
    """README: a build prints the problems of the record files it read in this run, and
    `parsed` counts the files read this run."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"
    shutil.copytree(SEEDS, seeds)
    args = ["build", "--seeds", str(seeds), "--output", str(output), "--cache", str(cache)]
    assert invoke(*args).returncode == 0
    (record,) = seeds.iterdir()
    text = record.read_text().replace("    width: 3915\n", "    width: -3\n", 1)
    if how == "topic-respelled":
        text = text.replace("  - AI\n", "  - ai\n", 1)  # the only spelling: the name changes
    elif how == "cache-damaged":
        _damage_database(cache)
    record.write_text(text)
    line = text.splitlines().index("images:") + 1  # problems name the field's line

    result = invoke(*args)
    assert result.returncode == 0, result.stderr
    said = [x for x in result.stdout.splitlines() if not x.startswith("feeds: warning: the cache")]
    assert said[:-1] == [
        f"{record.name}:{line}: warning: images[0].width: must be a positive number of pixels, "
        "not -3; ignored"
    ]
    assert said[-1].startswith("1 file (0 ignored, 1 parsed): ")


def run_with_stderr_on_a_terminal(*args: str, cwd: Path) -> tuple[int, str, bytes]:
    """`python -m feeds ARGS` with stderr a pseudo-terminal (stdout a pipe): the exit code,
    stdout, and every byte written to the terminal. The terminal is read while the command runs
    (a full terminal buffer would block it), until it is closed, within a minute."""
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "feeds", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
        )
    finally:
        os.close(slave)  # the child holds its own copy: EOF (EIO) once it exits
    terminal = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every copy of the slave side is closed
                break
            if not chunk:
                break
            terminal += chunk
        else:
            process.kill()
            pytest.fail(f"`feeds {' '.join(args)}` did not finish within a minute")
        assert process.stdout is not None
        stdout = process.stdout.read().decode()
        code = process.wait(timeout=30)
    finally:
        os.close(master)
        if process.stdout:
            process.stdout.close()
    return code, stdout, bytes(terminal)


def test_a_progress_bar_appears_only_on_a_terminal(tmp_path: Path) -> None:
    """README, "Talk": a progress bar appears only on a terminal; `-q` prints nothing when all is
    well (so cron sends no mail). The bar (feeds/progress.py) is drawn on stderr, redrawn in
    place with carriage returns, and wiped when the run ends."""
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 300, seed=11)

    def args(name: str) -> list[str]:
        output, cache = str(tmp_path / name), str(tmp_path / f"{name}-cache")
        return ["build", "--seeds", str(seeds), "--output", output, "--cache", cache]

    summary = re.compile(
        r"300 files \(0 ignored, 300 parsed\): 300 records, 300 accepted, 0 rejected, "
        r"0 duplicates; \d+ feeds in (\d+) files, \1 written, 0 unchanged\n"
    )

    # On a terminal: the bar, full at the end of each stage, then wiped.
    code, stdout, terminal = run_with_stderr_on_a_terminal(*args("tty"), cwd=tmp_path)
    assert code == 0, terminal
    assert summary.fullmatch(stdout), stdout
    drawn = terminal.decode()
    full = "[" + "#" * 30 + "]"
    assert f"\r{full} 300/300 records read\x1b[K" in drawn, drawn[-500:]
    written = re.search(r"\r\[#{30}\] (\d+)/\1 feeds written\x1b\[K", drawn)
    assert written, drawn[-500:]
    # Nothing but the bar on the terminal: each draw returns to the line's start.
    draws = drawn.split("\r")
    assert draws[0] == "", drawn[:200]
    bar = re.compile(r"\[[#-]{30}\] \d+/\d+ (records read|feeds written)\x1b\[K|\x1b\[K")
    assert [d for d in draws[1:] if not bar.fullmatch(d)] == [], drawn
    assert len(draws) > 4, "drawn as the stages go, not once"
    assert drawn.endswith("\r\x1b[K"), "the bar leaves no trace on the line when the run ends"

    # Stderr a pipe (cron, a log file): the summary line and not a byte more.
    piped = run(*args("pipe"), cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert summary.fullmatch(piped.stdout), piped.stdout
    assert piped.stderr == ""
    assert "\r" not in piped.stdout

    # -q on a terminal: nothing at all on success, not even the bar.
    code, stdout, terminal = run_with_stderr_on_a_terminal(*args("quiet"), "-q", cwd=tmp_path)
    assert (code, stdout, terminal) == (0, "", b"")
    assert (tmp_path / "quiet/all.rss.xml").is_file(), "the quiet run built the feeds"
