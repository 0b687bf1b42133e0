from __future__ import annotations

import os
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
