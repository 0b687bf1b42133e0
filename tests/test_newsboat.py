"""Every produced feed, fetched over HTTP and stored by a real reader: newsboat.

feedparser (test_feedparser.py) is a library; this is a reader people use. For the test corpus,
the shipped seeds and a generated set of awkward titles, each .rss.xml/.atom.xml file is served
from a loopback HTTP server, reloaded by `newsboat -x reload` into a cache of its own, and read
back from that SQLite cache. It proves that for every feed newsboat stores exactly the items the
feed should show (the newest `Config.limit`), each with its exact title, the article URL as its
link (never the image enclosure or a related story) and its publication instant.

What newsboat 2.21 does, read in its source (rss/atomparser.cpp, src/rssparser.cpp, src/cache.cpp)
and checked by experiment:
- Titles: libxml2 decodes the XML escapes once; titles of type text (RSS, and Atom without a
  `type`) are then stored as-is except that CR/LF become spaces and the ends are trimmed. The
  project already strips and collapses spaces, so the stored title must equal `Article.title`
  exactly; an Atom `type="html"` title would instead be rendered to text by newsboat.
- Atom links: a `<link>` with `rel="alternate"` or no `rel` becomes the item's URL (the last such
  wins); `rel="enclosure"` is kept as an enclosure only for audio/*, video/* and application/ogg,
  so image enclosures are dropped; any other `rel` ("related") is ignored. Without an alternate
  link the URL is empty: no fallback to the id, an enclosure or a related link. `test_atom_link_is_chosen_by_rel_not_order`
  proves the choice follows `rel`, not position.
- Dates: `pubDate` is Unix seconds from `<pubDate>` / Atom `<published>` (else `<updated>`); an
  item without either would get the time of the reload, which the comparison would catch.
- Items are keyed by GUID across the whole cache (newsboat issue #898): an article in several feeds
  is stored once, under whichever feed wrote it last. Hence one cache per feed file.
- A failed reload (HTTP error, no server, not a feed) exits 0 and prints nothing; it only writes
  to the `error-log` file and leaves no `rss_feed` row, so both are checked. A truncated, not
  well-formed file is recovered silently (libxml2 recovery): the whole items before the cut, plus
  the cut one with an empty title and link, dated at the reload. Only the item comparison
  catches that.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from feeds.build import check
from feeds.config import Config
from feeds.pages import pages
from tests.helpers import CORPUS, NS, SEEDS, build_into, feeds_of, write_record

# One reload of one small file over loopback takes well under a second; this only bounds a hang.
RELOAD_TIMEOUT = 30

# Only what a reload of one loopback URL needs. `error-log` is newsboat's only report of a failed
# reload; `keep-articles-days 0` and `max-items 0` (the defaults, pinned here) keep the 2020 items
# and all 50 of a full feed; `download-full-page no` keeps newsboat from fetching article URLs.
CONFIG = """\
error-log "{error_log}"
download-timeout 10
download-retries 1
keep-articles-days 0
max-items 0
download-full-page no
cleanup-on-quit no
prepopulate-query-feeds no
reload-threads 1
use-proxy no
"""

XML_FEEDS = (".rss.xml", ".atom.xml")

Row = tuple[str, str, int]  # (title, url, pubDate)


@dataclass(frozen=True)
class Site:
    root: Path  # served as `url`
    url: str


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is noise in pytest's output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A loopback HTTP server on an ephemeral port, serving a temporary folder."""
    root = tmp_path_factory.mktemp("newsboat-site")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Site(root, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _edge_seeds(folder: Path) -> Path:
    """More records than a feed shows (55), with titles that are easy to get wrong in XML.

    The corpus titles have no `&`, `<` or quotes and no feed there reaches the limit; these do.
    """
    titles = [
        "AT&T and R&D: \"quotes\", 'apostrophes' & 5 < 6 > 4",
        "Text that looks escaped: &amp; &lt;b&gt;",  # the project decodes it to `& <b>`
        "Use <b>bold</b> markup",  # the project keeps the text, drops the tags
        "  padded \t and  spaced  ",  # the project strips and collapses
        "Ünïcödé — dash … ellipsis, emoji 🚀",
        "CDATA end ]]> inside",
    ]
    start = datetime(2021, 3, 1, 9, 15, tzinfo=UTC)
    for i in range(55):
        # A non-UTC offset in the record: the feed must still carry the same instant.
        published = (start + timedelta(hours=7 * i)).astimezone(timezone(timedelta(hours=2)))
        write_record(
            folder,
            f"edge/{i:02d}.md",
            f"""
title: {json.dumps(f"{titles[i % len(titles)]} #{i}", ensure_ascii=False)}
webUrl: "https://example.com/news/{i}?a=1&b=2"
publishedDateTime: {published.isoformat()}
provider:
  name: Example & Co
  domain: example.com
topics:
  - Tricky & Titles
""",
        )
    return folder


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        "corpus": CORPUS,
        "seeds": SEEDS,
        "edge": _edge_seeds(tmp_path_factory.mktemp("edge-seeds")),
    }


def _reload(newsboat: str, url: str, work: Path) -> list[Row]:
    """Reload `url` alone into a fresh cache; its stored items, or a loud failure."""
    work.mkdir(parents=True)
    urls, cache, config, error_log = (work / n for n in ("urls", "cache.db", "config", "errors"))
    urls.write_text(url + "\n", encoding="utf-8")
    config.write_text(CONFIG.format(error_log=error_log), encoding="utf-8")
    # A fresh environment: HOME points into `work` so nothing touches the real home (each run has
    # its own, so parallel runs share nothing), no proxy variable can send the loopback request
    # elsewhere, and a non-UTC zone shows the stored instants do not depend on the reader's zone.
    env = {
        "HOME": str(work),
        "PATH": os.environ.get("PATH", os.defpath),
        "LC_ALL": "C.UTF-8",
        "TZ": "Asia/Tokyo",
    }
    command = [newsboat, "-u", str(urls), "-c", str(cache), "-C", str(config), "-x", "reload"]
    done = subprocess.run(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RELOAD_TIMEOUT,
        check=False,
    )
    errors = error_log.read_text(encoding="utf-8") if error_log.exists() else ""
    feeds: list[str] = []
    rows: list[tuple[str, str, int, str, int]] = []
    if cache.exists():
        with closing(sqlite3.connect(f"file:{cache}?mode=ro", uri=True)) as db:
            feeds = [rssurl for (rssurl,) in db.execute("SELECT rssurl FROM rss_feed")]
            rows = db.execute(
                "SELECT title, url, pubDate, feedurl, deleted FROM rss_item ORDER BY id"
            ).fetchall()
    # newsboat exits 0 even when the reload failed, and reports config errors on stdout: only the
    # error log and a missing feed row tell, so all of it goes in the message.
    assert done.returncode == 0 and not errors.strip() and feeds == [url], (
        f"newsboat could not reload {url}: exit {done.returncode}, feeds stored {feeds}\n"
        f"error-log: {errors}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    )
    assert all(feedurl == url and not deleted for *_, feedurl, deleted in rows), rows
    return [(title, link, pub_date) for title, link, pub_date, *_ in rows]


def _expected(seeds: Path) -> dict[str, list[Row]]:
    """The items each feed file should show, by the file's relative path."""
    config = Config(seeds=seeds)
    expected: dict[str, list[Row]] = {}
    for group in check(config).collection.groups:
        for page in pages(group, config):  # the subscription document and its archive pages
            rows = [(a.title, a.url, int(a.published.timestamp())) for a in page.articles]
            for fmt in ("rss", "atom"):
                expected[page.path(fmt)] = sorted(rows)
    return expected


@pytest.mark.parametrize("source", ["corpus", "seeds", "edge"])
def test_newsboat_stores_every_item_of_every_feed(
    newsboat: str, site: Site, sources: dict[str, Path], tmp_path: Path, source: str
) -> None:
    seeds = sources[source]
    output = site.root / source
    # Built at the served URL, so the self links name the very address newsboat fetches.
    build_into(seeds, output, base_url=f"{site.url}{source}/")
    expected = _expected(seeds)
    # newsboat reads RSS and Atom, not JSON Feed (not even its newest versions): the .json feeds
    # are left to their own tests.
    paths = [path for path in feeds_of(output) if path.endswith(XML_FEEDS)]
    assert sorted(paths) == sorted(expected), "every page of every group, in RSS and Atom"
    if source == "edge":
        assert len(expected["all.atom.xml"]) == Config(seeds=seeds).limit, "a full feed is tested"
        assert any("/20" in path for path in expected), "and its archive pages"
    if source == "corpus":
        _assert_atom_links_could_mislead(output)

    def stored(path: str) -> list[Row]:
        return sorted(_reload(newsboat, f"{site.url}{source}/{path}", tmp_path / path))

    # The reloads are independent processes; running a few at once keeps the test at seconds.
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip(paths, pool.map(stored, paths), strict=True))
    wrong = {
        path: (results[path], expected[path]) for path in paths if results[path] != expected[path]
    }
    assert not wrong, (
        "newsboat stored (title, url, pubDate) rows other than expected:\n"
        + "\n".join(
            f"{path}:\n  stored   {got}\n  expected {want}" for path, (got, want) in wrong.items()
        )
    )


def _links(entry: etree._Element) -> list[etree._Element]:
    return entry.findall("atom:link", NS)


def _assert_atom_links_could_mislead(output: Path) -> None:
    """The corpus Atom entries carry image and related links, so a wrong pick would show."""
    rels = {
        link.get("rel")
        for entry in etree.parse(str(output / "all.atom.xml")).getroot().findall("atom:entry", NS)
        for link in _links(entry)
    }
    assert {"alternate", "enclosure", "related"} <= rels, rels


def test_atom_link_is_chosen_by_rel_not_order(newsboat: str, site: Site, tmp_path: Path) -> None:
    """newsboat takes the `alternate` link wherever it stands among the entry's links.

    The project writes the alternate link first, so "first link wins" would also pass the test
    above. Here the corpus's own all.atom.xml is rewritten with each entry's enclosure links
    first and related links last, around the alternate one: only a choice by `rel` still yields
    the article URL.
    """
    corpus = tmp_path / "corpus"
    build_into(CORPUS, corpus, base_url=f"{site.url}control/")
    tree = etree.parse(str(corpus / "all.atom.xml"))
    order = {"enclosure": 0, "alternate": 1, "related": 2}
    mixed = 0
    for entry in tree.getroot().findall("atom:entry", NS):
        links = _links(entry)
        for link in links:
            entry.remove(link)
        links.sort(key=lambda link: order.get(link.get("rel", "alternate"), 2))
        entry.extend(links)
        mixed += {link.get("rel") for link in links} == set(order)
    assert mixed, "some corpus entry must have enclosure, alternate and related links"
    served = site.root / "control" / "all.atom.xml"
    served.parent.mkdir(parents=True)
    tree.write(str(served), xml_declaration=True, encoding="UTF-8")

    stored = _reload(newsboat, f"{site.url}control/all.atom.xml", tmp_path / "newsboat")
    articles = check(Config(seeds=CORPUS)).collection.groups[0].articles
    assert sorted((title, url) for title, url, _ in stored) == sorted(
        (a.title, a.url) for a in articles
    )
