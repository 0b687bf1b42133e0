"""Shared paths and small helpers for the tests."""

from __future__ import annotations

from pathlib import Path

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


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def feeds_of(folder: Path) -> list[str]:
    """The relative paths of the feed files under `folder`."""
    return [path for path in files_of(folder) if path.endswith((".rss.xml", ".atom.xml"))]


def xml(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def write_record(folder: Path, name: str, front_matter: str, body: str = "") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front_matter.strip()}\n---\n{body}", encoding="utf-8")
    return path
