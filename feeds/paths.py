"""The names of the files `feeds` writes into the output folder, and nothing else.

Knowing the shape of every name it can write lets `publish.py` refuse to act on anything else: a
manifest entry that is not one of these names was not written by `feeds`, whatever the manifest
says, and is never removed.
"""

from __future__ import annotations

import re

SUFFIXES = {"rss": ".rss.xml", "atom": ".atom.xml", "json": ".json"}  # format -> file suffix

INDEX_PATH = "index.html"
OPML_PATH = "feeds.opml"
REPORT_PATH = ".feeds-report.json"  # hidden: a published site need not show rejected drafts
MANIFEST_PATH = ".feeds-manifest.json"

# `all`, or a group folder and a slug (`[a-z0-9-]` only, see slugs.py); then the subscription
# document or a month's archive page; then a format's suffix.
_FEED = re.compile(
    r"(?:all|(?:topics|providers|custom)/[a-z0-9]+(?:-+[a-z0-9]+)*)"
    r"(?:/[0-9]{4}-[0-9]{2})?"
    r"(?:\.rss\.xml|\.atom\.xml|\.json)"
)
_SITE = frozenset({INDEX_PATH, OPML_PATH, REPORT_PATH})


def is_output_path(path: str) -> bool:
    """Whether `path` (relative, with `/`) is a name `feeds` may write in the output folder."""
    return path in _SITE or _FEED.fullmatch(path) is not None
