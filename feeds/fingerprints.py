"""What each output file and each item depends on, as digests.

A planned file whose fingerprint (and size and mtime) did not change since the last run is not
made again; an item whose key is in the item store is not serialized again. A fingerprint must
change whenever the bytes could: it covers the code (`CODE_DIGEST`), every setting that shapes
the output, the format, the page's place in its archive chain, its group, and for each item the
article's URL, its record file, that file's revision and which of the file's articles it is,
and its topics' names and slugs.
"""

from __future__ import annotations

import dataclasses
import hashlib

from feeds._version import CODE_DIGEST
from feeds.collect import Collection, Group
from feeds.config import Config
from feeds.filters import NO_FILTERS
from feeds.model import Article
from feeds.pages import Page
from feeds.paths import FORMAT_NAMES
from feeds.text import identity_key


def settings_key(config: Config) -> str:
    """The settings that shape every page's bytes: all but where the input, output and cache
    are, which formats are made (a page is in one), and the filters and custom feeds, whose
    effect on a page is in its items and its group (`content_digest`): changing one custom
    feed makes only that feed's pages again."""
    general = dataclasses.replace(
        config.without_folders(), formats=FORMAT_NAMES, filters=NO_FILTERS, custom=()
    )
    return repr(general)


def item_settings(config: Config) -> str:
    """The settings an item's bytes depend on, beside its article and topics: where the site is
    (its topics' categories link to their feeds) and whether topics get feeds (without, a topic
    is named without a link). The others shape the pages around the items: a new title, `limit`
    or `ttl` makes every page again from the items kept in the store, not every item (a test
    changes each setting in turn against a cold build)."""
    return repr((config.base_url, "topics" in config.groups))


def file_fingerprint(settings: str, fmt: str, content: bytes) -> bytes:
    """The fingerprint of a page's file: the code, the settings, the format and `content`. 128
    bits, as the articles' keys it is made of, in bytes: a cold build plans (and records) a
    file for every page, and a longer one cost 14 MB more at 1,000,000 records, as much as its
    hexadecimal text."""
    data = f"{CODE_DIGEST}|{settings}|{fmt}|".encode() + content
    return hashlib.blake2b(data, digest_size=16).digest()


class ArticleKeys:
    """What an article's item depends on, besides the format: its URL, the record file it came
    from, that file's revision and which of its articles it is (`_which`), the names and slugs
    of its topics; with the code and the settings items depend on (`item_settings`), the key of
    its serialized item in the store.

    Made again each time it is asked for (three microseconds), not kept by article: a full build
    asks for each article's in every group that shows it, for the index's rows and for the
    pages' fingerprints, and one kept for every article took 156 MB at 1,000,000 records, to
    save 1.8 s at 100,000 (where a cold build takes a minute or two). `known`: the keys of
    articles known only by their rows in the index (`delta.py`), which are not decoded unless
    their item is made; when given, the keys made are added to it."""

    def __init__(
        self, collection: Collection, prefix: str, known: dict[int, bytes] | None = None
    ) -> None:
        self.collection = collection
        self.prefix = prefix.encode()
        self.known = known  # id(article) -> `content(article)`
        self._named: dict[str, str] = {}  # a topic's spelling -> its name and slug, as said
        self._items: dict[int, bytes] = {}  # id(article) -> digest of prefix and content

    def content(self, article: Article) -> bytes:
        known = self.known
        if known is not None and (key := known.get(id(article))) is not None:
            return key
        # A digest: pages join these (and the index keeps one per group an article is in).
        names = ", ".join([n for n in map(self._name_of, article.topics) if n])
        which = _which(article)
        text = f"|{article.url}|{article.revision.hex()}|{article.source}|{which}|[{names}]"
        key = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).digest()
        if known is not None:
            known[id(article)] = key
        return key

    def _name_of(self, spelling: str) -> str:
        """The topic's name and slug as the key says them (`repr`), "" when it has no group;
        looked up once for each spelling (normalizing it is most of a key's cost)."""
        named = self._named.get(spelling)
        if named is None:
            topic = self.collection.topics.get(identity_key(spelling))
            named = self._named[spelling] = repr((topic.name, topic.slug)) if topic else ""
        return named

    def item(self, article: Article, fmt: str) -> bytes:
        return self.items(article) + fmt.encode()

    def items(self, article: Article) -> bytes:
        """What the keys of the article's items in every format begin with (`ItemStore.get_all`
        finds them together)."""
        digest = self._items.get(id(article))
        if digest is None:
            digest = hashlib.sha256(self.prefix + self.content(article)).digest()
            self._items[id(article)] = digest
        return digest


def _which(article: Article) -> str:
    """Which of its file's articles `article` is. A record and another record's mention of its
    URL (`related`) share the URL, the file and its revision, not their items: once one's item
    was kept, the other's page took it from the store. An outline knows its place in its file;
    a whole article (the cache in memory) is told apart by all it holds."""
    if article.place is not None:
        return repr(article.place)
    return hashlib.blake2b(repr(article).encode("utf-8", "surrogateescape")).hexdigest()


def content_digest(page: Page, keys: ArticleKeys) -> bytes:
    """What a page's bytes depend on besides the code, settings and format: the group, the page's
    place in the archive chain, and what each of its items depends on."""
    content = b"".join(map(keys.content, page.articles))
    return page_digest(page.group, page.period, page.older, content)


def page_digest(group: Group, period: str | None, older: str | None, content: bytes) -> bytes:
    """`content_digest` of a page whose items' `ArticleKeys.content` are joined in `content`:
    so the index (`delta.py`) fingerprints a page without its articles."""
    digest = hashlib.sha256(f"{period}|{older}|".encode())
    about = (group.kind, group.key, group.name, group.slug, group.provider, group.description)
    digest.update(repr(about).encode())
    digest.update(content)
    return digest.digest()
