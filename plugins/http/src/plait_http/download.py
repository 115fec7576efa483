"""`plait.http.Download`: stream a response body into internal storage, whatever its size."""

from __future__ import annotations

import re
from email.message import Message
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote

from plait_sdk import Example, RunContext, Task, TaskFailure, TaskOutputs, output, prop

from plait_http import examples
from plait_http.exchange import HttpProperties, describe, exchange, response_headers

if TYPE_CHECKING:
    import httpx  # only annotations here: httpx loads when a request is sent

DEFAULT_FILE_NAME = "download"
MAX_FILE_NAME = 128
UNSAFE_CHARACTERS = re.compile(r"[^\w.-]+")


class DownloadProperties(HttpProperties):
    failOnEmptyResponse: bool = prop(
        True,
        description="Fail when the response body is empty (unless `options.allowFailed`); "
        "when false, an empty file is stored and a warning logged.",
    )
    saveAs: str | None = prop(
        None,
        description="Name of the stored file. Default: the name in the `Content-Disposition` "
        "header, else the last segment of the URL path. Names are reduced to a single safe "
        "segment (letters, digits, `.`, `-`, `_`).",
        examples=["orders.csv"],
    )


class DownloadOutputs(TaskOutputs):
    uri: str = output(description="The `plait://` URI of the stored file.")
    code: int = output(description="The response status code.")
    length: int = output(description="The number of bytes stored.")
    headers: dict[str, list[str]] = output(
        description="The response headers: name (as the server spelled it) -> list of values."
    )


class Download(Task[DownloadProperties, DownloadOutputs]):
    """Download a file over HTTP into internal storage.

    The body is streamed chunk by chunk into a new file of the task run, in constant memory
    whatever its size; the file appears in storage only once it is complete. A status of 400
    or more fails the task unless `options.allowFailed` is set, and so does an empty body
    unless `failOnEmptyResponse` is false.
    """

    type = "plait.http.Download"
    aliases = ("io.kestra.plugin.core.http.Download", "io.kestra.plugin.fs.http.Download")
    Properties = DownloadProperties
    Outputs = DownloadOutputs
    examples: ClassVar[tuple[Example, ...]] = examples.DOWNLOAD

    def run(self, props: DownloadProperties, ctx: RunContext) -> DownloadOutputs:
        length = 0
        with (
            exchange(props, ctx) as response,
            ctx.storage.writer(stored_name(props.saveAs, response)) as (uri, file),
        ):
            for chunk in response.iter_bytes():
                if ctx.cancelled():
                    raise TaskFailure(f"{describe(props, response)}: download cancelled")
                file.write(chunk)
                length += len(chunk)
            if length == 0 and props.failOnEmptyResponse and not props.options.allowFailed:
                raise TaskFailure(
                    f"{describe(props, response)}: the response body is empty (set "
                    "`failOnEmptyResponse: false` to store an empty file)"
                )
        if length == 0:
            ctx.log.warning(f"{describe(props, response)}: the downloaded file is empty")
        ctx.log.info(f"stored {length} bytes as {uri}")
        return DownloadOutputs(
            uri=uri, code=response.status_code, length=length, headers=response_headers(response)
        )


def stored_name(save_as: str | None, response: httpx.Response) -> str:
    """The file name to store under: `saveAs`, else `Content-Disposition`, else the URL's
    last path segment, each made safe; the server never chooses a path."""
    candidates = (save_as, _disposition_name(response), unquote(response.url.path))
    for candidate in candidates:
        name = safe_file_name(candidate)
        if name:
            return name
    return DEFAULT_FILE_NAME


def safe_file_name(name: str | None) -> str | None:
    """The last segment of ``name`` with anything but letters, digits, `.`, `-` and `_`
    replaced, no leading dot, at most ``MAX_FILE_NAME`` characters (keeping the extension);
    None when nothing meaningful is left."""
    if not name:
        return None
    segment = name.replace("\\", "/").rpartition("/")[2]
    cleaned = UNSAFE_CHARACTERS.sub("_", segment)[-MAX_FILE_NAME:].lstrip(".")
    return cleaned if cleaned.strip("_.-") else None


def _disposition_name(response: httpx.Response) -> str | None:
    header = response.headers.get("Content-Disposition")
    if not header:
        return None
    message = Message()
    message["Content-Disposition"] = header
    return message.get_filename()
