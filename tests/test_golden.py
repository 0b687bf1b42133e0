"""Byte-for-byte comparisons with committed output.

After a deliberate change to what feeds look like, regenerate and review:
    python -m tests.regenerate_golden     # tests/golden/ from tests/corpus/
    feeds build                           # output/ from seeds/
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.helpers import GOLDEN, OUTPUT, SEEDS, build_into, files_of

SHOWN = 3  # differing files whose diff a failure prints


def differences(produced: dict[str, bytes], expected: dict[str, bytes]) -> str:
    """What differs, for people: missing and extra files, then a unified diff of the first few
    files that differ (Pelican's functional tests do the same)."""
    lines = [f"missing: {p}" for p in sorted(expected.keys() - produced.keys())]
    lines += [f"not expected: {p}" for p in sorted(produced.keys() - expected.keys())]
    changed = sorted(p for p in expected.keys() & produced.keys() if expected[p] != produced[p])
    for path in changed[:SHOWN]:
        lines += difflib.unified_diff(
            expected[path].decode("utf-8", "replace").splitlines(),
            produced[path].decode("utf-8", "replace").splitlines(),
            f"expected/{path}",
            f"produced/{path}",
            lineterm="",
        )
    if len(changed) > SHOWN:
        lines.append(f"... and {len(changed) - SHOWN} more files differ")
    return "\n".join(lines)


def assert_same_files(produced: dict[str, bytes], expected: dict[str, bytes], hint: str) -> None:
    if produced != expected:
        pytest.fail(f"{hint}\n{differences(produced, expected)}", pytrace=False)


def test_corpus_build_equals_the_golden_files(corpus_output: Path) -> None:
    assert_same_files(
        files_of(corpus_output),
        files_of(GOLDEN),
        "regenerate with `python -m tests.regenerate_golden` if intended",
    )


def test_committed_output_equals_a_fresh_build_of_the_seeds(tmp_path: Path) -> None:
    # output/ is built with the defaults a newcomer gets, i.e. for http://localhost:8000/.
    build_into(SEEDS, tmp_path, base_url="http://localhost:8000/")
    assert_same_files(files_of(tmp_path), files_of(OUTPUT), "rebuild with `feeds build`")


def test_a_failure_shows_what_differs() -> None:
    shown = differences(
        {"a.xml": b"<a>\n<b>old</b>\n</a>\n", "new.xml": b""},
        {"a.xml": b"<a>\n<b>new</b>\n</a>\n", "gone.xml": b""},
    )
    assert shown.splitlines() == [
        "missing: gone.xml",
        "not expected: new.xml",
        "--- expected/a.xml",
        "+++ produced/a.xml",
        "@@ -1,3 +1,3 @@",
        " <a>",
        "-<b>new</b>",
        "+<b>old</b>",
        " </a>",
    ]
