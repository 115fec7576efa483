"""What `Request` and `Download` share: their properties and one request/response exchange.

The response is always streamed (`httpx` with `stream=True`), so each task decides how much of
the body it holds: `Request` stops at `maxContentLength`, `Download` copies chunk by chunk to
internal storage. Every `httpx` error is turned into a :class:`TaskFailure` naming the method,
the URI and, for timeouts, which timeout and its value.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from plait_sdk import RunContext, TaskFailure, TaskProperties, prop
from pydantic import ConfigDict

from plait_http.options import HttpOptions, SslOptions

if TYPE_CHECKING:
    import ssl

    import httpx

STORAGE_SCHEME = "plait://"
MULTIPART = "multipart/form-data"
EXCERPT_BYTES = 2048
EXCERPT_CHARS = 500
USER_AGENT = f"plait-http/{importlib.metadata.version('plait-http')}"
"""Sent unless `headers` names another User-Agent, so servers can tell plait's calls apart."""

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


class HttpProperties(TaskProperties):
    """Properties of every HTTP task type (Kestra's `HttpInterface`)."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    uri: str = prop(
        description="The `http://` or `https://` URL to call.",
        examples=["https://dummyjson.com/products", "{{ inputs.api_url }}"],
    )
    method: Method = prop("GET", description="The HTTP method.", examples=["POST"])
    headers: dict[str, str] | None = prop(
        None,
        description="Request headers, by name.",
        examples=[{"user-agent": "plait", "X-API-KEY": "{{ secret('API_KEY') }}"}],
    )
    body: str | dict[str, Any] | list[Any] | None = prop(
        None,
        description="The request body. Text is sent as is, encoded with "
        "`options.defaultCharset`; a map or list is sent as JSON. Ignored when `formData` "
        "is set.",
        examples=['{"title": "Kestra Pen"}', "{{ inputs.payload }}"],
    )
    formData: dict[str, Any] | None = prop(
        None,
        description="Form fields. Sent URL-encoded, or as `multipart/form-data` when "
        "`contentType` says so or when a value is a file. A value that is a `plait://` URI is "
        "sent as a file part, streamed from internal storage; `{name, content}` sends "
        "`content` (a `plait://` URI or text) as a file called `name`. Maps and lists are "
        "sent as JSON text, other values as text.",
        examples=[
            {"user": "John Doe", "report": "{{ outputs.extract.uri }}"},
            {"upload": {"name": "orders.csv", "content": "{{ outputs.extract.uri }}"}},
        ],
    )
    contentType: str = prop(
        "application/json",
        description="Content type of `body`, sent as the `Content-Type` header unless "
        "`headers` has one. With `formData`, `multipart/form-data` selects a multipart body.",
        examples=["application/json", "text/csv", MULTIPART],
    )
    options: HttpOptions = prop(
        default_factory=HttpOptions,
        description="Timeouts, redirects, accepted status codes, response size limit, "
        "authentication and TLS settings.",
        examples=[{"allowFailed": True, "auth": {"type": "BASIC", "username": "admin"}}],
    )
    sslOptions: SslOptions | None = prop(
        None, description="Kestra's older place for `options.ssl`; `options.ssl` wins."
    )

    def ssl(self) -> SslOptions:
        return self.options.ssl or self.sslOptions or SslOptions()


@contextmanager
def exchange(props: HttpProperties, ctx: RunContext) -> Iterator[httpx.Response]:
    """Send the request and yield the response with its body not yet read.

    A status the options do not accept fails here, with a body excerpt. Errors raised while the
    caller reads the body (a read timeout mid-way) are translated as well.
    """
    import httpx  # loaded by the first request, not by every engine start

    options = props.options
    timeout = httpx.Timeout(
        connect=_seconds(options.connect_timeout()),
        read=_seconds(options.read_timeout()),
        write=_seconds(options.read_timeout()),
        pool=None,
    )
    with (
        _translated_errors(props),
        httpx.Client(
            timeout=timeout,
            follow_redirects=options.followRedirects,
            verify=_verification(props.ssl().insecureTrustAllCertificates),
            auth=_auth(options),
            headers={"User-Agent": USER_AGENT},
        ) as client,
        ExitStack() as stack,
    ):
        request = client.build_request(
            props.method, props.uri, headers=_headers(props), **_payload(props, ctx, stack)
        )
        response = client.send(request, stream=True)
        stack.callback(response.close)
        redirected = f" (redirected to {response.url})" if response.history else ""
        ctx.log.info(
            f"{props.method} {request.url} -> {response.status_code} "
            f"{response.reason_phrase}{redirected}"
        )
        if not options.accepts(response.status_code):
            raise TaskFailure(
                f"{describe(props, response)} failed with HTTP {response.status_code} "
                f"{response.reason_phrase}: {_excerpt(response)} (set `options.allowFailed: "
                "true` or `options.allowedResponseCodes` to accept this status)"
            )
        yield response


def _verification(insecure: bool) -> ssl.SSLContext | bool:
    """What ``verify`` gets: the process's verifying context, or False."""
    if insecure:
        return False
    return _verifying_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _verifying_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's default verifying context (which honours ``SSL_CERT_FILE``/``SSL_CERT_DIR``),
    made once per setting: loading the CA bundle costs tens of milliseconds per request."""
    import httpx

    return httpx.create_ssl_context(verify=True)


def request_uri(response: httpx.Response) -> str:
    """The URI first requested, before any redirect (Kestra's `uri` output)."""
    first = response.history[0] if response.history else response
    return str(first.request.url)


def response_headers(response: httpx.Response) -> dict[str, list[str]]:
    """Headers as name -> values, Kestra's shape: names keep the server's spelling, repeated
    headers are grouped case-insensitively under the first spelling seen."""
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    encoding = response.headers.encoding
    for raw_name, raw_value in response.headers.raw:
        name = raw_name.decode(encoding)
        key = spelling.setdefault(name.lower(), name)
        grouped.setdefault(key, []).append(raw_value.decode(encoding))
    return grouped


def describe(props: HttpProperties, response: httpx.Response) -> str:
    """`METHOD url` of the request that got this response, for messages."""
    return f"{props.method} {response.request.url}"


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _shown(value: timedelta | None) -> str:
    return "no limit" if value is None else f"{value.total_seconds():g}s"


def _auth(options: HttpOptions) -> httpx.Auth | None:
    import httpx

    class _BearerAuth(httpx.Auth):
        """Bearer token auth; as an `httpx.Auth`, httpx drops it on a redirect to another
        origin."""

        def __init__(self, token: str) -> None:
            self.token = token

        def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request

    credentials = options.credentials()
    if credentials is None:
        return None
    if credentials.type == "BEARER":
        return _BearerAuth(credentials.token)
    return httpx.BasicAuth(credentials.username, credentials.password)


def _headers(props: HttpProperties) -> dict[str, str]:
    """`headers`, plus `contentType` for a `body` when no header names a content type (a form's
    content type is set by httpx, with the multipart boundary)."""
    headers = dict(props.headers or {})
    sends_body = props.body is not None and not props.formData
    if sends_body and not any(key.lower() == "content-type" for key in headers):
        headers["Content-Type"] = props.contentType
    return headers


def _payload(props: HttpProperties, ctx: RunContext, stack: ExitStack) -> dict[str, Any]:
    """`httpx` keyword arguments carrying the body; files are opened on `stack`, read by httpx
    in chunks while sending."""
    if props.formData:
        return _form(props, ctx, stack)
    if props.body is None:
        return {}
    text = props.body if isinstance(props.body, str) else json.dumps(props.body)
    return {"content": text.encode(props.options.defaultCharset)}


def _form(props: HttpProperties, ctx: RunContext, stack: ExitStack) -> dict[str, Any]:
    fields: dict[str, str] = {}
    parts: list[tuple[str, tuple[str | None, Any]]] = []
    for key, value in (props.formData or {}).items():
        file_part = _file_part(value, ctx, stack)
        if file_part is not None:
            parts.append((key, file_part))
        else:
            fields[key] = _field_text(value)
            parts.append((key, (None, fields[key])))
    if len(parts) > len(fields) or props.contentType.split(";")[0].strip().lower() == MULTIPART:
        return {"files": parts}
    return {"data": fields}


def _file_part(value: Any, ctx: RunContext, stack: ExitStack) -> tuple[str, Any] | None:
    """`(file name, content)` when this form value is a file, else None; httpx guesses the
    part's content type from the name."""
    if isinstance(value, str) and value.startswith(STORAGE_SCHEME):
        name, content = _storage_name(value), value
    elif isinstance(value, Mapping) and {"name", "content"} <= value.keys():
        name, content = str(value["name"]), value["content"]
    else:
        return None
    if isinstance(content, str) and content.startswith(STORAGE_SCHEME):
        data: Any = stack.enter_context(ctx.storage.open(content))
    else:
        data = _field_text(content).encode("utf-8")
    return name, data


def _storage_name(uri: str) -> str:
    return unquote(urlsplit(uri).path.rstrip("/").rpartition("/")[2]) or "file"


def _field_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list) or value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def _excerpt(response: httpx.Response) -> str:
    """The start of the body, on one line, read without pulling the rest of it."""
    head = bytearray()
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= EXCERPT_BYTES:
            break
    text = " ".join(head.decode(response.encoding or "utf-8", errors="replace").split())
    if not text:
        return "(empty body)"
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."


@contextmanager
def _translated_errors(props: HttpProperties) -> Iterator[None]:
    import httpx

    target = f"{props.method} {props.uri}"
    options = props.options
    try:
        yield
    except httpx.ConnectTimeout:
        raise TaskFailure(
            f"{target}: no connection within the connect timeout "
            f"(options.timeout.connectTimeout = {_shown(options.connect_timeout())})"
        ) from None
    except httpx.ReadTimeout:
        raise TaskFailure(
            f"{target}: the server sent nothing within the read timeout "
            f"(options.timeout.readIdleTimeout = {_shown(options.read_timeout())})"
        ) from None
    except httpx.WriteTimeout:
        raise TaskFailure(
            f"{target}: the server took no request data within the read timeout "
            f"(options.timeout.readIdleTimeout = {_shown(options.read_timeout())})"
        ) from None
    except httpx.TooManyRedirects:
        raise TaskFailure(f"{target}: too many redirects") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise TaskFailure(f"{target}: invalid uri: {exc}") from None
    except httpx.ConnectError as exc:
        raise TaskFailure(f"{target}: cannot connect: {exc}") from None
    except httpx.RemoteProtocolError as exc:
        raise TaskFailure(f"{target}: the server broke off the exchange: {exc}") from None
    except httpx.HTTPError as exc:
        raise TaskFailure(f"{target}: {type(exc).__name__}: {exc}") from None
