"""Start-up stays small: a run with nothing to do and `feeds list` never load the rendering
libraries (feedgen, lxml, nh3, markdown-it), which are most of the start-up time of a run that
renders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import SEEDS

HEAVY = {"feedgen", "lxml", "nh3", "markdown_it"}
READING = {"yaml", "dateutil", "multiprocessing"}  # what reading records needs
PROBE = """
import json, sys
from feeds.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump(sorted({name.split(".")[0] for name in sys.modules}), f)
sys.exit(code)
"""


def loaded(tmp_path: Path, *args: str) -> set[str]:
    modules = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(modules), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(modules.read_text()))


def test_a_run_with_nothing_to_do_and_feeds_list_load_no_rendering_library(
    tmp_path: Path,
) -> None:
    build = ["build", "--seeds", str(SEEDS), "--output", str(tmp_path / "out")]
    build += ["--cache", str(tmp_path / "cache")]
    assert loaded(tmp_path, *build) >= HEAVY, "a first build renders"
    assert loaded(tmp_path, *build) & (HEAVY | READING) == set(), "nothing changed: nothing read"
    assert loaded(tmp_path, "list", "--seeds", str(SEEDS)) & HEAVY == set()
