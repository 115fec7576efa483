"""Internal-storage URIs written in a script or in commands become local files, as in Kestra.

``pd.read_csv("{{ outputs.extract.uri }}")`` renders to ``pd.read_csv("plait:///…/orders.csv")``,
which Python cannot open. Before the run, every such URI in the rendered text is downloaded into
the working directory and replaced with the file's path as the script sees it (the host path for
a local process, the bind-mounted path in a container).

Reads go through the task run's storage view, so a URI of another execution, or one naming no
file, fails the task with the storage's message, which names the URI. The local name is built
from the URI's last segment and resolved with :func:`plait_sdk.files.safe_join`, so it can only
land inside the working directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from plait_sdk import RunContext
from plait_sdk.files import STORAGE_SCHEME, Workspace, safe_join

STORAGE_FOLDER = "_plait_storage"
"""Folder of the working directory that receives the files named in the script or commands."""
URI_PATTERN = re.compile(re.escape(STORAGE_SCHEME) + r"[-a-zA-Z0-9%._+~=/]*")
"""Kestra's character set for these URIs, without ``#``: stored URIs never hold a bare ``#``
(it is percent-encoded), so one ends a URI, as in a shell comment right after it."""


class StorageFiles:
    """Downloads the URIs found in a task's text, once each, and says where they are."""

    def __init__(self, ctx: RunContext, workspace: Workspace, seen_root: str) -> None:
        self._ctx = ctx
        self._root = workspace.root
        self._seen_root = seen_root.rstrip("/")
        self._local: dict[str, str] = {}

    def localize(self, text: str) -> str:
        """``text`` with every internal-storage URI replaced by its downloaded file's path."""
        return URI_PATTERN.sub(lambda match: self._path_of(match.group()), text)

    def _path_of(self, uri: str) -> str:
        if uri not in self._local:
            self._ctx.storage.size(uri)  # refuses another execution's or a missing file, by URI
            relative = f"{STORAGE_FOLDER}/{len(self._local) + 1}/{_file_name(uri)}"
            self._ctx.storage.download(uri, safe_join(self._root, relative))
            self._local[uri] = f"{self._seen_root}/{relative}"
        return self._local[uri]


def _file_name(uri: str) -> str:
    """The stored file's own name (``orders.csv``), so that tools guessing a format from the
    extension, and tracebacks, see what the user would expect."""
    return Path(unquote(uri.rstrip("/").rsplit("/", 1)[-1])).name
