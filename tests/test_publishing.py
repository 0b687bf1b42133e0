"""Publishing next to a site: RFC 5005 archives, index.html, feeds.opml, WebSub."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lxml import etree, html

from feeds.build import check
from feeds.config import Config
from tests.helpers import (
    BASE_URL,
    CORPUS,
    NS,
    SEEDS,
    build_into,
    feeds_of,
    files_of,
    write_record,
    xml,
)

FH = "{http://purl.org/syndication/history/1.0}archive"
LIMIT = 5


def robotics_record(folder: Path, n: int, published: datetime) -> None:
    write_record(
        folder,
        f"robotics/{n:03d}.md",
        f"""
title: Robot story {n}
webUrl: https://robots.example/{n}
publishedDateTime: {published.isoformat()}
provider: {{name: Robots Daily, domain: robots.example}}
topics: [Robotics]
""",
    )


@pytest.fixture
def months_of_news(tmp_path: Path) -> Path:
    """30 stories, one every 6 days from January 2024: about six months of archives."""
    seeds = tmp_path / "seeds"
    for n in range(30):
        robotics_record(seeds, n, datetime(2024, 1, 2, 9, tzinfo=UTC) + timedelta(days=6 * n))
    return seeds


def build_small(seeds: Path, output: Path, **config: object) -> None:
    build_into(seeds, output, limit=LIMIT, cache=output.parent / f"{output.name}-cache", **config)


def walk_archive(output: Path, start: str) -> list[list[str]]:
    """Follow `prev-archive` from the subscription document; the item ids page by page."""
    pages, path = [], start
    while path:
        root = xml(output / path)
        holder = root.find("channel") if root.tag == "rss" else root
        assert holder is not None
        if pages:
            assert holder.find(FH) is not None, f"{path} is marked as an archive"
            (current,) = [a for a in holder.iterfind("atom:link", NS) if a.get("rel") == "current"]
            assert current.get("href") == BASE_URL + start
        if root.tag == "rss":
            pages.append([i.findtext("guid") or "" for i in holder.iter("item")])
        else:
            pages.append([e.findtext("atom:id", "", NS) for e in holder.iterfind("atom:entry", NS)])
        older = [
            a.get("href", "")
            for a in holder.iterfind("atom:link", NS)
            if a.get("rel") == "prev-archive"
        ]
        path = older[0].removeprefix(BASE_URL) if older else ""
    return pages


def walk_json(output: Path, start: str) -> list[list[str]]:
    pages, path = [], start
    while path:
        feed = json.loads((output / path).read_text(encoding="utf-8"))
        pages.append([item["id"] for item in feed["items"]])
        path = feed.get("next_url", "").removeprefix(BASE_URL)
    return pages


def test_every_item_is_reachable_exactly_once_through_the_archives(
    months_of_news: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    build_small(months_of_news, output)
    everything = [f"https://robots.example/{n}" for n in reversed(range(30))]
    for start in ("topics/robotics.rss.xml", "topics/robotics.atom.xml"):
        chain = walk_archive(output, start)
        assert len(chain[0]) == LIMIT
        assert len(chain) >= 6, "one page per month"
        assert [i for page in chain for i in page] == everything
    json_chain = walk_json(output, "topics/robotics.json")
    assert [i for page in json_chain for i in page] == everything
    assert sorted(p for p in files_of(output) if p.startswith("topics/robotics/")) == sorted(
        f"topics/robotics/2024-{m:02d}.{fmt}"
        for m in range(1, 6)
        for fmt in ("rss.xml", "atom.xml", "json")
    )


def archive_pages(output: Path) -> dict[str, bytes]:
    return {p: d for p, d in files_of(output).items() if p.startswith("topics/robotics/")}


def test_new_stories_leave_complete_archive_pages_alone(
    months_of_news: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    build_small(months_of_news, output)
    before = archive_pages(output)
    newest_month = max(p.rsplit("/", 1)[1].split(".")[0] for p in before)
    for n in range(30, 33):
        robotics_record(months_of_news, n, datetime(2024, 7, 1, tzinfo=UTC) + timedelta(days=n))
    build_small(months_of_news, output)
    after = archive_pages(output)
    changed = {p for p in before if after.get(p) != before[p]}
    assert changed <= {p for p in before if newest_month in p}, "only the page items fell into"
    assert len(before) >= 12 and len(changed) < len(before)


def test_a_backdated_story_changes_only_its_own_month(months_of_news: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    build_small(months_of_news, output)
    before = files_of(output)
    robotics_record(months_of_news, 99, datetime(2024, 2, 15, 12, tzinfo=UTC))
    build_small(months_of_news, output)
    after = files_of(output)
    changed = {p for p in after if before.get(p) != after[p] and not p.startswith(".feeds-")}
    months = {p for p in changed if "/2024-" in p}
    assert months == {
        f"{group}/2024-02.{fmt}"
        for group in ("all", "topics/robotics", "providers/robots-example")
        for fmt in ("rss.xml", "atom.xml", "json")
    }
    assert changed - months == {"index.html"}, "its item counts, and nothing else"


@pytest.mark.parametrize("seeds", [SEEDS, CORPUS], ids=["seeds", "corpus"])
def test_index_and_opml_list_every_feed_and_every_link_resolves(
    seeds: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    build_into(seeds, output)
    produced = set(files_of(output))
    feeds = {p for p in feeds_of(output) if "/20" not in p}
    page = html.fromstring((output / "index.html").read_bytes())
    links = {a.get("href") for a in page.iter("a")} | {
        link.get("href") for link in page.iter("link") if link.get("rel") == "alternate"
    }
    assert all(link.startswith(BASE_URL) for link in links)
    assert {link.removeprefix(BASE_URL) for link in links} - produced == set()
    assert feeds <= {link.removeprefix(BASE_URL) for link in links}
    assert [h.text for h in page.iter("h2")] == ["Everything", "Topics", "Providers"]
    collection = check(Config(seeds=seeds)).collection
    rows = page.xpath("//tbody/tr")
    assert len(rows) == len(collection.groups)
    opml = etree.parse(str(output / "feeds.opml")).getroot()
    outlines = opml.findall("body/outline/outline")
    assert len(outlines) == len(collection.groups)
    for outline in outlines:
        assert outline.get("type") == "rss" and outline.get("text") and outline.get("title")
        assert outline.get("xmlUrl", "").removeprefix(BASE_URL) in produced
        assert outline.get("htmlUrl") == BASE_URL


def test_newsboat_imports_the_opml(newsboat: str, tmp_path: Path) -> None:
    output = tmp_path / "out"
    build_into(CORPUS, output)
    urls = tmp_path / "urls"
    done = subprocess.run(
        [newsboat, "-u", str(urls), "-i", str(output / "feeds.opml")],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    imported = [line.split()[0] for line in urls.read_text().splitlines() if line.strip()]
    expected = [BASE_URL + p for p in feeds_of(output, (".rss.xml",))]
    assert sorted(imported) == sorted(expected)


class Hub:
    """A WebSub hub on loopback that records what it is told, or fails on purpose."""

    def __init__(self, status: int = 204) -> None:
        self.requests: list[dict[str, list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hub.requests.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def urls(self) -> list[str]:
        return sorted(url for request in self.requests for url in request["hub.url"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub()
    yield running
    running.close()


def test_websub_hub_is_announced_and_told_exactly_what_changed(hub: Hub, tmp_path: Path) -> None:
    seeds, output = tmp_path / "seeds", tmp_path / "out"
    shutil.copytree(CORPUS, seeds)
    report = build_into(seeds, output, websub_hub=hub.url, cache=tmp_path / "cache")
    current = [p for p in feeds_of(output) if "/20" not in p]
    assert report.hub_problem is None
    assert hub.urls() == sorted(BASE_URL + p for p in current)
    assert all(r["hub.mode"] == ["publish"] for r in hub.requests)
    for path in current:
        if path.endswith(".json"):
            feed = json.loads((output / path).read_text())
            assert feed["hubs"] == [{"type": "WebSub", "url": hub.url}]
            continue
        root = xml(output / path)
        holder = root.find("channel") if root.tag == "rss" else root
        assert holder is not None
        rels = {a.get("rel"): a.get("href") for a in holder.iterfind("atom:link", NS)}
        assert rels["hub"] == hub.url and rels["self"] == BASE_URL + path

    hub.requests.clear()
    record = seeds / "2020/jinkou-chinou.md"
    record.write_text(record.read_text().replace("新戦略", "新たな戦略"), encoding="utf-8")
    build_into(seeds, output, websub_hub=hub.url, cache=tmp_path / "cache")
    assert hub.urls() == sorted(
        BASE_URL + f"{group}.{fmt}"
        for group in (
            "all",
            "topics/ai",
            "topics/rengongzhineng--d6bc0a3e4d1291f4",
            "providers/nikkei-com",
        )
        for fmt in ("rss.xml", "atom.xml", "json")
    )


def test_a_failing_hub_is_a_warning_not_a_failed_build(tmp_path: Path) -> None:
    failing = Hub(status=500)
    try:
        report = build_into(SEEDS, tmp_path / "out", websub_hub=failing.url)
    finally:
        failing.close()
    assert report.hub_problem == f"the WebSub hub {failing.url} answered 500 Internal Server Error"
    assert (tmp_path / "out/all.rss.xml").exists()
    unreachable = build_into(
        SEEDS, tmp_path / "out2", websub_hub="http://127.0.0.1:9/hub", cache=tmp_path / "c2"
    )
    assert (unreachable.hub_problem or "").startswith("the WebSub hub http://127.0.0.1:9/hub could")
