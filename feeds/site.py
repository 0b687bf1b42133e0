"""The files that present the feeds: `index.html` for people, `feeds.opml` for readers.

Pure. The page needs no JavaScript and no external asset but the site's own icon, when one is
configured; it reads on a phone and a desktop, and its `<link rel="alternate">` tags let browsers
and readers discover the main feeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from itertools import groupby
from typing import NamedTuple

from feeds._version import CODE_DIGEST
from feeds.batches import Planned
from feeds.collect import Collection, Group, GroupKind
from feeds.config import Config
from feeds.fingerprints import settings_key
from feeds.paths import FORMATS, INDEX_PATH, OPML_PATH

SECTIONS = {
    GroupKind.ALL: "Everything",
    GroupKind.TOPIC: "Topics",
    GroupKind.PROVIDER: "Providers",
    GroupKind.CUSTOM: "Custom feeds",
}

STYLE = """
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1a1a;
background:#fafafa}main{max-width:60rem;margin:0 auto;padding:1rem}h1{margin:.5rem 0}
table{width:100%;border-collapse:collapse;margin-bottom:1.5rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
th{font-size:.85rem;color:#555}.n{text-align:right;white-space:nowrap}
a{color:#0645ad}.f a{display:inline-block;margin-right:.6rem}.unit{display:none}
@media (max-width:40rem){thead{display:none}tr{display:block;padding:.5rem 0;
border-bottom:1px solid #ddd}td{display:inline-block;border:0;padding:.1rem .5rem}
td.name{display:block;font-weight:600}.unit{display:inline}}
""".strip()


class Listing(NamedTuple):
    """A feed as the site lists it: its group, how many items it has, its newest item's time."""

    group: Group
    items: int
    newest: datetime | None


def listings(collection: Collection) -> list[Listing]:
    return [Listing(g, len(g.articles), g.newest) for g in collection.groups]


def plan_site(feeds: Sequence[Listing], config: Config) -> Iterator[Planned]:
    digest = hashlib.sha256(f"{CODE_DIGEST}|{settings_key(config)}|{config.formats}".encode())
    for group, items, newest in feeds:
        when = newest.isoformat() if newest else ""
        digest.update(f"|{group.path}|{group.name}|{items}|{when}".encode())
    fingerprint = digest.digest()
    makers: dict[str, Callable[[Sequence[Listing], Config], bytes]] = {
        INDEX_PATH: index_html,
        OPML_PATH: opml,
    }
    for path, make in makers.items():
        yield Planned(path, fingerprint, _bind(make, feeds, config))


def _bind(
    make: Callable[[Sequence[Listing], Config], bytes],
    feeds: Sequence[Listing],
    config: Config,
) -> Callable[[Planned], bytes]:
    return lambda _: make(feeds, config)


def index_html(feeds: Sequence[Listing], config: Config) -> bytes:
    main = [listing.group for listing in feeds[:1]]  # the first feed, "all" unless it is turned off
    discovery = "".join(
        f'<link rel="alternate" type="{f.media_type}" title="{escape(_title(group, config))} '
        f'({f.label})" href="{escape(config.url(group.file(f.name)))}">\n'
        for group in main
        for f in map(FORMATS.get, config.formats)
        if f
    )
    icon_url = config.icon or config.logo  # a browser tab shows a logo too, if there is no icon
    icon = f'<link rel="icon" href="{escape(icon_url)}">\n' if icon_url else ""
    sections = []
    for kind, listed in groupby(feeds, key=lambda f: f.group.kind):
        rows = "".join(_row(listing, config) for listing in listed)
        sections.append(
            f"<section>\n<h2>{SECTIONS[kind]}</h2>\n<table>\n<thead><tr><th>Feed</th>"
            f'<th class="n">Items</th><th class="n">Newest item</th><th>Subscribe</th></tr>'
            f"</thead>\n<tbody>\n"
            f"{rows}</tbody>\n</table>\n</section>\n"
        )
    page = (
        f'<!doctype html>\n<html lang="{escape(config.language)}">\n'
        f'<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(config.title)}: feeds</title>\n{icon}{discovery}<style>{STYLE}</style>\n"
        f"</head>\n<body>\n<main>\n<h1>{escape(config.title)}</h1>\n"
        f"<p>{escape(config.description)}</p>\n"
        f'<p>Every feed at once, for your reader: <a href="{escape(config.url(OPML_PATH))}">'
        f"{OPML_PATH}</a> (OPML).</p>\n{''.join(sections)}</main>\n</body>\n</html>\n"
    )
    return page.encode()


def _title(group: Group, config: Config) -> str:
    return config.title if group.kind is GroupKind.ALL else group.name


def _row(listing: Listing, config: Config) -> str:
    group = listing.group
    links = "".join(
        f'<a href="{escape(config.url(group.file(fmt)))}">{FORMATS[fmt].label}</a>'
        for fmt in config.formats
    )
    newest = listing.newest.strftime("%Y-%m-%d %H:%M UTC") if listing.newest else "—"
    return (
        f'<tr><td class="name">{escape(group.name)}</td>'
        f'<td class="n count">{_items(listing.items)}</td>'
        f'<td class="n">{newest}</td><td class="f">{links}</td></tr>\n'
    )


def _items(number: int) -> str:
    """The number of items; on a phone, where the table has no header, with its noun."""
    noun = "item" if number == 1 else "items"
    return f'{number}<span class="unit"> {noun}</span>'


def opml(feeds: Sequence[Listing], config: Config) -> bytes:
    fmt = config.formats[0]  # readers subscribe to one format: the first configured
    outlines = []
    for kind, listed in groupby(feeds, key=lambda f: f.group.kind):
        children = "".join(f"    {_outline(f.group, fmt, config)}\n" for f in listed)
        name = SECTIONS[kind]
        outlines.append(f'  <outline text="{name}">\n{children}  </outline>\n')
    times = [listing.newest for listing in feeds if listing.newest]
    created = f"<dateCreated>{_rfc822(max(times))}</dateCreated>" if times else ""
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n<head>\n'
        f"<title>{escape(config.title)}</title>{created}\n</head>\n<body>\n"
        f"{''.join(outlines)}</body>\n</opml>\n"
    )
    return document.encode()


def _outline(group: Group, fmt: str, config: Config) -> str:
    text = escape(group.name)
    return (
        f'<outline type="rss" text="{text}" title="{text}" '
        f'xmlUrl="{escape(config.url(group.file(fmt)))}" '
        f'htmlUrl="{escape(config.home_url)}"/>'
    )


def _rfc822(time: datetime) -> str:
    return format_datetime(time.astimezone(UTC))  # locale-independent, "+0000" for UTC
