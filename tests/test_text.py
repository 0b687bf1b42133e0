"""Text rules: plain text stays plain after entities are decoded, names that look the same are one
name, and configuration text is cleaned like record text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from feeds import build
from feeds.build import check
from feeds.collect import GroupKind
from feeds.config import Config, load_config
from feeds.filters import CustomFeed, Filters
from feeds.text import display_name, html_to_text, identity_key
from tests.helpers import BASE_URL, build_into, write_record, xml

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("&lt;script&gt;alert(2)&lt;/script&gt;", ("alert(2)", True)),
        ("&amp;lt;b&amp;gt;twice&amp;lt;/b&amp;gt;", ("twice", True)),
        ("<b>bold</b> &amp; plain", ("bold & plain", True)),
        ("Tom &amp; Jerry", ("Tom & Jerry", False)),
        ("a < b", ("a < b", False)),
        ("a &lt; b", ("a < b", False)),
        ("<3", ("<3", False)),
        ("&lt;3", ("<3", False)),
        ("&#7;bell", ("bell", False)),  # decoding never makes what XML cannot carry
    ],
)
def test_plain_text_is_plain_after_decoding(text: str, expected: tuple[str, bool]) -> None:
    assert html_to_text(text) == expected


def test_decoding_is_bounded_on_hostile_text() -> None:
    """Entities nested a hundred thousand deep: a few passes, then what is left stays encoded."""
    hostile = "&" + "amp;" * 100_000 + "lt;script&gt;"
    start = time.perf_counter()
    text, _ = html_to_text(hostile)
    assert time.perf_counter() - start < 1
    assert "<script" not in text


@pytest.mark.parametrize(
    "variant",
    [
        "Caf\u00e9",  # NFC
        "Cafe\u0301",  # NFD
        " café ",
        "Caf\u200b\u00e9",
        "Caf\u200c\u00e9",
        "Caf\u200d\u00e9",
        "\u2060Caf\u00e9\ufeff",
        "\u202eCaf\u00e9\u202c",
        "\u2067Caf\u00e9\u2069",
        "\u200fCAF\u00c9\u200e",
        "\uff23\uff41\uff46\u00e9",  # full-width letters
    ],
)
def test_names_that_look_the_same_are_one(variant: str) -> None:
    assert identity_key(variant) == identity_key("Café")


def test_names_that_look_different_stay_apart() -> None:
    assert identity_key("Cafe") != identity_key("Café")
    assert identity_key("AI") != identity_key("A I")


def test_display_names_drop_invisible_characters_but_the_joiners() -> None:
    assert display_name("\u202eCafe\u0301\u202c") == "Caf\u00e9"
    assert display_name("\u2067Caf\u200b\u00e9\u2069 \ufeff") == "Caf\u00e9"
    # Persian needs its zero-width non-joiner, emoji sequences their zero-width joiner.
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with its ZWNJ
    assert display_name(f"\u202b{persian}\u202c") == persian
    assert display_name("\U0001f468\u200d\U0001f4bb") == "\U0001f468\u200d\U0001f4bb"


VARIANTS = [
    "Caf\u00e9",
    "Cafe\u0301",
    "Caf\u200b\u00e9",
    "\u202eCaf\u00e9",
    "\u2066Cafe\u0301\u2069",
]


def _variant_records(seeds: Path) -> None:
    for i, topic in enumerate(VARIANTS):
        write_record(
            seeds,
            f"r{i}.md",
            f"title: Story {i}\nwebUrl: https://example.com/{i}\n"
            f"publishedDateTime: 2020-01-0{i + 1}T00:00:00Z\n"
            f'topics: ["{_escaped(topic)}"]\n'
            f'provider: {{name: "{_escaped(topic)} Times"}}\n',
        )


def _escaped(text: str) -> str:
    """`text` for a YAML double-quoted string: invisible characters as escapes."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def test_look_alike_topics_and_providers_make_one_feed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    _variant_records(seeds)
    groups = check(Config(seeds=seeds)).collection.groups
    topics = [g for g in groups if g.kind is GroupKind.TOPIC]
    providers = [g for g in groups if g.kind is GroupKind.PROVIDER]
    assert [(g.name, len(g.articles)) for g in topics] == [("Caf\u00e9", len(VARIANTS))]
    assert [(g.name, len(g.articles)) for g in providers] == [("Caf\u00e9 Times", len(VARIANTS))]

    build_into(seeds, tmp_path / "out")
    (rss,) = (tmp_path / "out/topics").glob("*.rss.xml")
    channel_title = xml(rss).findtext("channel/title")
    assert "Caf\u00e9" in channel_title
    shown = {c.text for c in xml(rss).iter("category")}
    assert shown == {"Caf\u00e9"}
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not set(BIDI_CONTROLS + "\u200b") & set(text), path


def test_one_host_however_written_is_one_provider(tmp_path: Path) -> None:
    """`p.example.` (a fully qualified name) is `p.example`; `xn--bcher-kva.de` is `bücher.de`,
    as browsers show it: each made a provider, and a feed, of its own. A filter naming either
    spelling picks both."""
    seeds = tmp_path / "seeds"
    domains = ["p.example", "P.Example.", "www.p.example.", "bücher.de", "xn--bcher-kva.de"]
    for i, domain in enumerate(domains):
        write_record(
            seeds,
            f"{i}.md",
            f"title: T{i}\nwebUrl: https://example.com/{i}\n"
            f"publishedDateTime: 2020-01-0{i + 1}T00:00:00Z\nprovider: {{domain: '{domain}'}}\n",
        )
    for i, name in enumerate(["Reuters Inc.", "Inc.", "A.P."], start=len(domains)):
        write_record(
            seeds,
            f"{i}.md",
            f"title: T{i}\nwebUrl: https://example.com/{i}\n"
            f"publishedDateTime: 2020-01-0{i + 1}T00:00:00Z\nprovider: {{name: '{name}'}}\n",
        )
    books = CustomFeed("books", "Books", filters=Filters(providers_any=("XN--BCHER-KVA.DE",)))
    # A name that ends with a dot is no fully qualified domain name: it keeps its dot.
    named = CustomFeed(
        "named", "Named", filters=Filters(providers_any=("Reuters Inc.", "INC.", "a.p."))
    )
    groups = check(Config(seeds=seeds, custom=(books, named))).collection.groups
    assert sorted(
        (g.kind.value, g.slug, len(g.articles))
        for g in groups
        if g.kind in (GroupKind.PROVIDER, GroupKind.CUSTOM)
    ) == [
        ("custom", "books", 2),
        ("custom", "named", 3),
        ("providers", "a-p--947bfbd574c9074a", 1),
        ("providers", "bucher-de--de69bbc29a59bc1f", 2),
        ("providers", "inc--f7a5cab1bc2118fa", 1),
        ("providers", "p-example", 3),
        ("providers", "reuters-inc--30720a65cd6a1948", 1),
    ]


def test_control_characters_in_the_configuration_are_cleaned(tmp_path: Path) -> None:
    write_record(
        tmp_path / "seeds",
        "a.md",
        "title: T\nwebUrl: https://example.com/t\npublishedDateTime: 2020-01-01T00:00:00Z\n"
        "topics: [AI]\n",
    )
    (tmp_path / "feeds.yaml").write_text(
        "site:\n"
        '  title: "News\\a\\e"\n'
        '  description: "Every \\u202Estory\\x00"\n'
        f"  base_url: {BASE_URL}\n"
        "custom:\n"
        '  - title: "Vision\\a \\u2066weekly\\u2069"\n'
        "    topics: {any: [AI]}\n"
        "paths: {seeds: seeds, output: out}\n"
    )
    config = load_config(tmp_path / "feeds.yaml")
    assert (config.title, config.description) == ("News", "Every story")
    assert config.custom[0].title == "Vision weekly"
    build(config)
    out = tmp_path / "out"
    page = lxml_html.document_fromstring((out / "index.html").read_bytes())
    assert page.findtext(".//h1") == "News"
    assert page.findtext(".//title") == "News: feeds"
    opml = etree.parse(str(out / "feeds.opml")).getroot()  # well-formed XML, or it raises
    assert opml.findtext("head/title") == "News"
    assert "Vision weekly" in [o.get("text") for o in opml.iter("outline")]
    assert xml(out / "all.rss.xml").findtext("channel/title") == "News"
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not set(b"\x00\x07\x1b") & set(data), path
            assert "\u202e".encode() not in data, path
