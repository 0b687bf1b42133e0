"""An article's id (RSS guid, Atom id, JSON Feed id) never changes while its URL does not: readers
use it to know an item they have already shown, and a changed id shows the story twice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import NS, SEEDS, build_into, xml

URL = (
    "https://www.cnbc.com/2020/06/08/ibm-gets-out-of-facial-recognition-business-"
    "calls-on-congress-to-advance-policies-tackling-racial-injustice.html"
)


def ids(output: Path, path: str) -> tuple[list[str | None], list[str | None], list[str]]:
    rss = [item.findtext("guid") for item in xml(output / f"{path}.rss.xml").iter("item")]
    atom = [
        e.findtext("atom:id", namespaces=NS)
        for e in xml(output / f"{path}.atom.xml").iterfind("atom:entry", NS)
    ]
    feed = json.loads((output / f"{path}.json").read_text(encoding="utf-8"))
    return rss, atom, [item["id"] for item in feed["items"]]


def test_ids_survive_edits_to_everything_but_the_url(tmp_path: Path) -> None:
    build_into(SEEDS, tmp_path / "before", base_url="https://feeds.example.org/")
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    record = next(seeds.iterdir())
    text = record.read_text(encoding="utf-8")
    edited = (
        text.replace("IBM gets out of facial recognition business", "IBM quits face recognition", 1)
        .replace("IBM CEO Arvind Krishna called", "Arvind Krishna, IBM's CEO, called", 1)
        .replace("  - Computer Vision\n", "  - Surveillance\n", 1)
        .replace("width: 3915", "width: 1200", 1)
    )
    assert edited.count("\n") == text.count("\n") and edited != text
    record.write_text(edited, encoding="utf-8")
    build_into(seeds, tmp_path / "after", base_url="https://news.example.net/feeds/")

    expected = ([URL], [URL], [URL])
    assert ids(tmp_path / "before", "topics/ai") == expected
    assert ids(tmp_path / "after", "topics/ai") == expected
    assert ids(tmp_path / "after", "topics/surveillance") == expected
    assert "IBM quits face recognition" in (tmp_path / "after/all.rss.xml").read_text()
