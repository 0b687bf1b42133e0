"""Rebuild the golden files from the test corpus: `python -m tests.regenerate_golden`.

Run it after a deliberate change to the output, then review `git diff tests/golden` before committing.
"""

from __future__ import annotations

import shutil

from tests.helpers import CORPUS, GOLDEN, build_into


def main() -> None:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    report = build_into(CORPUS, GOLDEN)
    print(f"{GOLDEN}: {report.summary()}")


if __name__ == "__main__":
    main()
