"""Byte-for-byte comparisons with committed output.

After a deliberate change to what feeds look like, regenerate and review:
    python -m tests.regenerate_golden     # tests/golden/ from tests/corpus/
    feeds build                           # output/ from seeds/
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import GOLDEN, OUTPUT, SEEDS, build_into, files_of


def test_corpus_build_equals_the_golden_files(corpus_output: Path) -> None:
    produced, golden = files_of(corpus_output), files_of(GOLDEN)
    assert sorted(produced) == sorted(golden)
    changed = [path for path in golden if produced[path] != golden[path]]
    assert changed == [], "regenerate with `python -m tests.regenerate_golden` if intended"


def test_committed_output_equals_a_fresh_build_of_the_seeds(tmp_path: Path) -> None:
    # output/ is built with the defaults a newcomer gets, i.e. for http://localhost:8000/.
    build_into(SEEDS, tmp_path, base_url="http://localhost:8000/")
    assert files_of(tmp_path) == files_of(OUTPUT), "rebuild with `feeds build` if intended"
