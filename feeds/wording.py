"""What a page says about itself: title, description, links, logo and icon, in one format.

Pure. The items are not here: each is made once (`items.py`) and spliced into every page that
shows it (`render.py`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from feeds._version import __version__
from feeds.collect import Group, GroupKind
from feeds.config import Config
from feeds.document import FeedDoc, Link
from feeds.model import Image
from feeds.pages import Page

GENERATOR_URI = "https://pypi.org/project/feeds/"
EMPTY_FEED_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # an empty feed has no newest item


def feed_document(page: Page, fmt: str, config: Config) -> FeedDoc:
    """What page `page` says in format `fmt`, but its items: they are made once, and spliced."""
    group = page.group
    # The site's logo and icon stand for the site: a provider's feed shows the provider's own.
    of_site = group.kind is not GroupKind.PROVIDER
    logo = group.provider.logo if group.provider else None
    if logo is None and config.logo and of_site:
        logo = Image(config.logo)
    title = feed_title(group, config)
    links = []
    if page.older:
        older = dataclasses.replace(page, period=page.older)
        links.append(Link(config.url(older.path(fmt)), "prev-archive"))
    if page.period:
        title = f"{title} · archive {page.period}"
        links.append(Link(config.url(group.file(fmt)), "current"))
    elif config.websub_hub:
        links.append(Link(config.websub_hub, "hub"))
    return FeedDoc(
        title=title,
        description=feed_description(group, config),
        home_url=config.home_url,
        self_url=config.url(page.path(fmt)),
        language=config.language,
        author=config.publisher,
        ttl=config.ttl,
        generator="feeds",
        generator_version=__version__,
        generator_uri=GENERATOR_URI,
        updated=max((a.last_modified for a in page.articles), default=EMPTY_FEED_TIME),
        logo=logo,
        items=(),
        archive=page.period is not None,
        links=tuple(links),
        icon=config.icon if of_site else None,
    )


def feed_title(group: Group, config: Config) -> str:
    return config.title if group.kind is GroupKind.ALL else f"{group.name} · {config.title}"


def feed_description(group: Group, config: Config) -> str:
    if group.kind is GroupKind.TOPIC:
        return f"The latest news about {group.name}, from {config.title}."
    if group.kind is GroupKind.PROVIDER:
        return f"The latest news from {group.name}, collected by {config.title}."
    if group.kind is GroupKind.CUSTOM:
        return group.description or f"{group.name}, selected by {config.title}."
    return config.description
