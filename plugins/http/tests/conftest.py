"""A real HTTP server on 127.0.0.1 for the plait-http tests, and the bundled products API.

The server records what it receives, so tests check what actually went over the wire
(auth headers, multipart parts), and serves the awkward cases a client must handle: slow
answers, redirects, large and endless streamed bodies, error statuses.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from plait_sdk.testing import PlaitRunner

REPO = Path(__file__).resolve().parents[3]
CHUNK = 64 * 1024
ENDLESS_CAP = 256 * 1024 * 1024
"""An endless body stops here, so a client that never stops reading fails instead of hanging."""
RunFailing = Callable[[str, Mapping[str, Any]], str]


def iter_pattern(size: int) -> Iterator[bytes]:
    """Deterministic bytes with no short period, so a lost or repeated chunk changes the hash;
    generated chunk by chunk so that serving a large body costs the server no memory."""
    for start in range(0, size, CHUNK):
        length = min(CHUNK, size - start)
        first = start // 32  # CHUNK is a multiple of the 32-byte block
        blocks = range(first, first + length // 32 + 1)
        yield b"".join(hashlib.sha256(i.to_bytes(8, "big")).digest() for i in blocks)[:length]


def pattern(size: int) -> bytes:
    return b"".join(iter_pattern(size))


def pattern_sha256(size: int) -> str:
    digest = hashlib.sha256()
    for chunk in iter_pattern(size):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class State:
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    """Set at teardown: lets `/slow` handlers finish."""
    endless_sent: int = 0
    endless_done: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalServer

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet; failures show in assertions."""

    def dispatch(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        body = self.read_body()
        self.server.state.received.append(
            Received(self.command, url.path, dict(self.headers.items()), body)
        )
        route = url.path.strip("/").split("/")
        handler = getattr(self, f"route_{route[0]}", None)
        if handler is None:
            self.send_json(404, {"message": f"no route {url.path}"})
        else:
            handler(route[1:], query, body)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while size := int(self.rfile.readline().split(b";")[0], 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return bytes(data)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def start_chunked(self, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    # Routes -----------------------------------------------------------------------------------

    def route_echo(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """What was received, as JSON; `?status=` picks the status, `?header=` adds one."""
        self.send_json(
            int(query.get("status", 200)),
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", errors="replace"),
            },
            headers={"X-Echo": "first", "x-echo": "second"} if "header" in query else None,
        )

    def route_status(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self.send_json(int(rest[0]), {"message": f"status {rest[0]} as asked", "padding": "x" * 9})

    def route_redirect(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self.send_response(302)
        self.send_header("Location", "/echo?redirected=1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_slow(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Answers only once the test is over: any read timeout shorter than the test fires."""
        self.server.state.release.wait(60)
        self.send_json(200, {"late": True})

    def route_bytes(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """`pattern(n)` bytes; `?chunked=1` streams without Content-Length, `?name=` adds a
        Content-Disposition."""
        size = int(rest[0])
        headers = {"Content-Type": "application/octet-stream"}
        if "name" in query:
            headers["Content-Disposition"] = f'attachment; filename="{query["name"]}"'
        if query.get("chunked"):
            self.start_chunked(headers)
            for chunk in iter_pattern(size):
                self.write_chunk(chunk)
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for chunk in iter_pattern(size):
            self.wfile.write(chunk)

    def route_endless(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """A chunked body that goes on until the client hangs up (or `ENDLESS_CAP`)."""
        state = self.server.state
        block = pattern(CHUNK)
        self.start_chunked({"Content-Type": "text/plain"})
        try:
            while state.endless_sent < ENDLESS_CAP:
                self.write_chunk(block)
                state.endless_sent += len(block)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
        finally:
            state.endless_done.set()

    def route_empty(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_form(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """The parts of a multipart or URL-encoded form: name -> filename, type, size, sha256."""
        content_type = self.headers.get("Content-Type", "")
        parts: dict[str, Any] = {}
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
            )
            for part in message.iter_parts():
                data = part.get_payload(decode=True)
                parts[part.get_param("name", header="content-disposition")] = {
                    "filename": part.get_filename(),
                    "contentType": part.get("Content-Type"),
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "text": data.decode("utf-8", errors="replace")[:200],
                }
        else:
            parts = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        self.send_json(200, {"contentType": content_type, "parts": parts})


class LocalServer(ThreadingHTTPServer):
    """The test server; `pattern_sha256` and `ENDLESS_CAP` are reachable from it so tests need no
    import of this module."""

    daemon_threads = True
    ENDLESS_CAP = ENDLESS_CAP
    pattern_sha256 = staticmethod(pattern_sha256)

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = State()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is expected here (timeouts, size limits)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def run_failing(plait_runner: PlaitRunner) -> RunFailing:
    """``run_failing(task_type, properties)``: run a task that must fail and return its error
    message, for the test to check that it names the cause."""

    def run(task_type: str, properties: Mapping[str, Any]) -> str:
        result = plait_runner.run_task(task_type, properties)
        assert result.state == "FAILED", result.outputs
        assert result.error is not None
        return result.error

    return run


@pytest.fixture
def server() -> Iterator[LocalServer]:
    httpd = LocalServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.state.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _load_products_api() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "plait_examples_products_api", REPO / "examples" / "products_api.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def products_api() -> ModuleType:
    """`examples/products_api.py`, imported by path as the demo does."""
    return _load_products_api()


@pytest.fixture
def products_url(products_api: ModuleType) -> Iterator[str]:
    """Base URL of the bundled products API, served on 127.0.0.1 for this test."""
    with products_api.serve_products() as base_url:
        yield base_url
