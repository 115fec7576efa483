"""A 1 GB HTTP download through `plait.http.Download` into the internal storage, in constant
memory: the body is generated on the fly by a server on 127.0.0.1 and streamed to disk.

Prints throughput and the peak RSS before and after; no figure is asserted.

    .venv/bin/python benchmarks/download.py [--megabytes 1024]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from plait.api import Engine

CHUNK = b"x" * (1024 * 1024)


def serve(megabytes: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(megabytes * len(CHUNK)))
            self.end_headers()
            for _ in range(megabytes):
                self.wfile.write(CHUNK)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    args = parser.parse_args()
    server = serve(args.megabytes)
    url = f"http://127.0.0.1:{server.server_address[1]}/big.bin"
    flow = (
        "id: download\nnamespace: bench\ntasks:\n  - id: get\n"
        f"    type: plait.http.Download\n    uri: {url}\n"
    )
    with tempfile.TemporaryDirectory() as home:
        engine = Engine.create(home=Path(home))
        try:
            loaded = engine.load(flow)
            before = peak_rss_mb()
            started = time.perf_counter()
            execution = engine.run(loaded)
            elapsed = time.perf_counter() - started
            after = peak_rss_mb()
            outputs = execution.task_runs[0].outputs or {}
            assert str(execution.state) == "SUCCESS", execution.to_document()
        finally:
            engine.close()
            server.shutdown()
    size_mb = outputs["length"] / 1024 / 1024
    print(f"downloaded {size_mb:.0f} MB in {elapsed:.2f} s ({size_mb / elapsed:.0f} MB/s)")
    print(
        f"peak RSS: {before:.0f} MB before the run, {after:.0f} MB after "
        f"(+{after - before:.0f} MB for a {size_mb:.0f} MB body)"
    )


if __name__ == "__main__":
    main()
