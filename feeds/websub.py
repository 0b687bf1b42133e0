"""Tell a WebSub hub which feeds changed, so subscribers hear of new items at once (WebSub §7).

A hub that fails or cannot be reached costs a warning, never the build: the feeds are written,
and readers still find the news when they poll.

The whole notification, every batch together, has one deadline (`DEADLINE`). A socket timeout
alone would not do: it bounds each socket operation, so a hub that answers one byte every few
seconds would keep the build, and the output lock it holds, for minutes. So:

- the notification runs in a daemon thread that `notify()` waits for until the deadline, which
  also bounds the DNS lookup (`getaddrinfo` takes no timeout);
- before each step (connect, send, read the answer) the socket's timeout is set to the time left;
- a watchdog shuts the socket down at the deadline, so a read that is being fed byte by byte
  ends too, and the thread (unless stuck in a DNS lookup) ends with the deadline.

Requests go through the proxy that `http_proxy`/`https_proxy` name, unless `no_proxy` exempts
the hub, as with `urllib`.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import threading
import time
import urllib.request
from collections.abc import Sequence
from urllib.parse import unquote, urlencode, urlsplit

BATCH = 100  # hub.url values per request: hubs accept several, not unboundedly many
# Seconds for the whole notification. A hub that works answers in well under a second per batch;
# 30 s leaves room for a slow TLS handshake and a few batches, while a build run from cron every
# few minutes is done long before the next one starts (it holds the output lock until then).
DEADLINE = 30.0


def notify(
    hub: str,
    urls: Sequence[str],
    deadline: float | None = None,
    taken: list[str] | None = None,
) -> str | None:
    """Send `hub.mode=publish` for `urls`; None when the hub accepted all, else what went wrong.
    The URLs of each batch the hub accepted are added to `taken`, when given: a hub that takes
    some and fails on the next (a limit on requests, the deadline) is not told them again.

    Returns within `deadline` seconds (default `DEADLINE`, read at call time), whatever the hub
    or the network does.
    """
    limit = DEADLINE if deadline is None else deadline
    end = time.monotonic() + limit
    outcome: list[str | None] = []
    failure: list[Exception] = []

    def run() -> None:
        try:
            outcome.append(_notify_all(hub, urls, end, limit, taken))
        except Exception as e:  # a bug, not the hub: raised again in the caller's thread
            failure.append(e)

    worker = threading.Thread(target=run, name="feeds-websub", daemon=True)
    worker.start()
    worker.join(max(0.0, end - time.monotonic()))
    if failure:
        raise failure[0]
    return outcome[0] if outcome else _late(hub, limit)


def _late(hub: str, limit: float) -> str:
    return f"the WebSub hub {hub} did not answer within {limit:g} s"


def _notify_all(
    hub: str, urls: Sequence[str], end: float, limit: float, taken: list[str] | None
) -> str | None:
    for start in range(0, len(urls), BATCH):
        batch = urls[start : start + BATCH]
        problem = _publish(hub, batch, end, limit)
        if problem is not None:
            return problem
        if taken is not None:
            taken.extend(batch)
    return None


def _publish(hub: str, urls: Sequence[str], end: float, limit: float) -> str | None:
    """One POST of `urls`, on a connection of its own; what went wrong, or None."""
    body = urlencode([("hub.mode", "publish"), *(("hub.url", url) for url in urls)]).encode()
    try:
        connection, target, headers = _connection(hub)
    except (ValueError, http.client.InvalidURL) as e:  # a port out of range, say
        return f"the WebSub hub {hub} could not be reached: {e}"
    watchdog = _Watchdog(connection, end)
    try:
        status, reason = _post(connection, target, body, headers, end)
    except (OSError, http.client.HTTPException, ValueError) as e:
        # ValueError: a host the IDNA codec refuses (`a..b`, a label over 63 characters)
        if watchdog.expired or isinstance(e, TimeoutError):
            return _late(hub, limit)
        if isinstance(e, OSError | ValueError):
            return f"the WebSub hub {hub} could not be reached: {e}"
        return f"the WebSub hub {hub} sent no valid HTTP answer: {e!r}"
    finally:
        watchdog.release()
        connection.close()
    if 200 <= status < 300:
        return None
    return f"the WebSub hub {hub} answered {status} {reason}"


def _post(
    connection: http.client.HTTPConnection,
    target: str,
    body: bytes,
    headers: dict[str, str],
    end: float,
) -> tuple[int, str]:
    """Connect, send, and read the status line and headers, each step with the time left."""
    connection.timeout = _left(end)  # the DNS lookup is bounded by the caller's join alone
    connection.connect()  # the TLS handshake too, for https, and a proxy's CONNECT
    connection.sock.settimeout(_left(end))
    headers = {
        **headers,
        "Content-Type": "application/x-www-form-urlencoded",
        "Connection": "close",  # one request per connection: the hub need not keep it open
    }
    connection.request("POST", target, body=body, headers=headers)
    connection.sock.settimeout(_left(end))
    with connection.getresponse() as response:  # only the status matters: the body is not read
        return response.status, response.reason


def _left(end: float) -> float:
    """Seconds until `end`; TimeoutError when none are left."""
    left = end - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


def _connection(hub: str) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """A connection to the hub, or to the proxy for it; the request target; extra headers."""
    parts = urlsplit(hub)
    port = parts.port  # first: ValueError when out of range
    host = parts.hostname or ""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    https = parts.scheme == "https"
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        return kind(host, port), target, {}
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    credentials = _proxy_credentials(via.username, via.password)
    if not https:  # plain HTTP: the proxy takes the absolute URL, and its credentials
        absolute = parts._replace(fragment="").geturl()
        return http.client.HTTPConnection(via.hostname or "", via.port), absolute, credentials
    tunnel = http.client.HTTPSConnection(via.hostname or "", via.port)
    tunnel.set_tunnel(host, port, headers=credentials)  # HTTPS: a CONNECT tunnel through it
    return tunnel, target, {}


def _proxy_credentials(user: str | None, password: str | None) -> dict[str, str]:
    """`Proxy-Authorization` for a proxy URL with a user and password, as `urllib` sends it."""
    if not user or password is None:
        return {}
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return {"Proxy-Authorization": f"Basic {token}"}


class _Watchdog:
    """Shuts a connection's socket down at the deadline, so a blocked read or write returns.

    Shut down, not closed: the worker thread still owns the descriptor and closes it, so it is
    never closed twice nor reused under a read. The lock keeps a shutdown from racing the close.
    """

    def __init__(self, connection: http.client.HTTPConnection, end: float) -> None:
        self.expired = False
        self._connection = connection
        self._released = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, end - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def release(self) -> None:
        """Stop watching: from here on the worker closes the connection."""
        self._timer.cancel()
        with self._lock:
            self._released = True

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = None if self._released else self._connection.sock
            if sock is None:
                return  # not connected yet: the next step finds no time left
            with contextlib.suppress(OSError):  # no longer connected: nothing to wake
                sock.shutdown(socket.SHUT_RDWR)
