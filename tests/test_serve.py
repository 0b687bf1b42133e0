"""`feeds serve` over real loopback HTTP: content types, conditional GET, gzip, HEAD, what is never
served (hidden files, folders, anything outside the output), and rebuilding when the seeds change.

One server (port 0) serves one build of the shipped seeds for the whole module; tests that change
a file use a file of their own. Every request has a timeout, and every wait is bounded.
"""

from __future__ import annotations

import gzip
import http.client
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import pytest

from feeds.serve import accepts_gzip, make_server, seeds_signature, serve
from tests.helpers import ROOT, SEEDS, build_into, ctrl_c_reaches_it

TIMEOUT = 5  # seconds: bounds every request and every join; loopback answers in milliseconds
WATCH_TIMEOUT = 10  # seconds: bounds the wait for a rebuild to show
BASE_URL = "http://localhost:8000/"
SECRET = b"outside the output folder"
RSS = "application/rss+xml; charset=utf-8"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # not text: never gzipped


@dataclass(frozen=True)
class Site:
    output: Path
    port: int
    server_address: tuple[str, int]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("serve")
    (root / "secret.txt").write_bytes(SECRET)
    output = root / "output"
    build_into(SEEDS, output, base_url=BASE_URL)
    if not (output / "index.html").exists():
        (output / "index.html").write_text("<!doctype html><title>Feeds</title>\n")
    if not (output / "feeds.opml").exists():
        (output / "feeds.opml").write_text('<?xml version="1.0"?><opml version="2.0"/>\n')
    (output / "sitemap.xml").write_text('<?xml version="1.0"?><urlset/>\n')
    (output / "logo.png").write_bytes(PNG)
    (output / "topics" / ".draft.rss.xml").write_text("hidden")
    (output / "escape.txt").symlink_to(root / "secret.txt")
    (output / "escape").symlink_to(root)
    (output / "with-index").mkdir()
    (output / "with-index" / "index.html").write_text("<!doctype html><title>Sub</title>\n")
    server = make_server(output, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    assert isinstance(host, str) and isinstance(port, int)
    try:
        yield Site(output, port, (host, port))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
        assert not thread.is_alive()


def request(
    port: int, target: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Reply:
    """One request on its own connection. http.client sends the target exactly as given."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def raw(port: int, method: str, target: str, headers: dict[str, str] | None = None) -> bytes:
    """Every byte the server sends back (it closes the connection): proves what has no body."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def eventually(condition: Callable[[], bool], timeout: float = WATCH_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def edit(path: Path, text: str) -> None:
    """Replace a record in one step, as an editor saving it does: no poll sees it half-written.
    The temporary file is hidden, so the watch ignores it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def test_listens_on_loopback_only(site: Site) -> None:
    assert site.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("all.rss.xml", RSS),
        ("all.atom.xml", "application/atom+xml; charset=utf-8"),
        ("all.json", "application/feed+json; charset=utf-8"),
        ("topics/ai.rss.xml", RSS),
        ("providers/cnbc-com.atom.xml", "application/atom+xml; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("feeds.opml", "text/x-opml; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("logo.png", "image/png"),
    ],
)
def test_each_format_has_its_content_type(site: Site, path: str, content_type: str) -> None:
    reply = request(site.port, "/" + path)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == content_type
    assert reply.body == (site.output / path).read_bytes()
    assert reply.headers["Content-Length"] == str(len(reply.body))


def test_one_connection_serves_many_requests(site: Site) -> None:
    """HTTP/1.1 keep-alive: every response is framed right, 304s included."""
    etag = request(site.port, "/all.rss.xml", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    asked = [("/all.rss.xml", {}), ("/all.rss.xml", {"If-None-Match": etag}), ("/all.json", {})]
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=TIMEOUT)
    try:
        replies = []
        for path, headers in asked * 2:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip", **headers})
            response = connection.getresponse()
            replies.append(Reply(response.status, response.headers, response.read()))
    finally:
        connection.close()
    assert [reply.status for reply in replies] == [200, 304, 200] * 2
    assert gzip.decompress(replies[0].body) == (site.output / "all.rss.xml").read_bytes()
    assert replies[1].body == b""
    assert gzip.decompress(replies[5].body) == (site.output / "all.json").read_bytes()


def test_root_serves_index_html(site: Site) -> None:
    reply = request(site.port, "/")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.body == (site.output / "index.html").read_bytes()


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("//all.rss.xml", "all.rss.xml"),
        ("/topics//ai.rss.xml", "topics/ai.rss.xml"),
        ("/all.rss.xml?since=yesterday", "all.rss.xml"),
        ("http://127.0.0.1/topics/ai.json", "topics/ai.json"),
    ],
)
def test_targets_are_read_as_paths(site: Site, target: str, path: str) -> None:
    """Empty parts collapse, a query is ignored, an absolute-form target gives its path."""
    reply = request(site.port, target)
    assert (reply.status, reply.body) == (200, (site.output / path).read_bytes())


def test_a_folder_with_an_index_serves_it_after_a_slash(site: Site) -> None:
    moved = request(site.port, "/with-index")
    assert moved.status == 301
    assert moved.headers["Location"] == "/with-index/"
    reply = request(site.port, "/with-index/")
    assert reply.status == 200
    assert reply.body == (site.output / "with-index" / "index.html").read_bytes()


def test_every_200_has_validators_and_asks_readers_to_revalidate(site: Site) -> None:
    reply = request(site.port, "/all.rss.xml")
    etag = reply.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong: no W/
    mtime = int((site.output / "all.rss.xml").stat().st_mtime)
    assert reply.headers["Last-Modified"] == formatdate(mtime, usegmt=True)
    assert reply.headers["Cache-Control"] == "no-cache"
    assert request(site.port, "/all.rss.xml").headers["ETag"] == etag  # stable


def test_if_none_match_gives_304_with_no_body(site: Site) -> None:
    etag = request(site.port, "/all.rss.xml").headers["ETag"]
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        sent = raw(site.port, "GET", "/all.rss.xml", {"If-None-Match": value})
        head, _, body = sent.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 304 "), value
        assert f"ETag: {etag}".encode() in head
        assert b"Content-Type" not in head
        assert body == b""
    assert request(site.port, "/all.rss.xml", headers={"If-None-Match": '"other"'}).status == 200


def test_if_modified_since_gives_304(site: Site) -> None:
    last_modified = request(site.port, "/all.atom.xml").headers["Last-Modified"]
    reply = request(site.port, "/all.atom.xml", headers={"If-Modified-Since": last_modified})
    assert (reply.status, reply.body) == (304, b"")
    earlier = formatdate(parsedate_to_datetime(last_modified).timestamp() - 3600, usegmt=True)
    # A date after the server's clock is not a valid one (RFC 9110 §13.1.3): it was a 304, and
    # a client whose clock runs ahead would keep a stale feed.
    future = formatdate(time.time() + 86400, usegmt=True)
    for value in (earlier, "not a date", future):
        assert (
            request(site.port, "/all.atom.xml", headers={"If-Modified-Since": value}).status == 200
        )


def test_if_none_match_takes_precedence_over_if_modified_since(site: Site) -> None:
    first = request(site.port, "/all.json")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    stale = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert request(site.port, "/all.json", headers=stale).status == 200
    fresh = {"If-None-Match": etag, "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}
    assert request(site.port, "/all.json", headers=fresh).status == 304


def test_a_changed_file_is_sent_again(site: Site) -> None:
    path = site.output / "changing.rss.xml"
    path.write_bytes(b"<rss>old</rss>")
    hour_ago = time.time() - 3600
    os.utime(path, (hour_ago, hour_ago))
    first = request(site.port, "/changing.rss.xml")
    by_etag = {"If-None-Match": first.headers["ETag"]}
    by_date = {"If-Modified-Since": first.headers["Last-Modified"]}
    assert request(site.port, "/changing.rss.xml", headers=by_etag).status == 304
    assert request(site.port, "/changing.rss.xml", headers=by_date).status == 304

    # Same size and same mtime: only the bytes tell, and the ETag is a hash of them.
    path.write_bytes(b"<rss>mid</rss>")
    os.utime(path, (hour_ago, hour_ago))
    reply = request(site.port, "/changing.rss.xml", headers=by_etag)
    assert (reply.status, reply.body) == (200, b"<rss>mid</rss>")

    path.write_bytes(b"<rss>new</rss>")  # a new mtime as well
    for headers in (by_etag, by_date):
        reply = request(site.port, "/changing.rss.xml", headers=headers)
        assert (reply.status, reply.body) == (200, b"<rss>new</rss>")
        assert reply.headers["ETag"] != first.headers["ETag"]


def test_gzip_when_accepted_gives_the_same_bytes(site: Site) -> None:
    data = (site.output / "all.rss.xml").read_bytes()
    plain = request(site.port, "/all.rss.xml")
    assert plain.headers["Content-Encoding"] is None
    assert plain.headers["Vary"] == "Accept-Encoding"

    zipped = request(site.port, "/all.rss.xml", headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["Content-Type"] == RSS
    assert zipped.headers["Content-Length"] == str(len(zipped.body))
    assert gzip.decompress(zipped.body) == data
    assert len(zipped.body) < len(data)
    # Another representation, so another strong ETag; either one still validates.
    assert zipped.headers["ETag"] not in (None, plain.headers["ETag"])
    for etag in (zipped.headers["ETag"], plain.headers["ETag"]):
        headers = {"Accept-Encoding": "gzip", "If-None-Match": etag}
        assert request(site.port, "/all.rss.xml", headers=headers).status == 304

    for refused in ("gzip;q=0", "identity", "br"):
        reply = request(site.port, "/all.rss.xml", headers={"Accept-Encoding": refused})
        assert reply.headers["Content-Encoding"] is None and reply.body == data, refused


def test_binary_files_are_never_gzipped(site: Site) -> None:
    reply = request(site.port, "/logo.png", headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] is None and reply.headers["Vary"] is None
    assert reply.body == PNG


@pytest.mark.parametrize("accept_encoding", [{}, {"Accept-Encoding": "gzip"}])
def test_head_sends_the_headers_of_get_and_no_body(
    site: Site, accept_encoding: dict[str, str]
) -> None:
    get = request(site.port, "/all.atom.xml", headers=accept_encoding)
    head, _, body = raw(site.port, "HEAD", "/all.atom.xml", accept_encoding).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Content-Encoding"):
        if get.headers[name] is not None:
            assert f"{name}: {get.headers[name]}".encode() in head


@pytest.mark.parametrize(
    "target",
    [
        "/.feeds-manifest.json",
        "/.feeds-report.json",
        "/%2efeeds-manifest.json",
        "/%2Efeeds-report.json",
        "/topics/.draft.rss.xml",
        "/topics/%2edraft.rss.xml",
    ],
)
def test_hidden_files_are_404(site: Site, target: str) -> None:
    manifest = (site.output / ".feeds-manifest.json").read_bytes()
    reply = request(site.port, target)
    assert reply.status == 404
    assert manifest[:40] not in reply.body


@pytest.mark.parametrize(
    "target", ["/topics/", "/topics", "/providers/", "/missing.rss.xml", "/all.rss.xml/"]
)
def test_no_listing_and_nothing_made_up(site: Site, target: str) -> None:
    reply = request(site.port, target)
    assert reply.status == 404
    assert b"ai.rss.xml" not in reply.body


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/topics/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/topics/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "//../secret.txt",
        "/./../secret.txt",
        "/..\\secret.txt",
        "../secret.txt",
        "secret.txt",
        "http://127.0.0.1/../secret.txt",
        "/escape.txt",
        "/escape/secret.txt",
        f"/{'../' * 20}etc/passwd",
        "/%00",
        "/%ff",
    ],
)
def test_nothing_outside_the_output_folder_is_reachable(site: Site, target: str) -> None:
    reply = request(site.port, target)
    assert reply.status in (400, 404), reply.status
    assert SECRET not in reply.body and b"root:" not in reply.body


def test_other_methods_are_refused(site: Site) -> None:
    assert request(site.port, "/all.rss.xml", method="POST").status == 501


def test_requests_are_not_logged_unless_asked(
    site: Site, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    request(site.port, "/all.rss.xml")
    request(site.port, "/.feeds-manifest.json")
    assert capfd.readouterr().err == ""

    (tmp_path / "a.rss.xml").write_text("<rss/>")
    server = make_server(tmp_path, port=0, log=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        request(int(server.server_address[1]), "/a.rss.xml")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
    assert '"GET /a.rss.xml HTTP/1.1" 200' in capfd.readouterr().err


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("x-gzip", True),
        ("identity", False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(value: str | None, allowed: bool) -> None:
    assert accepts_gzip(value) is allowed


def test_the_seeds_signature_ignores_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("a")
    before = seeds_signature(tmp_path)
    assert [stat.path for stat in before] == ["a.md"]
    (tmp_path / ".swap.md").write_text("editor state")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_text("x")
    assert seeds_signature(tmp_path) == before
    (tmp_path / "a.md").write_text("ab")
    assert seeds_signature(tmp_path) != before
    assert seeds_signature(tmp_path / "missing") == ()


def test_watch_rebuilds_after_a_change_and_survives_a_failed_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds, output = tmp_path / "seeds", tmp_path / "output"
    shutil.copytree(SEEDS, seeds)
    build_into(seeds, output, base_url=BASE_URL)
    (record,) = seeds.iterdir()
    original = record.read_text(encoding="utf-8")
    old_title = "IBM gets out of facial recognition business"
    assert old_title in original

    failed = threading.Event()
    rebuilds: list[object] = []

    def rebuild() -> object:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("the first rebuild breaks")
        rebuilds.append(build_into(seeds, output, base_url=BASE_URL))
        return rebuilds[-1]

    urls: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve,
        args=(output, 0),
        kwargs={
            "rebuild": rebuild,
            "watch": seeds,
            "interval": 0.05,
            "stop": stop,
            "ready": urls.append,
        },
    )
    thread.start()
    try:
        assert eventually(lambda: bool(urls), TIMEOUT)
        port = int(urls[0].rsplit(":", 1)[1].strip("/"))

        def served() -> str:
            return request(port, "/all.rss.xml").body.decode()

        edit(record, original.replace(old_title, "First edit, lost"))
        assert failed.wait(WATCH_TIMEOUT)
        assert old_title in served()  # still serving the previous output

        edit(record, original.replace(old_title, "Second edit, served"))
        assert eventually(lambda: "Second edit, served" in served())
        assert (output / ".feeds-manifest.json").exists()
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert len(rebuilds) == 1
    err = capsys.readouterr().err
    assert "feeds: rebuild failed; still serving the previous output" in err
    assert "RuntimeError: the first rebuild breaks" in err


def test_ctrl_c_ends_serving_cleanly(site: Site) -> None:
    code = (
        "import sys; from pathlib import Path; from feeds.serve import serve; "
        "serve(Path(sys.argv[1]), 0, ready=lambda url: print(url, flush=True))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(site.output)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_reaches_it,
    )
    try:
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], TIMEOUT)
        assert readable, "the server did not start"
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert request(int(url.rsplit(":", 1)[1].strip("/")), "/all.rss.xml").status == 200
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(TIMEOUT)
    assert process.returncode == 0
    assert "Traceback" not in err


def test_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval"):
        serve(tmp_path, 0, interval=0)


@contextmanager
def bounded_server(output: Path, max_connections: int, idle_timeout: float) -> Iterator[int]:
    """A running server with a small bound and a short idle timeout; yields its port."""
    server = make_server(output, port=0, max_connections=max_connections, idle_timeout=idle_timeout)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
        assert not thread.is_alive()


def serving(clients: list[socket.socket]) -> int:
    """How many of these clients' connections have a server thread now."""
    names = {f"feeds-serve 127.0.0.1:{client.getsockname()[1]}" for client in clients}
    return sum(thread.name in names for thread in threading.enumerate())


def closed_by_server(client: socket.socket) -> bool:
    """Whether the server closed this connection, reading whatever it still sent first."""
    client.settimeout(TIMEOUT)
    received = b""
    while chunk := client.recv(65536):  # an answer may come in several pieces
        received += chunk
    return received == b"" or received.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # opens a connection and says nothing
        b"GET /all.rss.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n",  # stops in the middle of a request
        b"GET /feeds.opml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # keeps an idle keep-alive open
    ],
)
def test_a_silent_connection_is_closed_after_the_idle_timeout(site: Site, sent: bytes) -> None:
    with (
        bounded_server(site.output, max_connections=4, idle_timeout=0.5) as port,
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client,
    ):
        client.sendall(sent)
        started = time.monotonic()
        assert closed_by_server(client)  # recv gave b"": the server hung up
        assert time.monotonic() - started >= 0.4  # by the timeout, not at once


def test_connections_beyond_the_bound_wait_their_turn(site: Site) -> None:
    bound, timeout = 4, 1.0
    with bounded_server(site.output, max_connections=bound, idle_timeout=timeout) as port:
        started = time.monotonic()
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(bound + 5)]
        most = 0
        done = threading.Event()

        def sample() -> None:  # the threads serving the idle connections, every 10 ms
            nonlocal most
            while not done.wait(0.01):
                most = max(most, serving(idle))

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            # Queued behind the idle ones: served once enough of them timed out, not refused.
            reply = request(port, "/all.rss.xml")
            waited = time.monotonic() - started
            assert all(closed_by_server(client) for client in idle)  # none is left unserved
        finally:
            done.set()
            sampler.join(TIMEOUT)
            for client in idle:
                client.close()
    assert reply.status == 200 and reply.body == (site.output / "all.rss.xml").read_bytes()
    assert waited >= timeout * 0.9  # no slot was free before an idle connection timed out
    assert 1 <= most <= bound


def test_shutdown_is_not_held_up_by_connections_waiting_for_a_slot(site: Site) -> None:
    server = make_server(site.output, port=0, max_connections=1, idle_timeout=60)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = server.server_address[1]
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        assert eventually(lambda: serving(idle) == 1, TIMEOUT)
        stopper = threading.Thread(target=server.shutdown)
        stopper.start()
        stopper.join(TIMEOUT)  # far less than the 60 s the served connection may stay idle
        assert not stopper.is_alive()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    finally:
        server.server_close()
        for client in idle:
            client.close()


@pytest.mark.parametrize(
    ("option", "value"), [("max_connections", 0), ("idle_timeout", 0), ("idle_timeout", -1.0)]
)
def test_bounds_must_be_positive(tmp_path: Path, option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        make_server(tmp_path, port=0, **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "http"])
def test_an_impossible_port_is_refused_before_anything_is_built(tmp_path: Path, port: str) -> None:
    output = tmp_path / "output"
    command = [sys.executable, "-m", "feeds", "serve", "--port", port, "--seeds", str(SEEDS)]
    command += ["--output", str(output), "--cache", str(tmp_path / "cache")]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"--port: must be a whole number from 1 to 65535, not {port!r}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not output.exists() and not (tmp_path / "cache").exists()
