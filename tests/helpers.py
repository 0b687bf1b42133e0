"""Shared paths and small helpers for the tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

from lxml import etree

from feeds import Config, Report, build

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
OUTPUT = ROOT / "output"
CORPUS = ROOT / "tests" / "corpus"
GOLDEN = ROOT / "tests" / "golden"
BASE_URL = "https://feeds.example.org/"

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}


def build_into(seeds: Path, output: Path, base_url: str = BASE_URL, **config: object) -> Report:
    return build(Config(seeds=seeds, output=output, base_url=base_url, **config))  # type: ignore[arg-type]


# Root without its power to read or write any file (`setpriv`): file permissions hold for it
# as for a user, and it can still read root's Python (a user cannot, here).
UNPOWERED = [
    "setpriv",
    *(f"--{s}=-dac_override,-dac_read_search" for s in ("inh-caps", "bounding-set")),
]
can_drop_power = os.geteuid() == 0 and shutil.which("setpriv") is not None


def build_unpowered(seeds: Path, output: Path, cache: Path) -> dict[str, Any]:
    """`feeds build --json` as `UNPOWERED` (as `build_into` builds): its report."""
    command = [sys.executable, "-m", "feeds", "build", "--seeds", str(seeds), "--output",
               str(output), "--cache", str(cache), "--base-url", BASE_URL, "--json", "-q"]  # fmt: skip
    result = subprocess.run([*UNPOWERED, *command], capture_output=True, text=True, check=True)
    return cast(dict[str, Any], json.loads(result.stdout))


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def feeds_of(
    folder: Path, suffixes: tuple[str, ...] = (".rss.xml", ".atom.xml", ".json")
) -> list[str]:
    """The relative paths of the feed files under `folder` (of the given formats)."""
    return [p for p in files_of(folder) if p.endswith(suffixes) and not p.startswith(".")]


def contents_of(path: Path) -> list[str]:
    """The HTML content of every item of a feed file, read without a sanitizing parser."""
    if path.suffix == ".json":
        return [item["content_html"] for item in json.loads(path.read_text())["items"]]
    root = xml(path)
    found = [*root.iterfind(".//content:encoded", NS), *root.iterfind(".//atom:content", NS)]
    return [element.text or "" for element in found]


def xml(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def write_record(folder: Path, name: str, front_matter: str, body: str = "") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front_matter.strip()}\n---\n{body}", encoding="utf-8")
    return path


def ctrl_c_reaches_it() -> None:
    """For a child process that a test stops with Ctrl-C (SIGINT): a test run started in the
    background by a shell ignores SIGINT, and so would the child (Python then never raises
    KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def item_store(cache: Path) -> Path:
    """The item store's folder in cache folder `cache` (one pair of seeds and output uses it)."""
    (found,) = cache.glob("items-*")
    return found


# One file, two articles of one URL: a record (quality 5, which a `min_quality` leaves out) and
# another record's mention of it, with a title, time and place of its own. Where the record is
# left out, its provider's feed shows the mention in its place.
RECORD_AND_ITS_MENTION = """\
- webUrl: https://alpha.example/1
  title: Record one
  quality: 50
  publishedDateTime: 2024-01-20T10:00:00Z
  provider: {name: Alpha, domain: alpha.example}
  related:
    - webUrl: https://alpha.example/2
      title: Mention of two
      publishedDateTime: 2024-01-05T12:00:00Z
      provider: {name: Alpha, domain: alpha.example}
- webUrl: https://alpha.example/2
  title: Full record two
  quality: 5
  publishedDateTime: 2024-01-05T09:00:00Z
  provider: {name: Alpha, domain: alpha.example}
"""
