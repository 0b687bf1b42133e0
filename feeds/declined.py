"""When a delta run gives up: `Declined` sends the build the full way, which vouches for every
file (`delta.py` lists the reasons). Each part of the delta way declines here."""

from __future__ import annotations

# Record files a delta run collects for each reason (changed; sharing URLs with them; moved in
# or out by a window; holding a renamed topic's articles: each counted on its own, so a run may
# collect a few times as many) before it goes the full way instead. The delta way costs what it
# collects, about 3.5 KB and 1.7 ms a file, beside what every run holds: 10,000 new records at
# 100,000 took 26 s and 140 MB, the full way 41 s and 221 MB (which grow with the archive). A few
# thousand keep a run within 300 MB at 1,000,000 records.
MAX_CHANGED = 5_000


class Declined(Exception):
    """The delta way cannot vouch for the result here: go the full way."""


def at_most_changed(count: int, why: str) -> None:
    """Decline (saying `why`) when a delta run would collect more than `MAX_CHANGED` record
    files for one reason."""
    if count > MAX_CHANGED:
        raise Declined(why)
