"""The baseline: the script a user writes instead of `feeds build`.

    python3 benchmarks/naive.py SEEDS OUTPUT

Reads every front-matter file with `yaml.safe_load` (pure Python), groups the records into one
feed for everything, one per topic and one per provider, and writes the newest 50 of each as RSS
and Atom with feedgen and its media extension. No cache, no validation, no sanitizing: honest and
simple, not deliberately slow.
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from feedgen.feed import FeedGenerator

LIMIT = 50
BASE = "http://localhost:8000/"


def load(seeds: str) -> list[dict[str, Any]]:
    records = []
    for folder, _dirs, files in os.walk(seeds):
        for name in files:
            if name.endswith(".md"):
                text = Path(folder, name).read_text(encoding="utf-8")
                front = text.split("---\n", 2)[1]
                records.append(yaml.safe_load(front))
    return records


def when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def slug(name: str) -> str:
    return re.sub(r"\W+", "-", name.lower()).strip("-") or "x"


def write_feed(path: Path, title: str, records: list[dict[str, Any]]) -> None:
    fg = FeedGenerator()
    fg.load_extension("media")
    fg.id(BASE + path.name)
    fg.title(title)
    fg.link(href=BASE, rel="alternate")
    fg.description(f"The latest news: {title}")
    fg.language("en")
    for record in sorted(records, key=lambda r: when(r["publishedDateTime"]), reverse=True)[:LIMIT]:
        fe = fg.add_entry(order="append")
        fe.id(record["webUrl"])
        fe.title(record["title"])
        fe.link(href=record["webUrl"])
        fe.description(record.get("excerpt") or record["title"])
        fe.published(when(record["publishedDateTime"]))
        fe.updated(when(record.get("updatedDateTime") or record["publishedDateTime"]))
        for topic in record.get("topics") or []:
            fe.category(term=topic)
        for image in record.get("images") or []:
            size = {"width": str(image.get("width", "")), "height": str(image.get("height", ""))}
            fe.media.content({"url": image["url"], "medium": "image", **size})
            fe.media.thumbnail({"url": image["url"], **size})
    path.parent.mkdir(parents=True, exist_ok=True)
    fg.rss_file(str(path.with_suffix(".rss.xml")), pretty=True)
    fg.atom_file(str(path.with_suffix(".atom.xml")), pretty=True)


def main() -> None:
    seeds, output = sys.argv[1], Path(sys.argv[2])
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    titles = {"all": "All news"}
    for record in load(seeds):
        groups["all"].append(record)
        for topic in record.get("topics") or []:
            titles.setdefault("topics/" + slug(topic), topic)
            groups["topics/" + slug(topic)].append(record)
        provider = record.get("provider") or {}
        if provider.get("name"):
            key = "providers/" + slug(provider.get("domain") or provider["name"])
            titles.setdefault(key, provider["name"])
            groups[key].append(record)
    for name, records in groups.items():
        write_feed(output / name, titles[name], records)
    print(f"{len(groups)} feeds", file=sys.stderr)


if __name__ == "__main__":
    main()
