"""Make outlines whole: give an article decoded from the cache without its texts (title,
excerpt, body, images, AMP URL; `Article.is_outline`) its texts back, for the one step that
needs them, making its items.

A run with a change decodes every record's outline, never the texts of records whose items it
does not make: that is most of the time and memory a decode would cost. The texts come from the
cache (`OutcomeReader`, in any process); when they are gone or damaged, from the record file,
read again. The outline's own fields are kept: a related article the build left out stays out.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from feeds.cache import OutcomeReader
from feeds.model import Article, FileOutcome

KEPT = 64  # outcomes kept at hand: a list file's articles come one after another


class TextsLost(Exception):
    """The record file no longer holds the article (it changed while the build ran)."""

    def __init__(self, source: str, url: str) -> None:
        super().__init__(source, url)
        self.source, self.url = source, url


class Completer:
    def __init__(self, seeds: Path, reader: OutcomeReader) -> None:
        self.seeds = seeds
        self.reader = reader
        self._outcomes: OrderedDict[str, FileOutcome] = OrderedDict()

    def whole(self, article: Article) -> Article:
        """`article` with its texts, and its related articles' (itself when it has them)."""
        if article.place is None:
            return article
        index, inner = article.place
        found = self._find(article, index, inner, reread=False) or self._find(
            article, index, inner, reread=True
        )
        if found is None:
            raise TextsLost(article.source, article.url)
        return replace(
            article,
            title=found.title,
            excerpt=found.excerpt,
            body=found.body,
            images=found.images,
            amp_url=found.amp_url,
            related=tuple(map(self.whole, article.related)),
            place=None,
        )

    def _find(self, article: Article, index: int, inner: int, *, reread: bool) -> Article | None:
        outcome = self._outcome(article.source, reread=reread)
        try:
            found = outcome.articles[index] if outcome else None
            if found is not None and inner >= 0:
                found = found.related[inner]
        except IndexError:
            return None
        if found is None or found.url != article.url:
            return None
        # Read again, a file that changed while the build ran gives its new texts: the next
        # run sees the change and makes its items again.
        return found if reread or found.revision == article.revision else None

    def _outcome(self, source: str, *, reread: bool) -> FileOutcome | None:
        outcome = None if reread else self._outcomes.get(source)
        if outcome is None:
            if reread:
                from feeds.ingest import ingest_file  # YAML and validation: rarely needed

                outcome = ingest_file(self.seeds, source)
            else:
                outcome = self.reader.whole(source)
            if outcome is None:
                return None
            self._outcomes[source] = outcome
            while len(self._outcomes) > KEPT:
                self._outcomes.popitem(last=False)
        self._outcomes.move_to_end(source)
        return outcome
