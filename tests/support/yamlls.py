"""A small synchronous LSP client for driving the real ``yaml-language-server``.

Only the standard library is used (subprocess + threads + json). Typical use::

    from support.yamlls import YamlLanguageServer, strip_cursor

    text, pos = strip_cursor("# yaml-language-server: $schema=./flow.json\\ntype: |\\n")
    with YamlLanguageServer.start() as server:
        doc = server.open(tmp_path / "flow.yaml", text)
        labels = [item["label"] for item in server.completion(doc, *pos)]
        diags = server.diagnostics(doc)
        hover = server.hover(doc, 1, 2)

The server binary comes from ``scripts/ensure-yamlls.sh`` (installs the pinned
``tools/yamlls`` package on first use); set ``PLAIT_YAMLLS`` to the path of a
``yaml-language-server`` JS entry point to use another one.

Positions are LSP positions: 0-based line and 0-based character counted in
UTF-16 code units (the LSP default; identical to ``str`` indices for ASCII).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import unquote, urlparse

__all__ = [
    "Document",
    "Position",
    "YamlLanguageServer",
    "YamlLanguageServerError",
    "completion_labels",
    "default_settings",
    "ensure_server",
    "hover_text",
    "position_of",
    "strip_cursor",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_SCRIPT = REPO_ROOT / "scripts" / "ensure-yamlls.sh"

JsonObject = dict[str, Any]


class YamlLanguageServerError(RuntimeError):
    """The server could not be installed/started, crashed, timed out or answered an error."""


# --------------------------------------------------------------------------- positions


class Position(NamedTuple):
    """An LSP position (0-based line, 0-based UTF-16 character)."""

    line: int
    character: int

    def to_lsp(self) -> JsonObject:
        return {"line": self.line, "character": self.character}


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _offset_to_position(text: str, offset: int) -> Position:
    before = text[:offset]
    line = before.count("\n")
    line_start = before.rfind("\n") + 1
    return Position(line, _utf16_len(before[line_start:]))


def position_of(
    text: str, needle: str, occurrence: int = 1, *, delta: int = 0, end: bool = False
) -> Position:
    """Position of the ``occurrence``-th (1-based) ``needle`` in ``text``.

    ``end=True`` points just after the needle; ``delta`` shifts the result by that
    many characters (within the text). Raises ``ValueError`` if not found.
    """
    if not needle:
        raise ValueError("needle must not be empty")
    if occurrence < 1:
        raise ValueError("occurrence is 1-based")
    index = -1
    for _ in range(occurrence):
        index = text.find(needle, index + 1)
        if index < 0:
            raise ValueError(f"{needle!r} occurs fewer than {occurrence} time(s) in the text")
    offset = index + (len(needle) if end else 0) + delta
    if not 0 <= offset <= len(text):
        raise ValueError(f"offset {offset} is outside the text")
    return _offset_to_position(text, offset)


def strip_cursor(text_with_marker: str, marker: str = "|") -> tuple[str, Position]:
    """Remove the single cursor ``marker`` from the text; return (text, its position).

    The marker must occur exactly once (YAML block scalars also use ``|``: pass
    another marker, e.g. ``marker="<|>"``, for such texts).
    """
    count = text_with_marker.count(marker)
    if count != 1:
        raise ValueError(
            f"cursor marker {marker!r} must occur exactly once, found {count} "
            "(choose another marker=)"
        )
    index = text_with_marker.index(marker)
    text = text_with_marker[:index] + text_with_marker[index + len(marker) :]
    return text, _offset_to_position(text, index)


# --------------------------------------------------------------------------- helpers


def completion_labels(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """The ``label`` of each completion item, in server order."""
    return [str(item["label"]) for item in items]


def hover_text(hover: Mapping[str, Any] | None) -> str:
    """Flatten a Hover result's ``contents`` (MarkupContent, MarkedString or list) to text."""
    if not hover:
        return ""
    contents = hover.get("contents")

    def one(c: Any) -> str:
        if isinstance(c, str):
            return c
        if isinstance(c, Mapping):
            return str(c.get("value", ""))
        return ""

    if isinstance(contents, list):
        return "\n\n".join(one(c) for c in contents)
    return one(contents)


def default_settings() -> JsonObject:
    """The ``yaml`` settings section sent to the server (schemas come from modelines)."""
    return {
        "validate": True,
        "completion": True,
        "hover": True,
        "format": {"enable": False},
        "schemaStore": {"enable": False},
        "kubernetesCRDStore": {"enable": False},
        "schemas": {},
        "disableSchemaDetection": [],
        "yamlVersion": "1.2",
    }


@functools.cache
def _ensure_server_cached(script: str) -> str:
    try:
        proc = subprocess.run(
            ["bash", script],
            cwd=str(REPO_ROOT),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:  # pragma: no cover - environment problem
        raise YamlLanguageServerError(f"running {script} failed: {exc}") from exc
    if proc.returncode != 0:
        raise YamlLanguageServerError(
            f"{script} failed with exit code {proc.returncode}:\n"
            f"{proc.stderr.strip()}\n{proc.stdout.strip()}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines or not Path(lines[-1]).is_file():
        raise YamlLanguageServerError(
            f"{script} did not print the server path; stdout={proc.stdout!r}"
        )
    return lines[-1]


def ensure_server() -> Path:
    """Path of the yaml-language-server JS entry point (installing it if needed)."""
    override = os.environ.get("PLAIT_YAMLLS")
    if override:
        path = Path(override)
        if not path.is_file():
            raise YamlLanguageServerError(f"PLAIT_YAMLLS={override!r} is not a file")
        return path
    if shutil.which("node") is None:
        raise YamlLanguageServerError(
            "Node.js ('node') is not on PATH: it is required to run yaml-language-server "
            "(install Node.js >= 18 and npm, then scripts/ensure-yamlls.sh installs the server)"
        )
    return Path(_ensure_server_cached(str(ENSURE_SCRIPT)))


def _to_uri(path_or_uri: str | os.PathLike[str]) -> tuple[str, Path | None]:
    if isinstance(path_or_uri, str) and "://" in path_or_uri:
        parsed = urlparse(path_or_uri)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else None
        return path_or_uri, path
    path = Path(path_or_uri).resolve()
    return path.as_uri(), path


# --------------------------------------------------------------------------- client


@dataclass(frozen=True)
class Document:
    """An open text document (immutable snapshot; ``change`` returns a new one)."""

    uri: str
    path: Path | None
    text: str
    version: int
    language_id: str = "yaml"

    def position_of(
        self, needle: str, occurrence: int = 1, *, delta: int = 0, end: bool = False
    ) -> Position:
        return position_of(self.text, needle, occurrence, delta=delta, end=end)


@dataclass
class _Pending:
    event: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: JsonObject | None = None


@dataclass
class _DiagState:
    generation: int = 0  # bumped at each didOpen/didChange
    latest: list[JsonObject] | None = None  # latest publish for the current generation
    received_at: float = 0.0
    publishes: int = 0  # publishes for the current generation


class YamlLanguageServer:
    """A running ``yaml-language-server --stdio`` with a synchronous client API.

    Use :meth:`start` as a context manager; the server is shut down on exit.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        root: Path | None = None,
        settings: Mapping[str, Any] | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        self.command = list(command)
        self.root = (root or Path.cwd()).resolve()
        self.settings: JsonObject = dict(settings) if settings is not None else default_settings()
        self.request_timeout = request_timeout
        self.server_info: JsonObject = {}
        self.capabilities: JsonObject = {}
        self.log_messages: deque[str] = deque(maxlen=500)  # window/logMessage + showMessage
        self.requests_from_server: deque[str] = deque(maxlen=500)  # methods, for debugging
        self._stderr: deque[str] = deque(maxlen=200)
        self._write_lock = threading.Lock()
        self._state = threading.Condition()
        self._pending: dict[int, _Pending] = {}
        self._next_id = 1
        self._diags: dict[str, _DiagState] = {}
        self._versions: dict[str, int] = {}
        self._config_pulls = 0
        self._dead: str | None = None
        self._closed = False
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(self.root),
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        self._reader = threading.Thread(target=self._read_loop, name="yamlls-reader", daemon=True)
        self._stderr_reader = threading.Thread(
            target=self._read_stderr, name="yamlls-stderr", daemon=True
        )
        self._reader.start()
        self._stderr_reader.start()

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(
        cls,
        root: str | os.PathLike[str] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
        server_js: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        request_timeout: float = 30.0,
    ) -> YamlLanguageServer:
        """Install (if needed), start and initialize the server.

        ``root`` is the workspace folder (default: the current directory);
        ``settings`` replaces :func:`default_settings` as the ``yaml`` section.
        """
        js = Path(server_js) if server_js is not None else ensure_server()
        node = shutil.which("node")
        if node is None:
            raise YamlLanguageServerError(
                "Node.js ('node') is not on PATH: it is required to run yaml-language-server"
            )
        server = cls(
            [node, str(js), "--stdio"],
            root=Path(root) if root is not None else None,
            settings=settings,
            request_timeout=request_timeout,
        )
        try:
            server._initialize(startup_timeout)
        except BaseException:
            server.close()
            raise
        return server

    def __enter__(self) -> YamlLanguageServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _initialize(self, timeout: float) -> None:
        root_uri = self.root.as_uri()
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "plait-tests", "version": "1"},
                "locale": "en",
                "rootPath": str(self.root),
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": self.root.name or "root"}],
                "capabilities": {
                    "general": {"positionEncodings": ["utf-16"]},
                    "window": {"workDoneProgress": True},
                    "workspace": {
                        "configuration": True,
                        "workspaceFolders": True,
                        "didChangeConfiguration": {"dynamicRegistration": True},
                        "didChangeWatchedFiles": {"dynamicRegistration": False},
                    },
                    "textDocument": {
                        "synchronization": {"dynamicRegistration": False, "didSave": False},
                        "completion": {
                            "contextSupport": True,
                            "completionItem": {
                                "snippetSupport": True,
                                "documentationFormat": ["markdown", "plaintext"],
                                "deprecatedSupport": True,
                                "labelDetailsSupport": True,
                            },
                        },
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {"relatedInformation": True},
                        # false: the server then neither registers a formatter nor
                        # asks to register didChangeConfiguration dynamically.
                        "formatting": {"dynamicRegistration": False},
                        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
                        "foldingRange": {"lineFoldingOnly": True},
                    },
                },
                "initializationOptions": {},
            },
            timeout=timeout,
        )
        self.capabilities = result.get("capabilities", {}) if isinstance(result, dict) else {}
        self.server_info = result.get("serverInfo", {}) if isinstance(result, dict) else {}
        self.notify("initialized", {})
        # The server pulls its settings (workspace/configuration) once initialized ...
        self._wait_config_pulls(1, timeout, required=True)
        # ... and again on didChangeConfiguration (it ignores the pushed settings
        # when the client supports workspace/configuration, but other servers may not).
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": self.settings}})
        self._wait_config_pulls(2, min(timeout, 5.0), required=False)

    def _wait_config_pulls(self, count: int, timeout: float, *, required: bool) -> None:
        deadline = time.monotonic() + timeout
        with self._state:
            while self._config_pulls < count:
                self._raise_if_dead()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if required:
                        raise YamlLanguageServerError(
                            "server did not pull its configuration within "
                            f"{timeout}s{self._stderr_tail()}"
                        )
                    return
                self._state.wait(remaining)

    def close(self, timeout: float = 5.0) -> None:
        """shutdown + exit; kill the process if it does not exit in time. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._proc.poll() is None and self._dead is None:
            try:
                self.request("shutdown", None, timeout=timeout)
                self.notify("exit", None)
            except (YamlLanguageServerError, OSError):
                pass
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=timeout)
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._reader.join(timeout=timeout)
        self._stderr_reader.join(timeout=timeout)

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    # ------------------------------------------------------------------ transport

    def _send(self, message: JsonObject) -> None:
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        header = f"Content-Length: {len(body)}\r\n\r\n".encode("ascii")
        stdin = self._proc.stdin
        assert stdin is not None
        with self._write_lock:
            try:
                stdin.write(header + body)
                stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as exc:
                raise YamlLanguageServerError(
                    f"cannot write to the server: {exc}{self._stderr_tail()}"
                ) from exc

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._raise_if_dead()
        message: JsonObject = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def request(self, method: str, params: Any, *, timeout: float | None = None) -> Any:
        """Send a request and wait (bounded) for its result."""
        timeout = self.request_timeout if timeout is None else timeout
        pending = _Pending()
        with self._state:
            self._raise_if_dead()
            request_id = self._next_id
            self._next_id += 1
            self._pending[request_id] = pending
        message: JsonObject = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            self._send(message)
            if not pending.event.wait(timeout):
                self._raise_if_dead()
                raise YamlLanguageServerError(
                    f"{method}: no response within {timeout}s{self._stderr_tail()}"
                )
        finally:
            with self._state:
                self._pending.pop(request_id, None)
        if pending.error is not None:
            if pending.error.get("code") == "dead":
                raise YamlLanguageServerError(f"{method}: {pending.error['message']}")
            raise YamlLanguageServerError(f"{method} failed: {pending.error}")
        return pending.result

    def _read_stderr(self) -> None:
        stream = self._proc.stderr
        assert stream is not None
        for raw in iter(stream.readline, b""):
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def _read_message(self) -> JsonObject | None:
        stream = self._proc.stdout
        assert stream is not None
        length: int | None = None
        while True:
            line = stream.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                if length is None:
                    continue
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = stream.read(length)
        if len(body) < length:
            return None
        return json.loads(body.decode("utf-8"))

    def _read_loop(self) -> None:
        reason = "server closed its output"
        try:
            while True:
                message = self._read_message()
                if message is None:
                    break
                self._dispatch(message)
        except Exception as exc:
            reason = f"client reader failed: {exc!r}"
        code = self._proc.poll()
        with self._state:
            self._dead = f"{reason} (exit code {code})" if not self._closed else "client closed"
            for pending in self._pending.values():
                pending.error = {"code": "dead", "message": self._dead + self._stderr_tail()}
                pending.event.set()
            self._state.notify_all()

    def _dispatch(self, message: JsonObject) -> None:
        if "method" in message:
            if "id" in message:
                self._answer_server_request(message)
            else:
                self._on_notification(message["method"], message.get("params"))
            return
        request_id = message.get("id")
        with self._state:
            pending = self._pending.get(request_id) if isinstance(request_id, int) else None
        if pending is not None:
            pending.result = message.get("result")
            pending.error = message.get("error")
            pending.event.set()

    def _answer_server_request(self, message: JsonObject) -> None:
        method: str = message["method"]
        params = message.get("params") or {}
        self.requests_from_server.append(method)
        response: JsonObject = {"jsonrpc": "2.0", "id": message["id"]}
        pulled_yaml = False
        if method == "workspace/configuration":
            result = []
            for item in params.get("items", []):
                section = item.get("section")
                if section == "yaml":
                    pulled_yaml = True
                    result.append(self.settings)
                elif section in ("http", "editor", "[yaml]"):
                    result.append({})
                else:
                    result.append(None)
            response["result"] = result
        elif method == "workspace/workspaceFolders":
            response["result"] = [{"uri": self.root.as_uri(), "name": self.root.name or "root"}]
        elif method in (
            "client/registerCapability",
            "client/unregisterCapability",
            "window/workDoneProgress/create",
            "window/showMessageRequest",
            "window/showDocument",
            "workspace/codeLens/refresh",
            "workspace/semanticTokens/refresh",
            "workspace/inlayHint/refresh",
            "workspace/diagnostic/refresh",
        ):
            response["result"] = None
        else:
            response["error"] = {
                "code": -32601,
                "message": f"plait test client does not handle {method}",
            }
        try:
            self._send(response)
        except YamlLanguageServerError:
            return
        if pulled_yaml:
            with self._state:
                self._config_pulls += 1
                self._state.notify_all()

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "textDocument/publishDiagnostics" and isinstance(params, dict):
            with self._state:
                state = self._diags.setdefault(params["uri"], _DiagState())
                state.latest = list(params.get("diagnostics", []))
                state.received_at = time.monotonic()
                state.publishes += 1
                self._state.notify_all()
        elif method in ("window/logMessage", "window/showMessage") and isinstance(params, dict):
            self.log_messages.append(str(params.get("message", "")))

    def _raise_if_dead(self) -> None:
        if self._dead is not None:
            raise YamlLanguageServerError(
                f"yaml-language-server is not running: {self._dead}{self._stderr_tail()}"
            )

    def _stderr_tail(self) -> str:
        lines = list(self._stderr)[-20:]
        return ("\nserver stderr (tail):\n" + "\n".join(lines)) if lines else ""

    # ------------------------------------------------------------------ documents

    def open(
        self, path_or_uri: str | os.PathLike[str], text: str, *, language_id: str = "yaml"
    ) -> Document:
        """textDocument/didOpen. A path need not exist on disk: the text is sent.

        A relative ``$schema=`` in the modeline resolves against the document's folder.
        """
        uri, path = _to_uri(path_or_uri)
        version = self._versions.get(uri, 0) + 1
        self._versions[uri] = version
        self._new_generation(uri)
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language_id,
                    "version": version,
                    "text": text,
                }
            },
        )
        return Document(uri=uri, path=path, text=text, version=version, language_id=language_id)

    def change(self, doc: Document, text: str) -> Document:
        """textDocument/didChange with the full new text."""
        version = self._versions.get(doc.uri, doc.version) + 1
        self._versions[doc.uri] = version
        self._new_generation(doc.uri)
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": doc.uri, "version": version},
                "contentChanges": [{"text": text}],
            },
        )
        return replace(doc, text=text, version=version)

    def close_document(self, doc: Document) -> None:
        """textDocument/didClose."""
        self.notify("textDocument/didClose", {"textDocument": {"uri": doc.uri}})

    def files_changed(self, *paths_or_uris: str | os.PathLike[str]) -> None:
        """workspace/didChangeWatchedFiles (changed): makes the server drop cached schemas."""
        changes = [{"uri": _to_uri(p)[0], "type": 2} for p in paths_or_uris]
        self.notify("workspace/didChangeWatchedFiles", {"changes": changes})

    def _new_generation(self, uri: str) -> None:
        with self._state:
            state = self._diags.setdefault(uri, _DiagState())
            state.generation += 1
            state.latest = None
            state.publishes = 0

    # ------------------------------------------------------------------ features

    @staticmethod
    def _position(line: int | tuple[int, int], character: int | None) -> JsonObject:
        if isinstance(line, tuple):
            if character is not None:
                raise TypeError("pass either a Position or line and character")
            line, character = line
        if character is None:
            raise TypeError("character is required")
        return {"line": line, "character": character}

    def completion(
        self,
        doc: Document,
        line: int | tuple[int, int],
        character: int | None = None,
        *,
        timeout: float | None = None,
    ) -> list[JsonObject]:
        """textDocument/completion at (line, character) or a Position; the CompletionItem dicts."""
        result = self.request(
            "textDocument/completion",
            {
                "textDocument": {"uri": doc.uri},
                "position": self._position(line, character),
                "context": {"triggerKind": 1},
            },
            timeout=timeout,
        )
        if result is None:
            return []
        if isinstance(result, dict):
            return list(result.get("items", []))
        return list(result)

    def hover(
        self,
        doc: Document,
        line: int | tuple[int, int],
        character: int | None = None,
        *,
        timeout: float | None = None,
    ) -> JsonObject | None:
        """textDocument/hover; the Hover dict or None (see :func:`hover_text`)."""
        result = self.request(
            "textDocument/hover",
            {"textDocument": {"uri": doc.uri}, "position": self._position(line, character)},
            timeout=timeout,
        )
        return result if isinstance(result, dict) else None

    def diagnostics(
        self,
        doc: Document,
        *,
        timeout: float = 10.0,
        settle: float = 0.3,
        until: Callable[[list[JsonObject]], bool] | None = None,
    ) -> list[JsonObject]:
        """The diagnostics published for ``doc`` since its last open/change.

        Waits (at most ``timeout`` seconds) for a publishDiagnostics of that
        document, then until no newer one arrived for ``settle`` seconds (the
        server validates ~200 ms after a change, only once the schema is loaded,
        and revalidates on configuration changes). With ``until``, keeps waiting
        until the latest publish satisfies it. Raises on timeout.
        """
        deadline = time.monotonic() + timeout
        with self._state:
            while True:
                self._raise_if_dead()
                state = self._diags.setdefault(doc.uri, _DiagState())
                now = time.monotonic()
                if state.latest is not None:
                    quiet_for = now - state.received_at
                    satisfied = until is None or until(state.latest)
                    if satisfied and quiet_for >= settle:
                        return list(state.latest)
                    wait = settle - quiet_for if satisfied else deadline - now
                else:
                    wait = deadline - now
                if now >= deadline:
                    if state.latest is not None and (until is None or until(state.latest)):
                        return list(state.latest)
                    got = (
                        "nothing"
                        if state.latest is None
                        else f"{state.publishes} publish(es), latest={state.latest}"
                    )
                    raise YamlLanguageServerError(
                        f"no settled diagnostics for {doc.uri} within {timeout}s "
                        f"(got {got}){self._stderr_tail()}"
                    )
                self._state.wait(max(0.001, min(wait, deadline - now)))
