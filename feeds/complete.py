"""Make outlines whole: give articles decoded from the cache without their texts (title,
excerpt, body, images, AMP URL; `Article.is_outline`) their texts back, for the one step that
needs them, making their items.

A run decodes every record's outline, never the texts of records whose items it does not make:
that is most of the time and memory a decode would cost. The texts come from the cache
(`OutcomeReader`, in any process, a batch of records per query), checked against the outline's
revision; when they are gone, damaged or of another version, from the record file, read again.
The outline's own fields are kept: a related article the build left out stays out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from feeds import codec
from feeds.cache import OutcomeReader
from feeds.model import Article

CHUNK = 2_000  # articles made whole together: their records' texts fetched in one go
KEPT = 1_000  # records whose texts are kept at hand for the next chunks
CHANGED = "its record file changed while the build ran; the next run takes it"


class Completer:
    def __init__(self, seeds: Path, reader: OutcomeReader) -> None:
        self.seeds = seeds
        self.reader = reader
        self._texts: OrderedDict[str, tuple[bytes, list[Any]]] = OrderedDict()

    def wholes(self, articles: Sequence[Article]) -> list[Article]:
        """The articles with their texts (those that have them already, as they are)."""
        wholes: list[Article] = []
        for start in range(0, len(articles), CHUNK):  # a chunk's texts at a time: memory
            chunk = articles[start : start + CHUNK]
            wanted = sorted({a.source for a in chunk if a.is_outline} - self._texts.keys())
            fetched: dict[str, tuple[bytes, list[Any]]] = {}
            for path, blob in self.reader.texts(wanted).items():
                try:
                    fetched[path] = codec.decode_texts(blob)
                except codec.Damaged:  # read from the record instead
                    continue
            wholes.extend(self._whole(a, fetched) for a in chunk)
            for path, texts in fetched.items():
                self._keep(path, texts)
        return wholes

    def _whole(self, article: Article, fetched: dict[str, tuple[bytes, list[Any]]]) -> Article:
        if article.place is None:
            return article
        known = fetched.get(article.source) or self._texts.get(article.source)
        if known is not None and known[0] == article.revision:
            try:
                return codec.with_texts(article, _at(known[1], article.place))
            except (codec.Damaged, IndexError, TypeError):
                pass
        return self._reread(article)

    def _reread(self, article: Article) -> Article:
        """The texts from the record file, read again; a file that changed while the build ran
        gives its new texts, if it still holds the article where it was."""
        from feeds.ingest import ingest_file  # YAML and validation: rarely needed here
        from feeds.render import ItemError  # loaded already where items are made

        assert article.place is not None
        outcome = ingest_file(self.seeds, article.source)
        index, inner = article.place
        there = outcome.articles[index] if index < len(outcome.articles) else None
        if there is not None and inner >= 0:  # a related article: its place in the record's
            there = there.related[inner] if inner < len(there.related) else None
        related_there = {r.place[1]: r for r in article.related if r.place}
        if (
            there is None
            or there.url != article.url
            or any(
                j >= len(there.related) or there.related[j].url != r.url
                for j, r in related_there.items()
            )
        ):
            raise ItemError(article.source, article.url, CHANGED, False, article.place)
        revision, texts = codec.texts_of(outcome)
        if revision == article.revision:  # else only this article's place was checked
            self._keep(article.source, (revision, texts))
        return codec.with_texts(article, _at(texts, article.place))

    def _keep(self, path: str, texts: tuple[bytes, list[Any]]) -> None:
        self._texts[path] = texts
        while len(self._texts) > KEPT:
            self._texts.popitem(last=False)


def _at(texts: list[Any], place: tuple[int, int]) -> Any:
    """An article's texts among its record's: the record's article's, or a related one's."""
    index, inner = place
    return texts[index] if inner < 0 else texts[index][5][inner]
