"""An article as a feed item, in each format: the same but for its topics' links.

Pure. `content.py` makes the item's HTML; the writers (`feedgen_writer.py`, `jsonfeed.py`) turn
the `Item` into bytes.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from functools import lru_cache

from feeds.collect import Collection
from feeds.config import Config
from feeds.content import item_html
from feeds.document import Category, Item, Link
from feeds.model import Article
from feeds.text import identity_key
from feeds.uris import as_uri


def items_of(
    article: Article,
    formats: Iterable[str],
    collection: Collection,
    config: Config,
    known: dict[tuple[str, str], Category | None] | None = None,
) -> dict[str, Item]:
    """The article's item in each format: the same but for the topic links (each format's own
    topic feed). `known` keeps the topics' categories from one article to the next."""
    provider = article.provider
    common = Item(
        id=article.url,
        title=article.title,
        link=article.url,
        published=article.published,
        updated=article.last_modified,
        summary=article.excerpt,
        content_html=item_html(article),
        author=provider.name if provider else None,
        author_uri=_home(provider.domain) if provider and provider.domain else None,
        categories=(),
        images=article.images,
        attachments=tuple(
            Link(i.url, "enclosure", image_type(i.url), length=0, title=i.title)  # size unknown
            for i in article.images
        ),
        related=tuple(
            Link(r.url, "related", "text/html", title=r.title) for r in article.related_coverage()
        ),
    )
    categories = known if known is not None else {}
    return {
        fmt: common.with_categories(_categories(article, fmt, collection, config, categories))
        for fmt in formats
    }


def _categories(
    article: Article,
    fmt: str,
    collection: Collection,
    config: Config,
    known: dict[tuple[str, str], Category | None],
) -> tuple[Category, ...]:
    """The article's topics as categories, each linking to its topic feed in format `fmt`;
    `known` remembers what each (topic, format) became."""
    categories = []
    for topic in article.topics:
        if (topic, fmt) not in known:
            group = collection.topics.get(identity_key(topic))
            if group:
                known[topic, fmt] = Category(group.name, config.url(group.file(fmt)))
            elif "topics" not in config.groups:  # no topic feeds to point at: the name alone
                known[topic, fmt] = Category(topic, None)
            else:
                known[topic, fmt] = None
        if category := known[topic, fmt]:
            categories.append(category)
    return tuple(categories)


def image_type(url: str) -> str:
    """The media type from the URL's file extension; JPEG, the common case, when it has none."""
    name = url.partition("?")[0].partition("#")[0].rpartition("/")[2]
    return _image_type(name.rpartition(".")[2].lower() if "." in name else "")


@lru_cache(maxsize=256)
def _image_type(extension: str) -> str:
    guessed, _ = mimetypes.guess_type(f"image.{extension}", strict=False)
    return guessed if extension and guessed and guessed.startswith("image/") else "image/jpeg"


@lru_cache(maxsize=1 << 12)  # a few hundred providers, shown by a hundred thousand items
def _home(domain: str) -> str:
    """A provider's home page, from its domain (which may be written in its own script)."""
    return as_uri(f"https://{domain}/")
