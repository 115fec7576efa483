"""A local stand-in for https://dummyjson.com/products, serving the bundled data set offline.

The getting-started flow, its tests and the demo point their `api_url` input here, so they run
without network access and against data whose every value is known. Only the routes the
examples use are served: `GET /products` (with dummyjson's `limit` and `skip` query parameters)
and `GET /products/<id>`; anything else is a JSON 404, as dummyjson answers.

    python examples/products_api.py --port 8088
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA_FILE = Path(__file__).resolve().parent / "data" / "products.json"
DEFAULT_LIMIT = 30


def load_products(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    """The bundled products, in the order dummyjson lists them."""
    return json.loads(path.read_text("utf-8"))["products"]


def page(products: list[dict[str, Any]], query: str) -> tuple[HTTPStatus, dict[str, Any]]:
    """One page of the listing; `limit=0` means every product after `skip`, as on dummyjson."""
    params = parse_qs(query)
    try:
        limit = int(params.get("limit", [DEFAULT_LIMIT])[0])
        skip = int(params.get("skip", [0])[0])
    except ValueError:
        return HTTPStatus.BAD_REQUEST, {"message": "limit and skip must be integers"}
    if limit < 0 or skip < 0:
        return HTTPStatus.BAD_REQUEST, {"message": "limit and skip must not be negative"}
    selected = products[skip:] if limit == 0 else products[skip : skip + limit]
    return HTTPStatus.OK, {
        "products": selected,
        "total": len(products),
        "skip": skip,
        "limit": len(selected),
    }


def route(products: list[dict[str, Any]], target: str) -> tuple[HTTPStatus, dict[str, Any]]:
    """The status and JSON document answering `GET target`."""
    parts = urlsplit(target)
    path = parts.path.rstrip("/")
    if path == "/products":
        return page(products, parts.query)
    prefix, _, product_id = path.rpartition("/")
    if prefix == "/products":
        found = next((p for p in products if str(p["id"]) == product_id), None)
        if found is not None:
            return HTTPStatus.OK, found
        return HTTPStatus.NOT_FOUND, {"message": f"Product with id '{product_id}' not found"}
    return HTTPStatus.NOT_FOUND, {"message": f"Route GET:{parts.path} not found"}


def make_handler(products: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class ProductsHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, document = route(products, self.path)
            payload = json.dumps(document).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the demo show the engine's logs, not the server's."""

    return ProductsHandler


@contextmanager
def serve_products(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the data set in a background thread; yields the base URL (no trailing slash).

    `port=0` picks a free port. The server is shut down and its socket closed on exit.
    """
    server = ThreadingHTTPServer((host, port), make_handler(load_products()))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="products-api", daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the bundled products data set.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    args = parser.parse_args(argv)
    with serve_products(args.host, args.port) as base_url:
        print(f"serving {base_url}/products (Ctrl-C to stop)", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
