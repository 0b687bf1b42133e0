"""The benchmark's "+100 new records" (`benchmarks/run.py`): named apart from the corpus, and
its newest records, as a curator's new records are (records dated a century later would each
open a month of their own in every group they touch)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import run  # benchmarks/ is not a package: imported from its folder


def _published(seeds: Path) -> dict[str, str]:
    found = {}
    for path in seeds.rglob("*.md"):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
        found[path.name] = front["publishedDateTime"]
    return found


def test_new_records_are_named_apart_and_are_the_corpus_newest(tmp_path: Path) -> None:
    corpus, rounds = 40, 2
    run.generate(tmp_path / "before", corpus, seed=5)
    before = _published(tmp_path / "before")
    seeds = tmp_path / "seeds"
    run.generate(seeds, corpus, seed=5)
    for r in range(rounds):
        start = run.NEW_RECORDS_START + r * run.ADDED
        run.generate(seeds, run.ADDED, 5, start, dated_from=corpus + r * run.ADDED)
    after = _published(seeds)
    new = {name: at for name, at in after.items() if name not in before}
    assert len(new) == rounds * run.ADDED and len(after) == corpus + len(new)
    assert {name: after[name] for name in before} == before, "the corpus as it was"
    newest = max(before.values())
    assert min(new.values()) > newest
    # A record every seven minutes, as in the corpus: two rounds span a day, not a century.
    assert min(new.values())[:10] == newest[:10] == "2024-01-01"
    assert max(new.values()) < "2024-01-03"
