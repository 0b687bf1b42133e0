from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import CORPUS, SEEDS, build_into


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
