"""WebSub notification against real loopback hubs: ones that work, and ones that stall.

Every stalling hub must cost a warning within the deadline, never a hung build. The deadlines
here are short (1 s) and the bounds are generous multiples of them, for a loaded machine.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

import feeds.websub
from feeds.websub import BATCH, notify
from tests.helpers import SEEDS, build_into

DEADLINE = 1.0  # seconds: the deadline the tests give notify()
WITHIN = 3 * DEADLINE  # a stalled notification must return before this
TIMEOUT = 5.0  # seconds: bounds every wait of the tests themselves
RESPONSE = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"

Behaviour = Callable[[socket.socket, threading.Event], None]


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hubs here are on loopback: a proxy set in the environment must not come between."""
    for name in ("http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


class Loopback:
    """A TCP server on 127.0.0.1 that gives every connection it accepts to `behave`."""

    def __init__(self, behave: Behaviour) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # so the accept loop sees `stop`
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hub"
        self.stop = threading.Event()
        self.hung_up = threading.Event()  # set when a client closed its end
        self.behave = behave
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                self.behave(connection, self.stop)
            except OSError:  # the client hung up mid-answer
                self.hung_up.set()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(TIMEOUT)
        self.listener.close()


def read_request(connection: socket.socket) -> None:
    """Read one request whole, so closing the connection later sends no reset."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536) or b"\r\n\r\n"
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk


def drip(connection: socket.socket, stop: threading.Event) -> None:
    """A valid answer, one byte every 0.5 s: each read gets data long before any socket timeout."""
    read_request(connection)
    for byte in RESPONSE:
        if stop.wait(0.5):
            return
        connection.sendall(bytes([byte]))


def silence(connection: socket.socket, stop: threading.Event) -> None:
    """Read the request, answer nothing, and note when the client hangs up."""
    connection.settimeout(0.05)
    while not stop.is_set():
        try:
            if not connection.recv(65536):
                raise ConnectionResetError("the client closed the connection")
        except TimeoutError:
            continue


def pause(connection: socket.socket, stop: threading.Event) -> None:
    """A whole answer to every request, each after 0.25 s: well within the deadline, alone."""
    read_request(connection)
    if not stop.wait(0.25):
        connection.sendall(RESPONSE)


@pytest.fixture
def dripping() -> Iterator[Loopback]:
    server = Loopback(drip)
    yield server
    server.close()


@pytest.fixture
def silent() -> Iterator[Loopback]:
    server = Loopback(silence)
    yield server
    server.close()


def timed(hub: str, urls: list[str]) -> tuple[str | None, float]:
    started = time.monotonic()
    problem = notify(hub, urls, deadline=DEADLINE)
    return problem, time.monotonic() - started


def late(hub: str) -> str:
    return f"the WebSub hub {hub} did not answer within 1 s"


def test_a_hub_that_drips_its_answer_costs_a_warning_within_the_deadline(
    dripping: Loopback,
) -> None:
    problem, elapsed = timed(dripping.url, ["http://localhost:8000/all.rss.xml"])
    assert problem == late(dripping.url)
    assert elapsed < WITHIN


def test_a_hub_that_never_answers_costs_a_warning_and_its_connection(silent: Loopback) -> None:
    problem, elapsed = timed(silent.url, ["http://localhost:8000/all.rss.xml"])
    assert problem == late(silent.url)
    assert elapsed < WITHIN
    # The connection is closed, not left to a thread that outlives the deadline.
    assert silent.hung_up.wait(TIMEOUT)


def test_a_name_lookup_that_hangs_costs_a_warning_within_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`getaddrinfo` takes no timeout: a resolver that never answers must not hold the build."""
    looked_up = threading.Event()

    def hangs(*args: object, **kwargs: object) -> object:
        looked_up.set()
        time.sleep(2 * WITHIN)
        raise socket.gaierror("no answer")

    monkeypatch.setattr(socket, "getaddrinfo", hangs)
    hub = "http://hub.example.org/hub"
    problem, elapsed = timed(hub, ["http://localhost:8000/all.rss.xml"])
    assert looked_up.is_set(), "the name was looked up"
    assert problem == late(hub)
    assert elapsed < WITHIN


def test_the_deadline_covers_every_batch_together() -> None:
    pausing = Loopback(pause)
    try:
        one, _ = timed(pausing.url, ["http://localhost:8000/all.rss.xml"])
        urls = [f"http://localhost:8000/topics/t{n}.rss.xml" for n in range(8 * BATCH)]
        eight, elapsed = timed(pausing.url, urls)  # eight batches of 0.25 s: 2 s in all
    finally:
        pausing.close()
    assert one is None
    assert eight == late(pausing.url)
    assert elapsed < WITHIN


def test_a_tls_handshake_that_never_completes_costs_a_warning(silent: Loopback) -> None:
    hub = silent.url.replace("http:", "https:")
    problem, elapsed = timed(hub, ["http://localhost:8000/all.rss.xml"])
    assert problem == late(hub)
    assert elapsed < WITHIN


def test_a_hub_whose_listen_backlog_is_full_costs_a_warning() -> None:
    """Connections beyond a full backlog are dropped by the kernel: connect() never completes."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        held: list[socket.socket] = []
        try:
            while len(held) < 10:  # Linux queues backlog + 1 connections; then SYNs are dropped
                client = socket.socket()
                held.append(client)
                client.settimeout(0.5)
                try:
                    client.connect(address)
                except TimeoutError:
                    break
            else:
                pytest.skip("this kernel never let the listen backlog fill")
            hub = f"http://127.0.0.1:{address[1]}/hub"
            problem, elapsed = timed(hub, ["http://localhost:8000/all.rss.xml"])
        finally:
            for client in held:
                client.close()
    assert problem == late(hub)
    assert elapsed < WITHIN


def test_a_refused_connection_is_a_prompt_warning() -> None:
    with socket.socket() as bound:  # bound, never listening: the kernel refuses at once
        bound.bind(("127.0.0.1", 0))
        hub = f"http://127.0.0.1:{bound.getsockname()[1]}/hub"
        problem, elapsed = timed(hub, ["http://localhost:8000/all.rss.xml"])
    assert (problem or "").startswith(f"the WebSub hub {hub} could not be reached: ")
    assert "refused" in (problem or "")
    assert elapsed < WITHIN


class Hub:
    """A working hub: records each request's target, headers and `hub.url` values."""

    def __init__(self, status: int = 204) -> None:
        self.requests: list[tuple[str, dict[str, str], list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                assert form["hub.mode"] == ["publish"]
                hub.requests.append((self.path, dict(self.headers), form["hub.url"]))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.address}/hub?topic=news"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub()
    yield running
    running.close()


def test_a_working_hub_is_told_every_url_in_batches(hub: Hub) -> None:
    urls = [f"http://localhost:8000/topics/t{n}.rss.xml" for n in range(2 * BATCH + 7)]
    assert notify(hub.url, urls, deadline=TIMEOUT) is None
    assert [len(told) for _, _, told in hub.requests] == [BATCH, BATCH, 7]
    assert [url for _, _, told in hub.requests for url in told] == urls
    assert {target for target, _, _ in hub.requests} == {"/hub?topic=news"}


def test_a_hub_error_is_a_warning() -> None:
    failing = Hub(status=503)
    try:
        problem = notify(failing.url, ["http://localhost:8000/all.rss.xml"], deadline=TIMEOUT)
    finally:
        failing.close()
    assert problem == f"the WebSub hub {failing.url} answered 503 Service Unavailable"


def test_the_proxy_of_the_environment_is_used(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """As urllib did: the hub is reached through `http_proxy`, with the proxy's credentials."""
    monkeypatch.setenv("http_proxy", f"http://news:s%3Acret@{hub.address}")
    elsewhere = "http://hub.invalid/publish"  # never resolved: the proxy is asked for it
    assert notify(elsewhere, ["http://localhost:8000/all.rss.xml"], deadline=TIMEOUT) is None
    [(target, headers, _)] = hub.requests
    assert target == elsewhere
    assert headers["Proxy-Authorization"] == "Basic bmV3czpzOmNyZXQ="  # news:s:cret


def test_a_build_with_a_stalling_hub_writes_the_feeds_and_warns(
    dripping: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds.websub, "DEADLINE", DEADLINE)
    report = build_into(SEEDS, tmp_path / "out", websub_hub=dripping.url)
    assert report.hub_problem == late(dripping.url)
    assert report.notified
    assert (tmp_path / "out/all.rss.xml").is_file()
    assert (tmp_path / "out/all.atom.xml").is_file()


@pytest.mark.parametrize("host", ["a..b", "a" * 70 + ".example"])
def test_a_hub_host_no_resolver_takes_is_a_warning(host: str, tmp_path: Path) -> None:
    """The configuration accepts these URLs (http, a host); Python's IDNA codec refuses them."""
    report = build_into(SEEDS, tmp_path / "out", websub_hub=f"http://{host}/")
    assert report.hub_problem is not None
    assert report.hub_problem.startswith(f"the WebSub hub http://{host}/ could not be reached: ")
    assert (tmp_path / "out" / "all.rss.xml").exists()
