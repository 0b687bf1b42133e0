from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import CORPUS, SEEDS, build_into


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Builds keep their cache under XDG_CACHE_HOME: the tests' go to a temporary folder."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def seed_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped seeds, built once for the session at the test base URL."""
    output = tmp_path_factory.mktemp("seed-output")
    build_into(SEEDS, output)
    return output


@pytest.fixture(scope="session")
def corpus_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test corpus, built once for the session at the test base URL."""
    output = tmp_path_factory.mktemp("corpus-output")
    build_into(CORPUS, output)
    return output


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def newsboat() -> str:
    path = shutil.which("newsboat")
    if path is None:
        message = "newsboat is not installed (Debian: apt-get install newsboat)"
        if _ci():
            # CI installs it (.ci/run); a silent skip there would hide a test that never ran.
            pytest.fail(f"{message}, and CI is set, so this test must run", pytrace=False)
        pytest.skip(f"{message}; under CI this is a failure")
    return path
