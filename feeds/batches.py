"""How a build's work is cut: each output file is `Planned` in a `Batch` of files best made
together (in one worker, sharing their items), and batches go in stages.

- An archive month's pages, in every group, form one batch (an article is in one month only): it
  makes the month's items once, and keeps them in the item store.
- The subscription documents of `CURRENT_BATCH` groups at a time form one batch; they find most
  of their items in the store, kept by the archive batches, which therefore come first (stage 0).
- The site's own files (index.html, feeds.opml) come last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from feeds.pages import Page

CURRENT_BATCH = 64  # groups whose subscription documents are made together


@dataclass(frozen=True, slots=True)
class Batch:
    month: str | None = None  # an archive month: its pages in every group
    block: int = 0  # else a block of `CURRENT_BATCH` groups' subscription documents

    @property
    def stage(self) -> int:
        """Stages go in order: archive pages (0) keep the items that the others (1) reuse."""
        return 0 if self.month else 1


SITE = Batch(block=-1)  # index.html and feeds.opml


def batch_of(page: Page, group_index: int) -> Batch:
    if page.month:
        return _batch(page.month, 0)
    return _batch(None, group_index // CURRENT_BATCH)


@cache
def _batch(month: str | None, block: int) -> Batch:
    """One `Batch` for all the files in it: a cold build plans a file for every page."""
    return Batch(month, block)


@dataclass(frozen=True, slots=True)
class Planned:
    """One output file: where it goes, a fingerprint of what it is made from, how to make it
    (`make`). Its `maker` is given the plan itself: one maker (a bound method) serves every
    page of a build, told which `page` in which `fmt`; an object made for each file to say
    it took 48 bytes more a file (a cold build plans 440,000 files at 1,000,000 records)."""

    path: str
    fingerprint: bytes  # changes whenever the bytes could
    maker: Callable[[Planned], bytes]
    batch: Batch = SITE
    size: int = 1  # the work of making it, in items
    page: Page | None = None  # the page the file is of (in `fmt`), for a maker of pages
    fmt: str = ""

    def make(self) -> bytes:
        return self.maker(self)

    @property
    def stage(self) -> int:
        return self.batch.stage


def noting_months(planned: Iterable[Planned], months: set[str]) -> Iterator[Planned]:
    """The `planned` files one by one, each month whose items the item store keeps (those with
    archive pages) added to `months` on the way: the plan need not be held whole to know them."""
    for item in planned:
        if item.batch.month:
            months.add(item.batch.month)
        yield item
