"""The formats, and the names of the files `feeds` writes into the output folder: nothing else.

Every module that names a file or a format asks here, so that `feeds list` and the site pages
need no rendering code, and a format is described once. Knowing the shape of every name it can
write lets `publish.py` refuse to act on anything else: a manifest entry that is not one of these
names was not written by `feeds`, whatever the manifest says, and is never removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Format:
    name: str  # as the configuration names it
    label: str  # as people read it
    suffix: str  # of its files
    media_type: str  # of its files, for links and HTTP


FORMATS = {
    f.name: f
    for f in (
        Format("rss", "RSS", ".rss.xml", "application/rss+xml"),
        Format("atom", "Atom", ".atom.xml", "application/atom+xml"),
        Format("json", "JSON", ".json", "application/feed+json"),
    )
}
FORMAT_NAMES = tuple(FORMATS)  # the default: every format, in this order

INDEX_PATH = "index.html"
OPML_PATH = "feeds.opml"
REPORT_PATH = ".feeds-report.json"  # hidden: a published site need not show rejected drafts
MANIFEST_PATH = ".feeds-manifest.json"
# Hidden too, while a run publishes (or after it was killed): its token, and the files it claims
# that the manifest does not list yet (`publish.Publisher.begin`).
RUNS_PATH = ".feeds-runs.json"

# `all`, or a group folder and a slug (`[a-z0-9-]` only, see slugs.py); then the subscription
# document or a month's or a day's archive page; then a format's suffix.
_FEED = re.compile(
    r"(?:all|(?:topics|providers|custom)/[a-z0-9]+(?:-+[a-z0-9]+)*)"
    r"(?:/[0-9]{4}-[0-9]{2}(?:-[0-9]{2})?)?"
    r"(?:\.rss\.xml|\.atom\.xml|\.json)"
)
_SITE = frozenset({INDEX_PATH, OPML_PATH, REPORT_PATH})


def feed_path(group: str, fmt: str, period: str | None = None) -> str:
    """The file of a group's page: `topics/ai.rss.xml`, or `topics/ai/2024-05.rss.xml` for a
    month's archive (`2024-05-31` for a day's). `group` is `all` or `<kind>/<slug>`."""
    return f"{group}/{period}{FORMATS[fmt].suffix}" if period else group + FORMATS[fmt].suffix


def is_output_path(path: str) -> bool:
    """Whether `path` (relative, with `/`) is a name `feeds` may write in the output folder."""
    return path in _SITE or _FEED.fullmatch(path) is not None
