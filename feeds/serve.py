"""`feeds serve`: the output folder over HTTP on this machine, as a reader sees it.

Stdlib only (`http.server`), bound to 127.0.0.1. What a reader gets, and why:

- Content types: each feed format's own media type, with `charset=utf-8` (`CONTENT_TYPES`); the
  rest from `mimetypes`.
- Conditional GET: every 200 carries a strong `ETag` and `Last-Modified`, and `Cache-Control:
  no-cache` so readers revalidate on every poll. `If-None-Match` (which wins over
  `If-Modified-Since`, RFC 9110 §13.2.2) or `If-Modified-Since` gives `304 Not Modified`.
- gzip for text types when `Accept-Encoding` allows it, compressed on the fly (the files are
  feed-sized, and nothing is kept that could go stale); `Vary: Accept-Encoding` on every response
  that could have been compressed.
- Only files: `/` and folders serve their `index.html`, never a listing. Hidden files (any path
  part starting with `.`, like `.feeds-manifest.json`) and anything that resolves outside the
  output folder (`..`, `%2e%2e`, symbolic links) are 404; a target that cannot be a path is 400.
- Safe under a running build: `feeds build` renames whole files into place, and a file is read
  through one open descriptor, so a response is always one complete version of the file.
- Bounded: at most `MAX_CONNECTIONS` connections are served at once, one thread each; more wait
  in the listen backlog until one ends. A connection that sends nothing for `IDLE_TIMEOUT`
  seconds (an idle keep-alive, or a client that stopped mid-request) is closed, so no client
  holds a thread for long.

`serve()` can also watch the seeds folder: every `interval` seconds it compares a cheap signature
of the folder (each visible file's path, size and mtime, as the build's own scan sees them) and
calls `rebuild()` when it changed. A failing rebuild is printed to stderr; the server keeps
serving what is there.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from feeds._version import __version__
from feeds.model import FileStat
from feeds.paths import FORMATS
from feeds.scan import scan

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
INDEX = "index.html"
# Connections served at once. A browser opens at most 6 per host, and a reader refreshing every
# feed a few more; 32 serves several of them together, while a client that opens hundreds cannot
# make the server start hundreds of threads. Beyond the bound, connections wait in the listen
# backlog (kernel memory, no thread) and are served as others end: late rather than refused.
MAX_CONNECTIONS = 32
# Seconds a connection may stay silent: before its request, in the middle of one, or idle between
# two. A reader reusing its connection sends the next request within milliseconds, so 15 s keeps
# keep-alive useful while a forgotten or stalled connection frees its slot soon.
IDLE_TIMEOUT = 15.0

# Checked in order, so the two-part suffixes of our feeds come before plain `.xml`.
CONTENT_TYPES: tuple[tuple[str, str], ...] = (
    *((f.suffix, f"{f.media_type}; charset=utf-8") for f in FORMATS.values()),
    (".opml", "text/x-opml; charset=utf-8"),
    (".html", "text/html; charset=utf-8"),
    (".xml", "application/xml; charset=utf-8"),
)
_COMPRESSIBLE = {"application/xml", "application/json", "application/javascript"}
_ETAG = re.compile(r'(?:W/)?("[^"]*")')  # one entity tag of a list; `W/` dropped: weak comparison

Signature = tuple[FileStat, ...]


def make_server(
    output: Path,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    *,
    log: bool = False,
    max_connections: int = MAX_CONNECTIONS,
    idle_timeout: float = IDLE_TIMEOUT,
) -> ThreadingHTTPServer:
    """A server for `output`, listening (port 0: any free port) but not yet serving.

    Run it with `serve_forever()`; `shutdown()` and `server_close()` end it. `log` prints one
    line per request to stderr, as `http.server` does; off by default. It serves at most
    `max_connections` connections at once and drops one silent for `idle_timeout` seconds.
    """
    if max_connections < 1:
        raise ValueError(f"max_connections: must be at least 1, not {max_connections!r}")
    if idle_timeout <= 0:
        raise ValueError(
            f"idle_timeout: must be a positive number of seconds, not {idle_timeout!r}"
        )
    handler = partial(PreviewHandler, root=output.resolve(), log=log, idle_timeout=idle_timeout)
    return _Server((host, port), handler, max_connections)


def url_of(server: ThreadingHTTPServer) -> str:
    """The base URL a server answers at, such as `http://127.0.0.1:8000/`."""
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/"


def serve(
    output: Path,
    port: int = DEFAULT_PORT,
    *,
    rebuild: Callable[[], object] | None = None,
    watch: Path | None = None,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    log: bool = False,
    ready: Callable[[str], object] | None = None,
) -> None:
    """Serve `output` on 127.0.0.1 until Ctrl-C (a clean return) or until `stop` is set.

    With `watch` (the seeds folder) and `rebuild`, poll the folder every `interval` seconds and
    call `rebuild()` after it changed. `ready` is called with the base URL once the server
    listens and the watch has its starting point (the default prints a line to stderr).
    Raises OSError when the port cannot be bound.
    """
    if interval <= 0:
        raise ValueError(f"interval: must be a positive number of seconds, not {interval!r}")
    stop = threading.Event() if stop is None else stop
    finished = threading.Event()  # tells the watcher to end, whatever ended the serving
    server = make_server(output, port, log=log)
    threads = [
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="feeds-serve"
        )
    ]
    also = ""
    if watch is not None and rebuild is not None:
        start = seeds_signature(watch)  # before `ready`: a change made after it is never missed
        args = (watch, rebuild, interval, start, finished)
        threads.append(threading.Thread(target=_watch, args=args, name="feeds-watch"))
        also = f", rebuilt when {watch} changes"
    try:
        for thread in threads:
            thread.start()
        url = url_of(server)
        if ready is not None:
            ready(url)
        else:
            print(f"feeds: serving {output} at {url}{also} (Ctrl-C to stop)", file=sys.stderr)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        finished.set()
        if threads[0].ident is not None:
            server.shutdown()
        server.server_close()
        for thread in threads:
            if thread.ident is not None:
                thread.join()  # a rebuild under way completes: its files land whole


def seeds_signature(folder: Path) -> Signature:
    """(relative path, size, mtime_ns) of every visible file under `folder`, sorted.

    The build's own scan (`feeds.scan.scan`), so the watch and the build agree on which files
    count; it changes when a file is added, removed, renamed or rewritten. A missing folder has
    the empty signature.
    """
    return tuple(scan(folder)) if folder.is_dir() else ()


def content_type(name: str) -> str:
    """The Content-Type for a file name."""
    lowered = name.lower()
    for suffix, media_type in CONTENT_TYPES:
        if lowered.endswith(suffix):
            return media_type
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if encoding is not None:  # `x.tar.gz` is a gzip file to a browser, not a tar file coded gzip
        return "application/gzip" if encoding == "gzip" else "application/octet-stream"
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def compressible(media_type: str) -> bool:
    """Whether gzip is worth it: text, XML and JSON types (not images, already compressed)."""
    base = media_type.partition(";")[0].strip().lower()
    return base.startswith("text/") or base.endswith(("+xml", "+json")) or base in _COMPRESSIBLE


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip: named, or `*`, with a q above 0."""
    weights: dict[str, float] = {}
    for member in (accept_encoding or "").split(","):
        coding, _, parameters = member.partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        weights[coding.strip().lower()] = weight
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


@dataclass(frozen=True, slots=True)
class Located:
    """Where a request target leads: a file to send, a redirect, or an error status."""

    status: HTTPStatus  # OK, MOVED_PERMANENTLY, BAD_REQUEST or NOT_FOUND
    path: Path | None = None  # the file, when OK
    location: str | None = None  # the folder's URL with its slash, when MOVED_PERMANENTLY


def locate(root: Path, target: str) -> Located:
    """The file a request target names inside `root` (an absolute, resolved path).

    The decoded path is split into parts; a part starting with `.` (hidden files, `.`, `..`) is
    refused before the file system is asked anything, and the resolved file (symbolic links
    followed) must still lie inside `root`, through visible parts only.
    """
    if target.startswith("/"):  # origin form; not `urlsplit`, which reads `//x/` as a host
        path = target.partition("?")[0].partition("#")[0]
    elif target.startswith(("http://", "https://")):  # absolute form, as sent to a proxy
        path = urlsplit(target).path or "/"
    else:
        return Located(HTTPStatus.BAD_REQUEST)
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return Located(HTTPStatus.BAD_REQUEST)
    if "\x00" in decoded:
        return Located(HTTPStatus.BAD_REQUEST)
    parts = [part for part in decoded.split("/") if part]
    if any(part.startswith(".") for part in parts):
        return Located(HTTPStatus.NOT_FOUND)
    found = _inside(root, root.joinpath(*parts))
    if found is not None and found.is_dir():
        if not decoded.endswith("/"):
            if _inside(root, found / INDEX) is None:
                return Located(HTTPStatus.NOT_FOUND)
            location = "".join(f"/{quote(part)}" for part in parts) + "/"
            return Located(HTTPStatus.MOVED_PERMANENTLY, location=location)
        found = _inside(root, found / INDEX)
    elif decoded.endswith("/"):
        return Located(HTTPStatus.NOT_FOUND)  # `/all.rss.xml/` names a folder, and there is none
    if found is None or not found.is_file():
        return Located(HTTPStatus.NOT_FOUND)
    return Located(HTTPStatus.OK, found)


def _inside(root: Path, path: Path) -> Path | None:
    """`path` resolved, if it exists and lies inside `root` through visible parts only."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a loop of symbolic links
        return None
    if not real.is_relative_to(root):
        return None
    if any(part.startswith(".") for part in real.relative_to(root).parts):
        return None
    return real


@dataclass(frozen=True, slots=True)
class _File:
    data: bytes
    last_modified: int  # seconds since the epoch, never later than now
    # Strong ETags from a hash of the bytes, not from size and mtime: a validator is strong only if
    # it changes whenever the bytes do, and a rebuild that rewrites a file within the file system's
    # mtime resolution (1 s on some, 2 s on FAT) at the same size would keep size+mtime. A hash also
    # stays equal when a build rewrites identical bytes or rsync copies them. Its cost is nil here:
    # the bytes are read to be sent anyway, and feeds are kilobytes.
    etag: str
    # The gzip bytes are another representation, so another strong tag (RFC 9110 §8.8.3). They are
    # the same for the same bytes (fixed level, mtime 0 in the header), so the tag holds for them.
    etag_gzip: str

    @classmethod
    def read(cls, path: Path) -> _File:
        with path.open("rb") as f:  # one descriptor: size, mtime and bytes of the same version
            stat = os.fstat(f.fileno())
            data = f.read()
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        modified = min(stat.st_mtime_ns // 1_000_000_000, int(time.time()))
        return cls(data, modified, f'"{digest}"', f'"{digest}-gzip"')

    def not_modified(self, etag: str, if_none_match: str | None, since: str | None) -> str | None:
        """The ETag to send with 304 Not Modified, or None when the full response is due.

        `if_none_match` uses the weak comparison (RFC 9110 §13.1.2) against both
        representations of these bytes: the client holds a fresh copy of one of them.
        `since` is ignored when `if_none_match` is present, or is not one valid HTTP date.
        """
        if if_none_match is not None:
            if if_none_match.strip() == "*":
                return etag
            ours = (self.etag, self.etag_gzip)
            return next((tag for tag in _ETAG.findall(if_none_match) if tag in ours), None)
        if since is None:
            return None
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # `-0000`: the date is in UTC, from a sender that did not say so
            when = when.replace(tzinfo=UTC)
        if when.timestamp() > time.time():  # later than now: not a valid date (RFC 9110 §13.1.3)
            return None
        return etag if self.last_modified <= when.timestamp() else None


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD of the files under `root`; other methods get 501 from `http.server`."""

    server_version = f"feeds/{__version__}"
    protocol_version = "HTTP/1.1"  # keep-alive: a reader fetching many feeds reuses one connection
    # Seconds a connection may stay silent, set on its socket; then `http.server` ends it
    # quietly. `make_server` may choose another (`idle_timeout`).
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

    def __init__(
        self,
        *args: Any,
        root: Path,
        log: bool,
        idle_timeout: float = IDLE_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        self.root = root
        self.log = log
        self.idle_timeout = idle_timeout
        super().__init__(*args, **kwargs)  # handles the request: the attributes come first

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.idle_timeout)  # this server's, not the class default

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.log:
            super().log_message(format, *args)

    def _respond(self, send_body: bool) -> None:
        located = locate(self.root, self.path)
        if located.location is not None:
            self.send_response(located.status)
            self.send_header("Location", located.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if located.path is None:
            self.send_error(located.status)
            return
        try:
            file = _File.read(located.path)
        except OSError:  # removed since it was located, or unreadable
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        media_type = content_type(located.path.name)
        varies = compressible(media_type)
        gzipped = varies and accepts_gzip(self.headers.get("Accept-Encoding"))
        etag = file.etag_gzip if gzipped else file.etag
        matched = file.not_modified(
            etag, _joined(self.headers.get_all("If-None-Match")), self._single("If-Modified-Since")
        )
        self.send_response(HTTPStatus.NOT_MODIFIED if matched else HTTPStatus.OK)
        self.send_header("ETag", matched or etag)
        self.send_header("Last-Modified", formatdate(file.last_modified, usegmt=True))
        self.send_header("Cache-Control", "no-cache")
        if varies:
            self.send_header("Vary", "Accept-Encoding")
        if matched:
            self.end_headers()  # a 304 has no body, and no Content-Length to describe one
            return
        body = gzip.compress(file.data, compresslevel=6, mtime=0) if gzipped else file.data
        self.send_header("Content-Type", media_type)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _single(self, name: str) -> str | None:
        """A header that must appear once; None when absent or repeated."""
        values = self.headers.get_all(name) or []
        return values[0] if len(values) == 1 else None


class _Server(ThreadingHTTPServer):
    block_on_close = False  # closing never waits for an idle keep-alive connection
    daemon_threads = True
    request_queue_size = 64  # a reader refreshing every feed at once opens many connections
    slot_poll = 0.1  # seconds between looks at `shutdown()` while every slot is taken

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[..., BaseHTTPRequestHandler],
        max_connections: int,
    ) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._closing = threading.Event()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in its own thread (named after the client) once a slot is free.

        Waiting here keeps `serve_forever` from accepting more, so further connections wait in
        the kernel's listen backlog, holding no thread.
        """
        while not self._slots.acquire(timeout=self.slot_poll):
            if self._closing.is_set():  # shutting down: this one will never be served
                self.shutdown_request(request)
                return
        host, port = client_address[:2]
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"feeds-serve {host}:{port}",
            daemon=True,  # never joined: `block_on_close` is off
        )
        try:
            thread.start()
        except BaseException:  # no thread: nothing else would free the slot
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown(self) -> None:
        self._closing.set()  # first: `serve_forever` may be waiting for a slot, not polling
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exception(), ConnectionError):
            return  # the client went away mid-response: nothing to report
        super().handle_error(request, client_address)


def _joined(values: list[str] | None) -> str | None:
    """A list-valued header sent on several lines, as one value."""
    return None if values is None else ", ".join(values)


def _watch(
    folder: Path,
    rebuild: Callable[[], object],
    interval: float,
    before: Signature,
    finished: threading.Event,
) -> None:
    while not finished.wait(interval):
        try:
            now = seeds_signature(folder)
        except OSError:  # unreadable for now: the next poll looks again
            continue
        if now == before:
            continue
        before = now  # taken before the rebuild: a change made during it is seen at the next poll
        try:
            rebuild()
        except (Exception, SystemExit):
            print("feeds: rebuild failed; still serving the previous output", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
