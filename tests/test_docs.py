"""The documentation stays honest: the README's Python example runs and type-checks as a user
would write it, the module map names every module, and the code cites only its own design note."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, SEEDS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def python_example() -> str:
    found = re.search(r"```python\n(.*?)```", README, re.DOTALL)
    assert found, "the README shows how to call feeds from Python"
    return found.group(1)


def test_the_python_example_runs(tmp_path: Path) -> None:
    (tmp_path / "seeds").symlink_to(SEEDS)
    (tmp_path / "example.py").write_text(python_example())
    result = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 file (0 ignored, 1 parsed): 1 record, 1 accepted")
    assert (tmp_path / "output" / "all.rss.xml").exists()


def test_the_python_example_type_checks_against_the_package(tmp_path: Path) -> None:
    example = tmp_path / "example.py"
    example.write_text(python_example())
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(example)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert (ROOT / "feeds" / "py.typed").exists()


def test_the_module_map_names_every_module() -> None:
    map_ = README.split("```\nfeeds/\n", 1)[1].split("\ntests/", 1)[0]
    named = set(re.findall(r"[a-z_]+\.py", map_))
    modules = {p.name for p in (ROOT / "feeds").glob("*.py") if not p.name.startswith("_")}
    assert modules - named == set(), "add them to the README's module map"
    assert named - modules == set(), "the README names modules that are gone"


def test_the_code_cites_its_own_design_note_only() -> None:
    outside = "SPEC" + " §"  # the product contract the project grew from is not part of it
    for path in [*ROOT.glob("feeds/*.py"), *ROOT.glob("tests/*.py"), ROOT / "pyproject.toml"]:
        assert outside not in path.read_text(encoding="utf-8"), path
    assert (ROOT / "docs" / "design.md").exists()
