"""``--server URL``: the commands that read or run executions talk to a ``plait server`` over
its REST API (Kestra's) instead of the local ``PLAIT_HOME``. Standard library only."""

from __future__ import annotations

import base64
import contextlib
import json
import mimetypes
import os
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from plait.errors import FlowValidationError, PlaitError, Problem
from plait.state.model import Execution, LogEntry, parse_datetime

if TYPE_CHECKING:
    import urllib.error

SERVER_ENV = "PLAIT_SERVER"
TOKEN_ENV = "PLAIT_SERVER_TOKEN"
USER_ENV = "PLAIT_SERVER_USER"
API_PREFIXES = ("/api/v1", "/api/v1/main")
REQUEST_TIMEOUT = 300.0
STREAM_TIMEOUT = 60.0
"""Silence on the follow stream after which it is opened again (a long task sends nothing)."""
RECONNECT_SECONDS = 0.5
CHUNK = 1024 * 1024

F = TypeVar("F", bound=Callable[..., Any])


def server_option(fn: F) -> F:
    """``--server URL`` (or ``PLAIT_SERVER``) on a command."""
    return click.option(
        "--server",
        metavar="URL",
        envvar=SERVER_ENV,
        help=(
            f"Talk to this plait server instead of the local PLAIT_HOME (env {SERVER_ENV}); "
            f"credentials: {TOKEN_ENV} (bearer) or {USER_ENV}=user:password (basic)."
        ),
    )(fn)


class RemoteError(PlaitError):
    """The server could not be reached, or answered with an error."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def api_url(server: str) -> str:
    """The API's base URL: ``http://host:port/api/v1`` from ``host:port``, ``http://host:port``
    or the API's own URL."""
    url = server.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PlaitError(f"--server {server}: expected an http:// or https:// URL")
    if not url.endswith(API_PREFIXES):
        url += API_PREFIXES[0]
    return url


def credentials(env: Mapping[str, str] | None = None) -> str | None:
    """The ``Authorization`` header from ``PLAIT_SERVER_TOKEN`` or ``PLAIT_SERVER_USER``."""
    env = os.environ if env is None else env
    if env.get(TOKEN_ENV):
        return f"Bearer {env[TOKEN_ENV]}"
    if env.get(USER_ENV):
        if ":" not in env[USER_ENV]:
            raise PlaitError(f"{USER_ENV} must be written user:password")
        return "Basic " + base64.b64encode(env[USER_ENV].encode()).decode("ascii")
    return None


class Client:
    """One server's API: JSON answers, errors as :class:`RemoteError` naming the URL."""

    def __init__(self, server: str, authorization: str | None = None) -> None:
        self.base = api_url(server)
        self.authorization = authorization

    @classmethod
    def connect(cls, server: str) -> Client:
        return cls(server, credentials())

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")

    def _open(
        self,
        method: str,
        url: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> Any:
        import urllib.error  # HTTP client modules load only when a server is used
        import urllib.request
        from http.client import HTTPException

        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        request.add_header("Accept", "application/json, text/event-stream")
        if self.authorization:
            request.add_header("Authorization", self.authorization)
        try:
            return urllib.request.urlopen(request, timeout=timeout)  # api_url: http(s) only
        except urllib.error.HTTPError as exc:
            raise self._http_error(method, url, exc) from None
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise RemoteError(
                f"cannot reach the plait server at {self.base} ({method} {url}): {reason}"
            ) from None

    def _http_error(self, method: str, url: str, exc: urllib.error.HTTPError) -> RemoteError:
        from http.client import HTTPException

        try:
            text = exc.read().decode("utf-8", errors="replace")
        except (OSError, HTTPException):
            text = ""
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        message = body.get("message") if isinstance(body, dict) else None
        if not message:
            lines = text.strip().splitlines()
            message = lines[0][:200] if lines else str(exc.reason)
        if exc.code == 401:
            message += f"; set {TOKEN_ENV} (a bearer token) or {USER_ENV}=user:password"
        where = f"{method} {url} answered {exc.code}"
        return RemoteError(f"{message} ({where})", exc.code, body)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The JSON answer of one request (None when it has no body)."""
        from http.client import HTTPException

        url = self.url(path, params)
        with self._open(method, url, body, headers) as response:
            try:
                text = response.read()
            except (OSError, HTTPException) as exc:
                message = f"the plait server at {self.base} hung up ({method} {url}): {exc}"
                raise RemoteError(message) from None
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise RemoteError(
                f"the answer of {method} {url} is not JSON: is {self.base} a plait server?"
            ) from None

    def events(self, path: str) -> Iterator[tuple[str, str]]:
        """Server-sent events ``(event, data)`` until the stream ends or stays silent for
        ``STREAM_TIMEOUT`` seconds."""
        from http.client import HTTPException

        url = self.url(path)
        with self._open("GET", url, timeout=STREAM_TIMEOUT) as response:
            name, data = "message", []
            while True:
                try:
                    raw = response.readline()
                except (OSError, HTTPException):  # silence (timeout) or the server went away
                    return
                if not raw:
                    return
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if not line:
                    if data:
                        yield name, "\n".join(data)
                    name, data = "message", []
                elif not line.startswith(":"):
                    key, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if key == "data":
                        data.append(value)
                    elif key == "event":
                        name = value

    # -- the API, as the commands use it ------------------------------------------------------

    def execution(self, execution_id: str) -> Execution:
        return Execution.from_document(self.call("GET", f"/executions/{_quote(execution_id)}"))

    def watch(self, execution_id: str) -> Iterator[Execution]:
        """The execution at each change, until it ends (the follow stream, opened again if it
        drops before the end)."""
        path = f"/executions/{_quote(execution_id)}/follow"
        while True:
            for event, data in self.events(path):
                execution = Execution.from_document(json.loads(data))
                yield execution
                if event == "end" or execution.state.is_terminal:
                    return
            execution = self.execution(execution_id)
            yield execution
            if execution.state.is_terminal:
                return
            time.sleep(RECONNECT_SECONDS)

    def logs(self, execution_id: str, task_id: str | None = None, after: int = 0) -> list[LogEntry]:
        """The lines, without the first ``after`` (a parameter of plait's server: a follower
        asks only for the lines it has not shown)."""
        params = {"taskId": task_id, "after": after or None}
        found = self.call("GET", f"/logs/{_quote(execution_id)}", params=params)
        return [
            LogEntry(
                execution_id=doc.get("executionId") or execution_id,
                task_id=doc.get("taskId"),
                taskrun_id=doc.get("taskRunId"),
                level=doc.get("level") or "INFO",
                message=doc.get("message") or "",
                timestamp=parse_datetime(doc["timestamp"]),
            )
            for doc in found or []
        ]

    def search(self, namespace: str | None, flow_id: str | None, limit: int) -> list[Execution]:
        params = {"namespace": namespace, "flowId": flow_id, "page": 1, "size": limit}
        found = self.call("GET", "/executions/search", params=params)
        return [Execution.from_document(doc) for doc in found.get("results") or []]

    def deploy(self, source: str, file: str) -> dict[str, Any]:
        """Store a flow (a new revision); problems are reported against ``file``."""
        body = source.encode("utf-8")
        headers = {"Content-Type": "application/x-yaml"}
        with relocated_problems(file):
            result: dict[str, Any] = self.call("POST", "/flows", body=body, headers=headers)
        return result

    def start(
        self,
        flow: Mapping[str, Any],
        fields: Mapping[str, str],
        files: Mapping[str, Path],
        *,
        file: str,
    ) -> Execution:
        """Start an execution of the stored ``flow`` (its document); ``files`` are uploaded as
        FILE inputs; problems with the inputs are reported against ``file``."""
        boundary = uuid.uuid4().hex
        body, length = multipart(boundary, fields, files)
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        }
        path = f"/executions/{_quote(flow['namespace'])}/{_quote(flow['id'])}"
        with relocated_problems(file):
            doc = self.call("POST", path, body=body, headers=headers)
        return Execution.from_document(doc)

    def restart(self, execution_id: str) -> Execution:
        """Restart in place; the server runs it on (``watch`` it to wait)."""
        doc = self.call("POST", f"/executions/{_quote(execution_id)}/restart")
        return Execution.from_document(doc)

    def replay(self, execution_id: str, start: str | None) -> Execution:
        """A new execution replaying this one (from task or task run ``start``)."""
        path = f"/executions/{_quote(execution_id)}/replay"
        return Execution.from_document(self.call("POST", path, params={"taskRunId": start}))

    def kill(self, execution_id: str) -> Execution:
        """Ask the server to kill it: the execution KILLING (poll it to see it KILLED)."""
        doc = self.call("DELETE", f"/executions/{_quote(execution_id)}/kill")
        return Execution.from_document(doc)

    def evaluate(self, execution_id: str, taskrun_id: str | None, expression: str) -> Any:
        path = f"/executions/{_quote(execution_id)}/eval"
        if taskrun_id is not None:
            path += f"/{_quote(taskrun_id)}"
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        return self.call("POST", path, body=expression.encode("utf-8"), headers=headers)


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


@contextlib.contextmanager
def relocated_problems(file: str) -> Iterator[None]:
    """A 422 answer with problems becomes a :class:`FlowValidationError` whose problems name
    the local ``file`` (the server's names for it are ``<request body>`` or ``ns.flowId``)."""
    try:
        yield
    except RemoteError as exc:
        found = exc.body.get("problems") if isinstance(exc.body, dict) else None
        if exc.status != 422 or not found:
            raise
        problems = [
            Problem(p.get("message", ""), file, p.get("line"), p.get("column")) for p in found
        ]
        raise FlowValidationError(problems) from None


def multipart(
    boundary: str, fields: Mapping[str, str], files: Mapping[str, Path]
) -> tuple[Iterator[bytes], int]:
    """A ``multipart/form-data`` body streamed from the files, and its length."""
    parts: list[tuple[bytes, Path | bytes]] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_field(name)}"\r\n\r\n'
        parts.append((head.encode("utf-8"), value.encode("utf-8")))
    for name, path in files.items():
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_field(name)}"; '
            f'filename="{_field(path.name)}"\r\nContent-Type: {kind}\r\n\r\n'
        )
        parts.append((head.encode("utf-8"), path))
    end = f"--{boundary}--\r\n".encode()
    length = len(end) + sum(
        len(head) + (c.stat().st_size if isinstance(c, Path) else len(c)) + 2 for head, c in parts
    )

    def chunks() -> Iterator[bytes]:
        for head, content in parts:
            yield head
            if isinstance(content, Path):
                with content.open("rb") as stream:
                    while chunk := stream.read(CHUNK):
                        yield chunk
            else:
                yield content
            yield b"\r\n"
        yield end

    return chunks(), length


def _field(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")
