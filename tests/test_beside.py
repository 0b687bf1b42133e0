"""The check that every output file is as the last run left it runs in a process beside the
scan (`feeds.beside`): its answer must be the one the build would find itself, and the process
must never outlive its answer, run the build's own code, or leave a zombie."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from feeds.beside import beside
from feeds.cache import Cache
from feeds.synthetic import write_corpus
from tests.helpers import build_into, files_of


@pytest.mark.parametrize("fork", ["forked", "no fork"])
def test_an_output_changed_or_removed_by_hand_is_made_again_by_the_next_run(
    fork: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing changed in the seeds, a feed edited in place, one cut short and one deleted
    are put back as a cold build makes them; whether the check ran beside the scan or, when no
    process can be forked, in the build's own."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 60, seed=8)
    build_into(seeds, output, cache=cache)
    cold = files_of(output)
    if fork == "no fork":
        monkeypatch.setattr(os, "fork", _fork_fails)
    else:  # the answer must come from the process beside
        monkeypatch.setattr(Cache, "outputs_in_place", _not_here)
    for damage in (_appended, _cut_short, _deleted):
        assert build_into(seeds, output, cache=cache).written == (), "nothing to do"
        damaged = damage(output)
        report = build_into(seeds, output, cache=cache)
        assert damaged in report.written
        assert files_of(output) == cold


def _appended(output: Path) -> str:
    with (output / "all.rss.xml").open("ab") as feed:
        feed.write(b"<!-- edited -->")
    return "all.rss.xml"


def _cut_short(output: Path) -> str:
    feed = output / "all.atom.xml"
    feed.write_bytes(feed.read_bytes()[:100])
    return "all.atom.xml"


def _deleted(output: Path) -> str:
    (output / "all.json").unlink()
    return "all.json"


def _not_here(*args: object) -> bool:
    raise AssertionError("the build checked the outputs itself")


def _fork_fails() -> int:
    raise OSError("no fork here")


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        (lambda: True, True),
        (lambda: False, False),
        (lambda: None, None),  # it could not tell
        (lambda: 1 / 0, None),  # it failed
        (lambda: os.kill(os.getpid(), signal.SIGTERM), None),  # it was stopped
        (lambda: os.kill(os.getpid(), signal.SIGINT), None),  # Ctrl-C
    ],
)
def test_the_answer_comes_back_or_is_none_and_no_process_is_left(
    check: Callable[[], bool | None], answer: bool | None, tmp_path: Path
) -> None:
    """The forked process answers once; failing or stopped, it gives no answer (the build then
    looks itself) and runs none of the build's code on its way out: the `finally` around it
    runs once, in the build's process."""
    ran = tmp_path / "finally"
    try:
        with beside(check) as checked:
            assert checked() is answer
            assert checked() is answer, "asked again, the same answer"
    finally:
        with ran.open("a") as log:
            log.write(f"{os.getpid()}\n")
    assert ran.read_text() == f"{os.getpid()}\n"
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left, not even a zombie


def test_a_build_that_stops_before_it_asks_does_not_wait_for_the_answer() -> None:
    """Leaving early (the scan failed) stops the check at once and reaps it."""
    with pytest.raises(RuntimeError), beside(lambda: bool(signal.pause())):
        raise RuntimeError("the scan failed")
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
