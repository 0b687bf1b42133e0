"""Tell a WebSub hub which feeds changed, so subscribers hear of new items at once (WebSub §7).

A hub that fails or cannot be reached costs a warning, never the build: the feeds are written,
and readers still find the news when they poll.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import urlencode

BATCH = 100  # hub.url values per request: hubs accept several, not unboundedly many
TIMEOUT = 10.0  # seconds per request: cron must not hang on a slow hub


def notify(hub: str, urls: Sequence[str]) -> str | None:
    """Send `hub.mode=publish` for `urls`; None when the hub accepted all, else what went wrong."""
    for start in range(0, len(urls), BATCH):
        body = urlencode(
            [("hub.mode", "publish"), *(("hub.url", url) for url in urls[start : start + BATCH])]
        ).encode()
        request = urllib.request.Request(
            hub,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                response.read()
        except urllib.error.HTTPError as e:
            return f"the WebSub hub {hub} answered {e.code} {e.reason}"
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            return f"the WebSub hub {hub} could not be reached: {reason}"
    return None
