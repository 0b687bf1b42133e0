"""Publishing next to a site: RFC 5005 archives, index.html, feeds.opml, WebSub."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lxml import etree, html

from feeds import Report, delta, parallel, render
from feeds.build import check
from feeds.config import Config
from feeds.pages import Page
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
    desk_record(folder, n, published, ("robotics", "Robot", "Robots Daily", "robots"), "Robotics")


def desk_record(
    folder: Path, n: int, published: datetime, desk: tuple[str, str, str, str], topics: str
) -> None:
    """Story `n` of a desk: (its folder, what its stories are called, its provider's name, its
    domain's first label)."""
    name, story, provider, domain = desk
    write_record(
        folder,
        f"{name}/{n:03d}.md",
        f"""
title: {story} story {n}
webUrl: https://{domain}.example/{n}
publishedDateTime: {published.isoformat()}
provider: {{name: {provider}, domain: {domain}.example}}
topics: [{topics}]
""",
    )


@pytest.fixture
def months_of_news(tmp_path: Path) -> Path:
    """30 stories, one every 6 days from January 2024: about six months of archives."""
    seeds = tmp_path / "seeds"
    for n in range(30):
        robotics_record(seeds, n, datetime(2024, 1, 2, 9, tzinfo=UTC) + timedelta(days=6 * n))
    return seeds


def build_small(seeds: Path, output: Path, **config: object) -> Report:
    cache = output.parent / f"{output.name}-cache"
    return build_into(seeds, output, BASE_URL, limit=LIMIT, cache=cache, **config)


def walk_archive(output: Path, start: str) -> list[list[str]]:
    """Follow `prev-archive` from the subscription document; the item ids page by page."""
    pages: list[list[str]] = []
    path = start
    while path:
        root = xml(output / path)
        holder = root.find("channel") if root.tag == "rss" else root
        assert holder is not None
        if pages:
            assert holder.find(FH) is not None, f"{path} is marked as an archive"
            (current,) = [a for a in holder.iterfind("atom:link", NS) if a.get("rel") == "current"]
            assert current.get("href") == BASE_URL + start
        assert not next_archive_links(root), f"{path} links to a newer page"
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


def next_archive_links(root: etree._Element) -> list[etree._Element]:
    """Every `link rel="next-archive"` of a feed, in any namespace (Atom's own, `atom:link` in RSS)."""
    found: list[etree._Element] = root.xpath('//*[local-name()="link"][@rel="next-archive"]')
    return found


def walk_json(output: Path, start: str) -> list[list[str]]:
    pages: list[list[str]] = []
    path = start
    while path:
        feed = json.loads((output / path).read_text(encoding="utf-8"))
        assert "next-archive" not in json.dumps(feed), f"{path} links to a newer page"
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


def space_record(folder: Path, n: int, published: datetime) -> None:
    desk_record(folder, n, published, ("space", "Space", "Orbit News", "orbit"), "Space, Robotics")


def two_desks(seeds: Path) -> Path:
    """`months_of_news` and 12 stories of a second topic and provider, one every 11 days."""
    for n in range(12):
        space_record(seeds, n, datetime(2024, 1, 5, 15, tzinfo=UTC) + timedelta(days=11 * n))
    return seeds


def is_archive(path: str) -> bool:
    return "/20" in path


def archive_chain(output: Path, start: str) -> list[str]:
    """The pages a reader visits from subscription document `start`, following the links to
    older pages (`prev-archive`, `next_url`)."""
    chain: list[str] = []
    path = start
    while path:
        assert path not in chain, f"{path} comes round again"
        chain.append(path)
        if path.endswith(".json"):
            older = json.loads((output / path).read_text(encoding="utf-8")).get("next_url", "")
        else:
            root = xml(output / path)
            hrefs = root.xpath('//*[local-name()="link"][@rel="prev-archive"]/@href')
            assert len(hrefs) <= 1, f"{path} has {len(hrefs)} prev-archive links"
            older = str(hrefs[0]) if hrefs else ""
        path = older.removeprefix(BASE_URL)
    return chain


@pytest.mark.parametrize("split_months_over", [500, 2], ids=["by-month", "by-day"])
def test_no_archive_page_in_any_group_or_format_links_to_a_newer_page(
    months_of_news: Path, tmp_path: Path, split_months_over: int
) -> None:
    output = tmp_path / "out"
    build_small(two_desks(months_of_news), output, split_months_over=split_months_over)
    feeds = feeds_of(output)
    archives = {p for p in feeds if is_archive(p)}
    walked: set[str] = set()
    for start in (p for p in feeds if not is_archive(p)):
        chain = archive_chain(output, start)
        walked.update(chain[1:])
        if start.endswith(".json"):
            assert walk_json(output, start)
        else:
            assert walk_archive(output, start)
        for path in chain:
            data = (output / path).read_bytes()
            assert b"next-archive" not in data, path
            if not path.endswith(".json"):
                assert next_archive_links(xml(output / path)) == [], path
                continue
            feed = json.loads(data)
            # JSON Feed has no `next-archive`: no top-level URL may lead to a newer page.
            newer = chain[: chain.index(path)]
            links = {v for k, v in feed.items() if k != "items" and isinstance(v, str)}
            assert {BASE_URL + p for p in newer[1:]} & links == set(), path
    assert walked == archives, "the walk reaches every archive page, and only those"
    groups = {p.rsplit("/", 1)[0] for p in archives}
    assert groups == {
        "all",
        "topics/robotics",
        "topics/space",
        "providers/robots-example",
        "providers/orbit-example",
    }
    days = {p for p in archives if len(p.rsplit("/", 1)[1].split(".")[0]) == len("2024-05-31")}
    assert bool(days) == (split_months_over == 2), "the by-day build has day pages"


def archives_off_checks(output: Path) -> None:
    files = files_of(output)
    feeds = feeds_of(output)
    assert [p for p in files if is_archive(p)] == [], "no archive page on disk"
    assert {p.rsplit("/", 1)[0] for p in files if "/" in p} == {"topics", "providers"}, (
        "no topics/<slug>/ or providers/<slug>/ or all/ folder"
    )
    for kind in ("topics", "providers"):
        assert [p for p in (output / kind).iterdir() if p.is_dir()] == [], "emptied folders go"
    assert not (output / "all").exists()
    assert len(feeds) == 5 * 3  # all, 2 topics, 2 providers
    for path in feeds:
        data = (output / path).read_bytes()
        assert b"prev-archive" not in data and b"fh:archive" not in data, path
        assert b"purl.org/syndication/history" not in data, path
        if path.endswith(".json"):
            feed = json.loads(data)
            assert "next_url" not in feed, path
            assert len(feed["items"]) == LIMIT, path
            continue
        root = xml(output / path)
        holder = root.find("channel") if root.tag == "rss" else root
        assert holder is not None
        assert holder.find(FH) is None
        assert root.xpath('//*[local-name()="link"][@rel="prev-archive"]') == [], path
        items = holder.findall("item") if root.tag == "rss" else holder.findall("atom:entry", NS)
        assert len(items) == LIMIT, path


def test_archives_off_writes_no_archive_and_removes_the_old_ones(
    months_of_news: Path, tmp_path: Path
) -> None:
    seeds = two_desks(months_of_news)
    off = tmp_path / "off"
    build_small(seeds, off, archives=False)
    archives_off_checks(off)

    output = tmp_path / "out"
    build_small(seeds, output)
    before = files_of(output)
    assert len([p for p in before if is_archive(p)]) >= 4 * 5 * 3
    build_small(seeds, output, archives=False)
    archives_off_checks(output)
    visible = {p: d for p, d in files_of(output).items() if not p.startswith(".")}
    assert visible == {p: d for p, d in files_of(off).items() if not p.startswith(".")}, (
        "the same files as a build that never had archives"
    )
    build_small(seeds, output)
    again = {p: d for p, d in files_of(output).items() if not p.startswith(".")}
    assert again == {p: d for p, d in before.items() if not p.startswith(".")}, (
        "archives back on: the same files as before"
    )


HOSTILE_BODY = """\
Before.

<script>alert(1)</script>

<img src="a.png" onerror="x()">

<a href="javascript:x()">j</a> and <a href="JaVaScRiPt:x()">J</a> and <a href="&#106;avascript:x()">e</a>

<img src="data:image/png;base64,AAAA" alt="data">

[r](/path)
"""


def item_html_of(path: Path) -> str:
    """The HTML of a feed's one item: JSON `content_html`, Atom `<content>`, RSS
    `<content:encoded>` (or `<description>`, which holds it when there is no excerpt)."""
    if path.suffix == ".json":
        (item,) = json.loads(path.read_text(encoding="utf-8"))["items"]
        return str(item["content_html"])
    root = xml(path)
    if root.tag == "rss":
        (item,) = root.iter("item")
        (element,) = item.findall("content:encoded", NS) or item.findall("description")
    else:
        (element,) = root.iterfind("atom:entry/atom:content", NS)
        assert element.get("type") == "html"
    return element.text or ""


@pytest.mark.parametrize("excerpt", [True, False], ids=["with-excerpt", "body-only"])
def test_item_html_is_sanitized_and_relative_urls_resolve_against_the_article(
    tmp_path: Path, excerpt: bool
) -> None:
    seeds, output = tmp_path / "seeds", tmp_path / "out"
    write_record(
        seeds,
        "hostile.md",
        """
title: A hostile body
webUrl: https://host.example/a/b
publishedDateTime: 2024-03-01T10:00:00Z
provider: {name: Host, domain: host.example}
topics: [Security]
"""
        + ("excerpt: What it says, in short.\n" if excerpt else ""),
        HOSTILE_BODY,
    )
    build_into(seeds, output)
    feeds = feeds_of(output)
    assert len(feeds) == 3 * 3  # all, topics/security, providers/host-example
    for path in feeds:
        if path.endswith(".rss.xml"):
            encoded = list(xml(output / path).iter(f"{{{NS['content']}}}encoded"))
            assert len(encoded) == excerpt, "content:encoded beside an excerpt"
        content = item_html_of(output / path)
        lowered = content.lower()
        assert "<script" not in lowered, path
        assert "onerror" not in lowered, path
        assert "javascript:" not in lowered and "&#106;avascript" not in lowered, path
        assert "data:" not in lowered, path
        fragment = html.fragment_fromstring(content, create_parent="div")
        hrefs = [a.get("href") for a in fragment.iter("a")]
        assert hrefs == [
            None,
            None,
            None,
            "https://host.example/path",
            "https://host.example/a/b",
        ], path
        assert [a.text_content() for a in fragment.iter("a")][:4] == ["j", "J", "e", "r"]
        images = [(i.get("src"), i.get("alt")) for i in fragment.iter("img")]
        assert images == [("https://host.example/a/a.png", None), (None, "data")], path
        assert [sorted(i.attrib) for i in fragment.iter("img")] == [["src"], ["alt"]], path
        assert all(sorted(a.attrib) in ([], ["href"]) for a in fragment.iter("a")), path


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
        self.status = status  # what it answers: 204 takes the notification
        self.taking: int | None = None  # requests it takes before it answers 429 (a rate limit)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hub.requests.append(parse_qs(self.rfile.read(length).decode()))
                limited = hub.taking is not None and hub.taking <= 0
                if hub.taking:
                    hub.taking -= 1
                self.send_response(429 if limited else hub.status)
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

    hub.requests.clear()
    third = build_into(seeds, output, websub_hub=hub.url, cache=tmp_path / "cache")
    assert hub.requests == [] and third.notified == () and third.hub_problem is None


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


def test_feeds_a_failing_hub_or_a_killed_run_did_not_announce_are_announced_next_time(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feeds written while the hub fails are told to it by the next run it takes them from,
    whether that run changes anything or not; so are those of a run killed before it told the
    hub. Once taken, they are not told again."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"
    shutil.copytree(CORPUS, seeds)
    build = partial(build_into, seeds, output, websub_hub=hub.url, cache=cache)
    hub.status = 500
    assert build().hub_problem
    current = sorted(BASE_URL + p for p in feeds_of(output) if "/20" not in p)
    record = seeds / "2020/jinkou-chinou.md"
    record.write_text(record.read_text().replace("新戦略", "新たな戦略"), encoding="utf-8")
    assert build().hub_problem, "still failing: the first run's feeds and the second's wait"
    hub.status, hub.requests = 204, []
    taken = build()  # nothing changed since
    assert taken.hub_problem is None and hub.urls() == sorted(taken.notified) == current
    hub.requests.clear()
    assert build().notified == () and hub.requests == []

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the run stops as the hub is about to hear of its feeds

    monkeypatch.setattr("feeds.websub.notify", killed)
    record.write_text(record.read_text().replace("新たな戦略", "新戦略"), encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build()
    monkeypatch.undo()
    assert build().hub_problem is None
    assert hub.urls() == sorted(
        BASE_URL + f"{group}.{fmt}"
        for group in ("all", "topics/ai", "topics/rengongzhineng--d6bc0a3e4d1291f4",
                      "providers/nikkei-com")
        for fmt in ("rss.xml", "atom.xml", "json")
    )  # fmt: skip


def test_a_hub_that_takes_a_few_batches_a_run_hears_of_each_feed_once(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hub that takes two requests a run and refuses the next (a rate limit): each run tells
    it what it has not taken yet, until it has taken every feed, each once."""
    monkeypatch.setattr("feeds.websub.BATCH", 5)
    seeds, output, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"
    shutil.copytree(CORPUS, seeds)
    taken: list[str] = []
    for _ in range(10):
        hub.taking, hub.requests = 2, []
        report = build_into(seeds, output, websub_hub=hub.url, cache=cache)
        taken += [url for request in hub.requests[:2] for url in request["hub.url"]]
        if report.hub_problem is None:
            break
        assert "429" in report.hub_problem
    current = sorted(BASE_URL + p for p in feeds_of(output) if "/20" not in p)
    assert len(current) > 20, "more batches than a run's two"
    assert sorted(taken) == current, "each feed taken once"
    hub.taking, hub.requests = None, []
    assert build_into(seeds, output, websub_hub=hub.url, cache=cache).notified == ()


def test_websub_hub_hears_nothing_when_no_feed_changed(
    hub: Hub, months_of_news: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"

    def rebuild() -> tuple[tuple[str, ...], set[str]]:
        """Build; what the hub was told and which subscription documents' bytes changed."""
        before = files_of(output) if output.exists() else {}
        hub.requests.clear()
        report = build_small(months_of_news, output, websub_hub=hub.url)
        after = files_of(output)
        changed = {p for p in feeds_of(output) if not is_archive(p) and before.get(p) != after[p]}
        assert report.hub_problem is None
        return report.notified, changed

    notified, changed = rebuild()
    assert len(changed) == 3 * 3 and hub.urls() == sorted(BASE_URL + p for p in changed)
    assert sorted(notified) == hub.urls()

    notified, changed = rebuild()  # nothing changed
    assert (hub.requests, notified, changed) == ([], (), set())

    record = months_of_news / "robotics/007.md"
    record.write_bytes(record.read_bytes())  # the same bytes, a newer mtime
    notified, changed = rebuild()
    assert (hub.requests, notified, changed) == ([], (), set())

    # A story of February: only archive pages (and index.html) change, no subscription document.
    robotics_record(months_of_news, 99, datetime(2024, 2, 15, 12, tzinfo=UTC))
    before = files_of(output)
    notified, changed = rebuild()
    assert files_of(output)["topics/robotics/2024-02.rss.xml"] != before.get(
        "topics/robotics/2024-02.rss.xml"
    )
    assert (hub.requests, notified, changed) == ([], (), set())

    notified, changed = rebuild()  # nothing changed, after a delta run
    assert (hub.requests, notified, changed) == ([], (), set())


ROBOTS_GROUPS = ("all", "topics/robotics", "providers/robots-example")


def robots_files(period: str | None = None) -> set[str]:
    """The files of every group of `months_of_news` for one archive period (None: the
    subscription documents), in every format."""
    return {
        f"{group}/{period}.{fmt}" if period else f"{group}.{fmt}"
        for group in ROBOTS_GROUPS
        for fmt in ("rss.xml", "atom.xml", "json")
    }


def feeds_written(report: Report) -> set[str]:
    """The feed files (pages in every format) the run wrote: not the site's, not bookkeeping."""
    return {
        path
        for path in report.written
        if path.endswith((".rss.xml", ".atom.xml", ".json")) and not path.startswith(".")
    }


@pytest.mark.parametrize("way", ["delta", "full"])
def test_an_unchanged_page_is_not_even_rendered_again(
    months_of_news: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    """README, "Archives": a complete month never changes again, and an unchanged page is not
    even rendered again. Counted where a page's bytes are made (`_Renderer.page_bytes`), all in
    this process (no worker), after a run of a few changes (`delta`) and when the run goes the
    full way, planning every page (`delta.run` finds it must)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.setattr(sys.modules["feeds.build"], "PARALLEL_WORK", 10**9)

    def no_workers(workers: int) -> object:
        raise AssertionError(f"{workers} worker processes were started")

    monkeypatch.setattr(parallel, "_pool", no_workers)
    made: list[str] = []
    real = render._Renderer.page_bytes

    def page_bytes(self: object, page: Page, fmt: str, batch: object) -> bytes:
        made.append(page.path(fmt))
        return real(self, page, fmt, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(render._Renderer, "page_bytes", page_bytes)
    output = tmp_path / "out"
    build_small(months_of_news, output)
    months = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    every = robots_files().union(*(robots_files(m) for m in months))
    assert sorted(made) == sorted(every), "the first build makes every page, once"
    went: list[str] = []  # the way each rebuild went
    real_run = delta.run

    def run(*args: object, **kwargs: object) -> object:
        found = real_run(*args, **kwargs) if way == "delta" else None  # type: ignore[arg-type]
        went.append("full" if found is None else "delta")
        return found

    monkeypatch.setattr(delta, "run", run)

    # A story in the newest month (June: all in the feed, limit 5) pushes May 31 into the
    # newest archive page: that page and the subscription documents change, nothing older.
    made.clear()
    robotics_record(months_of_news, 30, datetime(2024, 6, 27, 9, tzinfo=UTC))
    report = build_small(months_of_news, output)
    assert sorted(made) == sorted(robots_files() | robots_files("2024-05"))
    assert feeds_written(report) == set(made), "each page made was written: it changed"

    # A story backdated into the newest archive month: only that month's pages are made; the
    # subscription documents do not change, and are not made again either.
    made.clear()
    robotics_record(months_of_news, 31, datetime(2024, 5, 28, 9, tzinfo=UTC))
    report = build_small(months_of_news, output)
    assert sorted(made) == sorted(robots_files("2024-05"))
    assert feeds_written(report) == set(made)
    assert went == [way, way]
    assert "https://robots.example/31" in (output / "topics/robotics/2024-05.rss.xml").read_text()
