"""`plait.http.Request`: call an API and keep the response body inline as an output."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING, ClassVar

from plait_sdk import Example, RunContext, Task, TaskFailure, TaskOutputs, output

from plait_http import examples
from plait_http.exchange import (
    HttpProperties,
    describe,
    exchange,
    request_uri,
    response_headers,
)

if TYPE_CHECKING:
    import httpx  # only annotations here: httpx loads when a request is sent


class RequestOutputs(TaskOutputs):
    uri: str = output(description="The URI requested (before any redirect).")
    code: int = output(description="The response status code.")
    headers: dict[str, list[str]] = output(
        description="The response headers: name (as the server spelled it) -> list of values."
    )
    body: str | None = output(
        None,
        description="The response body as text (null when empty). A JSON body can be queried "
        "downstream with `jq`, e.g. `{{ outputs.api.body | jq('.products') | first }}`.",
    )


class Request(Task[HttpProperties, RequestOutputs]):
    """Make an HTTP request and keep the response as outputs.

    The body is read as text into the `body` output, up to `options.maxContentLength` (10 MB by
    default): a larger body fails the task as soon as the limit is crossed, without reading
    the rest. For large or binary payloads use `plait.http.Download`, which streams the body to
    internal storage. A status of 400 or more fails the task, with the status and the start of
    the body in the error, unless `options.allowFailed` is set.
    """

    type = "plait.http.Request"
    aliases = ("io.kestra.plugin.core.http.Request", "io.kestra.plugin.fs.http.Request")
    Properties = HttpProperties
    Outputs = RequestOutputs
    examples: ClassVar[tuple[Example, ...]] = examples.REQUEST

    def run(self, props: HttpProperties, ctx: RunContext) -> RequestOutputs:
        limit = props.options.maxContentLength
        with exchange(props, ctx) as response:
            declared = response.headers.get("Content-Length", "")
            encoded = "Content-Encoding" in response.headers
            if declared.isdigit() and not encoded and int(declared) > limit:
                raise _too_large(props, response, limit, f"it declares {declared} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise _too_large(props, response, limit, "more was sent")
        return RequestOutputs(
            uri=request_uri(response),
            code=response.status_code,
            headers=response_headers(response),
            body=_text(props, response, bytes(body)) if body else None,
        )


def _too_large(
    props: HttpProperties, response: httpx.Response, limit: int, evidence: str
) -> TaskFailure:
    return TaskFailure(
        f"{describe(props, response)}: the response body is larger than "
        f"options.maxContentLength ({limit} bytes; {evidence}). Use plait.http.Download to "
        "stream a large body to internal storage, or raise options.maxContentLength."
    )


def _text(props: HttpProperties, response: httpx.Response, body: bytes) -> str:
    charset = response.charset_encoding or props.options.defaultCharset
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = props.options.defaultCharset
    try:
        return body.decode(charset)
    except UnicodeDecodeError as exc:
        raise TaskFailure(
            f"{describe(props, response)}: the response body is not {charset} text "
            f"({exc.reason} at byte {exc.start}); use plait.http.Download for binary content"
        ) from None
