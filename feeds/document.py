"""What a feed says, whatever its format: the seam between deciding (`render.py`) and writing
(`feedgen_writer.py`). Every URL here is absolute and every text is plain and XML-safe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.model import Image


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    rel: str  # alternate, enclosure, related, self
    type: str | None = None
    length: int | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    label: str  # the topic's display name
    scheme: str | None  # the topic feed's URL, in the feed's own format, when topics have feeds


@dataclass(frozen=True, slots=True)
class Item:
    id: str  # the article URL: never changes with title, images, topics or the site's base URL
    title: str
    link: str
    published: datetime
    updated: datetime
    summary: str | None  # plain text
    content_html: str
    author: str | None
    author_uri: str | None
    categories: tuple[Category, ...]
    images: tuple[Image, ...]  # lead first; media:content for all, media:thumbnail for the lead
    attachments: tuple[Link, ...]  # the images as typed links; the first is the enclosure
    related: tuple[Link, ...]

    @property
    def enclosure(self) -> Link | None:
        """RSS allows one enclosure: the lead image."""
        return self.attachments[0] if self.attachments else None

    def with_categories(self, categories: tuple[Category, ...]) -> Item:
        """The same item with other categories (each format links its own topic feeds). Made
        field by field, in half the time `dataclasses.replace` takes (it looks every field up
        by name): a cold build makes one per article and format."""
        return Item(
            self.id, self.title, self.link, self.published, self.updated, self.summary,
            self.content_html, self.author, self.author_uri, categories, self.images,
            self.attachments, self.related,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FeedDoc:
    title: str
    description: str
    home_url: str  # the website
    self_url: str  # this file's own URL
    language: str
    author: str  # who publishes the feeds: the site
    generator: str
    generator_version: str
    generator_uri: str
    updated: datetime  # the newest item's time, never the build time
    logo: Image | None
    items: tuple[Item, ...]
    ttl: int | None = None  # RSS <ttl>, minutes
    archive: bool = False  # an RFC 5005 archive document, not the subscription document
    links: tuple[Link, ...] = ()  # prev-archive, current, hub
    icon: str | None = None  # a small square image (favicon); the logo is the large one

    @property
    def small_icon(self) -> str | None:
        """The icon, else a logo known to be square (a wide one would be squashed)."""
        return self.icon or (self.logo.url if self.logo and self.logo.is_square else None)

    def link(self, rel: str) -> str | None:
        return next((link.href for link in self.links if link.rel == rel), None)
