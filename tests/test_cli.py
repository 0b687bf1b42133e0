"""The `feeds` command as a user runs it: exact messages and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from feeds.cli import _parser, main
from tests.helpers import CORPUS, ROOT, SEEDS, ctrl_c_reaches_it, files_of

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
    assert invoke("build", "--strict", *args).returncode == 1


def test_check_validates_without_writing(tmp_path: Path) -> None:
    result = invoke("check", "--seeds", str(BAD), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        "33 files (1 ignored, 33 parsed): 33 records, 9 accepted, 24 rejected, 0 duplicates"
    )
    assert list(tmp_path.iterdir()) == []
    assert invoke("check", str(SEEDS)).returncode == 0  # PATH is the same as --seeds


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
