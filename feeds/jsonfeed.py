"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1): a `FeedDoc` in, bytes out. Pure.

Written by hand: JSON needs no library, and the mapping from `FeedDoc` is short.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from feeds.document import FeedDoc, Item

VERSION = "https://jsonfeed.org/version/1.1"


def json_items(items: Sequence[Item]) -> list[bytes]:
    """Each item's JSON object, as it stands in a page's `items` array."""
    return [_dumps(_item(item)) for item in items]


def json_page(doc: FeedDoc, items: Sequence[bytes]) -> bytes:
    """The JSON Feed document of `doc` (its own `items` ignored) around the given items."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": doc.title,
        "home_page_url": doc.home_url,
        "feed_url": doc.self_url,
        "description": doc.description,
        "authors": [{"name": doc.author}],
        "language": doc.language,
    }
    if older := doc.link("prev-archive"):
        feed["next_url"] = older  # JSON Feed pages go from newer to older, like the archives
    if hub := doc.link("hub"):
        feed["hubs"] = [{"type": "WebSub", "url": hub}]
    if doc.logo:
        feed["icon"] = doc.logo.url  # the large image, shown like an avatar
    if favicon := doc.small_icon:
        feed["favicon"] = favicon
    feed["items"] = []  # last: the items go where its brackets are
    shell = _dumps(feed)
    return b"".join([shell[: -len(b"]}")], b",".join(items), b"]}\n"])


def _dumps(value: dict[str, Any]) -> bytes:
    # Compact: `indent` would switch json to its pure-Python encoder, several times slower.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _item(item: Item) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": item.id,
        "url": item.link,
        "title": item.title,
        "content_html": item.content_html,
    }
    if item.summary:
        entry["summary"] = item.summary
    if item.images:
        entry["image"] = item.images[0].url
        banner = next((i for i in item.images if i.is_wide), None)
        if banner:
            entry["banner_image"] = banner.url
    entry["date_published"] = _time(item.published)
    entry["date_modified"] = _time(item.updated)
    if item.author:
        author = {"name": item.author}
        if item.author_uri:
            author["url"] = item.author_uri
        entry["authors"] = [author]
    if item.categories:
        entry["tags"] = [c.label for c in item.categories]
    if item.attachments:
        entry["attachments"] = [
            {"url": link.href, "mime_type": link.type or "application/octet-stream"}
            | ({"title": link.title} if link.title else {})
            for link in item.attachments
        ]
    return entry


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
