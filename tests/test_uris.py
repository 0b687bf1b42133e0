"""Every URL a feed carries is a URI (RFC 3986): readers and validators take nothing else.

A record may give its URL as a browser's address bar shows it (`https://bücher.de/ü`, a quote in
a path): the feeds carry it written as a URI, the way browsers send it. A URL that programs read
two ways (a backslash) or that would publish a password is refused, naming the file and field.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.build import check
from feeds.config import Config
from feeds.errors import ConfigError
from feeds.uris import NotAUri, as_uri, has_dot_segments
from tests.helpers import NS, build_into, write_record, xml

# RFC 3986's absolute URI with a host, from its grammar: scheme, authority (a `reg-name` or an
# IPv6 address, and a port), path, query and one fragment.
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_RFC3986 = re.compile(
    r"[a-z][a-z0-9+.-]*://"
    r"(?:\[[0-9a-f:.]+\]|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9A-F]{2})*)(?::[0-9]*)?"
    rf"(?:/{_PCHAR}*)*(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)

WRITTEN_AS_URIS = [
    ("https://bücher.de/a", "https://xn--bcher-kva.de/a"),
    ("HTTPS://News.Example.COM/a", "https://news.example.com/a"),
    ("https://News.Example.COM/a", "https://news.example.com/a"),  # the quick way's case
    ("https://faß.de/a", "https://xn--fa-hia.de/a"),  # as browsers: not fass.de (IDNA 2003)
    ("https://ex.com/a#b#c", "https://ex.com/a#b%23c"),
    ("https://ex.com/ü/ñ?ü=ñ#ß", "https://ex.com/%C3%BC/%C3%B1?%C3%BC=%C3%B1#%C3%9F"),
    ("https://ex.com/q\"uote'<tag>", "https://ex.com/q%22uote'%3Ctag%3E"),
    ("https://ex.com/{a}|^`", "https://ex.com/%7Ba%7D%7C%5E%60"),
    ("https://ex.com/100%25/%zz", "https://ex.com/100%25/%25zz"),
    ("https://ex.com/\u202egnp.exe\u200b", "https://ex.com/%E2%80%AEgnp.exe%E2%80%8B"),
    ("https://ex.com/[1]", "https://ex.com/%5B1%5D"),
    ("http://[::1]:8080/a", "http://[::1]:8080/a"),
    # The scheme's own port and dot segments, as browsers send them: without.
    ("https://ex.com:443/a", "https://ex.com/a"),
    ("http://ex.com:80/a", "http://ex.com/a"),
    ("https://ex.com:/a", "https://ex.com/a"),
    ("https://ex.com:0443/a", "https://ex.com/a"),
    ("https://ex.com:8443/a", "https://ex.com:8443/a"),
    ("http://[::1]:80/a", "http://[::1]/a"),
    ("https://ex.com/./a/b/../c", "https://ex.com/a/c"),
    ("https://ex.com/a/%2E%2e/b?c=/../d#/./e", "https://ex.com/b?c=/../d#/./e"),
    ("https://ex.com/a/..", "https://ex.com/"),
    ("https://ex.com/../a/.", "https://ex.com/a/"),
    ("https://ex.com/.well-known/a..b", "https://ex.com/.well-known/a..b"),
    ("https://ex.com:0000443/a", "https://ex.com/a"),
    ("https://ex.com:008080/a", "https://ex.com:8080/a"),
    ("https://ex.com", "https://ex.com/"),  # no path asks for `/`
    ("https://ex.com?q", "https://ex.com/?q"),
]


@pytest.mark.parametrize(("written", "carried"), WRITTEN_AS_URIS)
def test_a_record_url_is_carried_as_a_uri_in_every_format(
    tmp_path: Path, written: str, carried: str
) -> None:
    seeds = tmp_path / "seeds"
    image = written.split("#")[0].rstrip("/") + ".jpg"
    record = {"title": "A", "webUrl": written, "publishedDateTime": "2024-05-01T10:00:00Z",
              "images": [{"url": image}]}  # fmt: skip
    (seeds / "a.json").parent.mkdir()
    (seeds / "a.json").write_text(json.dumps(record), encoding="utf-8")
    report = build_into(seeds, tmp_path / "out")
    assert report.rejected == 0
    out = tmp_path / "out"
    rss = xml(out / "all.rss.xml")
    assert rss.findtext("channel/item/link") == carried
    assert rss.findtext("channel/item/guid") == carried
    enclosure = rss.find("channel/item/enclosure")
    assert enclosure is not None and _RFC3986.fullmatch(enclosure.get("url", ""))
    atom = xml(out / "all.atom.xml")
    assert atom.findtext("atom:entry/atom:id", namespaces=NS) == carried
    (item,) = json.loads((out / "all.json").read_text())["items"]
    assert (item["id"], item["url"]) == (carried, carried)
    for name in ("all.rss.xml", "all.atom.xml"):
        parsed = feedparser.parse(out / name)
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        assert parsed.entries[0].link == carried


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://ex.com\\@evil.com/", "must not contain a backslash (browsers read it as /, others do not)"),
        ("https://ex.com/a\\b", "must not contain a backslash (browsers read it as /, others do not)"),
        ("https://editor:secret@ex.com/a", "must not carry a user name or password (every reader would see it)"),
        ("https://" + "中" * 5000 + ".cn/a", "must be a URL with a well-formed host (a host of more than 253 characters)"),
        ("https://ex\"q.com/a", "must be a URL with a well-formed host (a character no host holds)"),
        ("https://b%C3%BCcher.de/a", "must be a URL with a well-formed host (a character no host holds)"),
    ],
)  # fmt: skip
def test_a_url_read_two_ways_or_carrying_a_password_is_refused(
    tmp_path: Path, url: str, message: str
) -> None:
    write_record(tmp_path, "a.md", f"title: A\nwebUrl: {json.dumps(url)}\n"
                 "publishedDateTime: 2024-05-01T10:00:00Z\n"
                 f"images: [{{url: {json.dumps(url + '.jpg')}}}]")  # fmt: skip
    write_record(tmp_path, "b.md", "title: B\nwebUrl: https://ex.com/b\n"
                 "publishedDateTime: 2024-05-01T10:00:00Z\n"
                 f"images: [{{url: {json.dumps(url + '.jpg')}}}]")  # fmt: skip
    checked = check(Config(seeds=tmp_path))
    assert [str(p) for p in checked.report.problems] == [
        f"a.md:3: error: webUrl: {message}",
        f"b.md:5: warning: images[0].url: {message}; image dropped",
    ]
    (article,) = checked.articles
    assert (article.url, article.images) == ("https://ex.com/b", ())


def test_one_url_written_in_two_cases_is_one_article(tmp_path: Path) -> None:
    """The scheme and host are not case-sensitive: the duplicate rule sees one URL."""
    write_record(tmp_path, "a.md", "title: A\nwebUrl: HTTPS://EX.COM/a\n"
                 "publishedDateTime: 2024-05-01T10:00:00Z")  # fmt: skip
    write_record(tmp_path, "b.md", "title: B\nwebUrl: https://ex.com/a\n"
                 "publishedDateTime: 2024-05-02T10:00:00Z")  # fmt: skip
    report = check(Config(seeds=tmp_path)).report
    assert (report.accepted, report.duplicates) == (1, 1)


def test_one_url_written_with_its_schemes_port_or_dot_segments_is_one_article(
    tmp_path: Path,
) -> None:
    """Browsers send these as one URL: the duplicate rule sees one, the first one kept."""
    written = ["https://ex.com/a", "https://ex.com:443/a", "https://EX.com/./a",
               "https://ex.com/b/../a", "https://ex.com:/a"]  # fmt: skip
    for day, url in enumerate(written, start=1):
        write_record(tmp_path, f"{day}.md", f"title: T{day}\nwebUrl: {url}\n"
                     f"publishedDateTime: 2024-05-0{day}T10:00:00Z")  # fmt: skip
    checked = check(Config(seeds=tmp_path))
    assert (checked.report.accepted, checked.report.duplicates) == (1, 4)
    assert [a.url for a in checked.articles] == ["https://ex.com/a"] * 5


@pytest.mark.parametrize("url", ["http://[::1]443/a", "http://[::1]x/a", "https://[::1]]443/a"])
def test_what_follows_an_ipv6_address_but_a_port_is_refused(tmp_path: Path, url: str) -> None:
    write_record(tmp_path, "a.md", f"title: A\nwebUrl: '{url}'\npublishedDateTime: 2024-05-01")
    checked = check(Config(seeds=tmp_path))
    assert checked.articles == () and checked.report.rejected == 1
    assert "webUrl: must be a URL with a well-formed host" in str(checked.report.problems[0])


def test_the_configuration_urls_are_carried_as_uris(tmp_path: Path) -> None:
    config = Config(base_url="https://bücher.de/nachrichten/ü", logo='https://Ex.com/logo-"a".png')
    assert config.base_url == "https://xn--bcher-kva.de/nachrichten/%C3%BC/"
    assert config.logo == "https://ex.com/logo-%22a%22.png"
    with pytest.raises(ConfigError, match=r"site\.base_url: must not carry a user name"):
        Config(base_url="https://me:pw@ex.com/")
    # Checked as a record's URL is: a host or port browsers cannot read reaches no feed.
    for wrong in ("https://1.2.3.256/", "https://ex.com:99999/"):
        with pytest.raises(ConfigError, match=r"site\.base_url: must be an? (absolute|URL with)"):
            Config(base_url=wrong)
    with pytest.raises(ConfigError, match=r"site\.logo: must be a URL with a well-formed host"):
        Config(logo="https://1.2.3.256/logo.png")
    assert Config(base_url="https://ex.com:443/news/../feeds").base_url == "https://ex.com/feeds/"


def test_a_base_url_read_two_ways_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "feeds.yaml").write_text("site:\n  base_url: 'https://ex.com\\@evil.com/'\n")
    done = subprocess.run(
        [sys.executable, "-m", "feeds", "build", "--config", "feeds.yaml", "-q"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "feeds.yaml:2" in done.stderr and "site.base_url: must not contain a backslash" in (
        done.stderr
    )
    assert not (tmp_path / "output").exists()


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30).filter(
    lambda t: (
        "\\" not in t and not any(c.isspace() for c in t) and not has_dot_segments("/" + t)
    )  # resolved: the table above has those
)


_LABEL = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Lo", "Nd")), min_size=1, max_size=12
)
_HOSTS = st.one_of(
    st.sampled_from(["ex.com", "EX.com", "bücher.de", "faß.de", "[::1]", "1.2.3.4"]),
    st.lists(_LABEL, min_size=1, max_size=3).map(lambda labels: ".".join([*labels, "com"])),
)


@given(path=_TEXT, host=_HOSTS)
def test_as_uri_gives_a_uri_that_means_the_same_and_is_its_own_uri(path: str, host: str) -> None:
    try:
        uri = as_uri(f"https://{host}/{path}")
    except NotAUri as e:  # a name in no script IDNA allows: refused, never written wrong
        assert "well-formed host" in str(e) and not host.isascii()
        return
    assert _RFC3986.fullmatch(uri), uri
    assert as_uri(uri) == uri
    assert unquote(uri.split("/", 3)[3]) == unquote(path)
    assert urlsplit(uri).hostname == urlsplit(as_uri(f"https://{host}/")).hostname


def test_a_provider_domain_in_its_own_script_is_a_uri_as_its_home_page(tmp_path: Path) -> None:
    write_record(tmp_path / "seeds", "a.md", "title: A\nwebUrl: https://ex.com/a\n"
                 "publishedDateTime: 2024-05-01T10:00:00Z\n"
                 "provider: {name: Bücher, domain: bücher.de}")  # fmt: skip
    build_into(tmp_path / "seeds", tmp_path / "out")
    atom = xml(tmp_path / "out/all.atom.xml")
    assert atom.findtext("atom:entry/atom:author/atom:uri", namespaces=NS) == (
        "https://xn--bcher-kva.de/"
    )
    (item,) = json.loads((tmp_path / "out/all.json").read_text())["items"]
    assert item["authors"] == [{"name": "Bücher", "url": "https://xn--bcher-kva.de/"}]


_DOTTED = st.lists(st.sampled_from([".", "..", "%2e", "%2E.", "a", "", "b.c", "?x=/../", "#/./"]))


@given(segments=_DOTTED, host=_HOSTS)
def test_a_uri_with_its_dot_segments_resolved_is_its_own_uri(
    segments: list[str], host: str
) -> None:
    """Whatever `.` and `..` segments a path has (`%2e` too), `as_uri` resolves them all at
    once: written again, the URI is itself, and its path has none left."""
    try:
        uri = as_uri(f"https://{host}/" + "/".join(segments))
    except NotAUri:
        return
    assert as_uri(uri) == uri
    assert not has_dot_segments("/" + uri.split("/", 3)[3])
