"""The window a `max_age_days` keeps: it counts back from the newest article of all, whose
time the index keeps, and moves with it. A delta run finds the newest before and now, and the
record files of the articles it moves in or out (`delta.py` collects them on both sides)."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import NamedTuple

from feeds import codec
from feeds.collect import newest_article
from feeds.config import Config
from feeds.declined import at_most_changed
from feeds.index import Index
from feeds.index_rows import POOLS, from_micros, micros
from feeds.model import Article


class Window(NamedTuple):
    """The time of the corpus's newest article, as the last run left it and now."""

    before: datetime | None
    now: datetime | None


def newest_window(
    index: Index,
    config: Config,
    sides: tuple[list[Article], list[Article]],
    collected: Set[str],
) -> tuple[Window, set[str]]:
    """The newest article's time before and now (of all: the index keeps it), and with a
    `max_age_days` of every feed, the record files of the articles whose days it moves in or
    out: a newer article leaves behind those the feeds chose from that are older than it keeps
    now; when the newest article changed or went, the next one (the newest of the `collected`
    files' articles as they are, and of the index's rows of every other one) may keep older
    ones that the filters left out. `sides`: the collected files' articles before and now."""
    olds, news = sides
    known = index.corpus_newest()
    before = None if known is None else from_micros(known)
    had, has = newest_article(olds), newest_article(news)
    if had is not None and (before is None or had > before):
        raise codec.Damaged("an article newer than the index's newest")
    if had is not None and had == before and (has is None or has < had):
        rest = index.newest_besides(collected)
        now = _latest(has, None if rest is None else from_micros(rest))
    else:
        now = _latest(before, has)
    since, until = config.filters.oldest(before), config.filters.oldest(now)
    if now == before or since is None or until is None:
        return Window(before, now), set()
    if until > since:
        paths = index.kept_before(micros(until))
    else:
        paths = index.left_out_between(micros(until), micros(since))
    at_most_changed(len(paths), "too many articles come into the feeds' days or leave them")
    return Window(before, now), paths


def _latest(*times: datetime | None) -> datetime | None:
    return max((t for t in times if t is not None), default=None)


def newest_now(index: Index, window: Window) -> datetime | None:
    """The newest article's time now, kept in the index; checked against the rows of every
    article (the feeds choose from them or the filters leave them out): a row lost is damage."""
    found = _latest(*(None if t is None else from_micros(t) for t in map(index.newest, POOLS)))
    if found != window.now:
        raise codec.Damaged("the index's newest article is not the corpus's")
    index.set_corpus_newest(None if found is None else micros(found))
    return found
