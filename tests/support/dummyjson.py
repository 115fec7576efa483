"""A local stand-in for https://dummyjson.com, which this machine cannot reach.

The guide's second flow hard-codes `uri: https://dummyjson.com/products`; to run it unmodified,
the engine's HTTP client is pointed (through the standard HTTPS_PROXY variable) at a CONNECT
proxy on 127.0.0.1 that answers for dummyjson.com over TLS with a certificate from a throwaway
test CA (trusted through SSL_CERT_FILE). The data is the bundled products data set.
"""

from __future__ import annotations

import importlib.util
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HOST = "dummyjson.com"


def products_api() -> Any:
    """The examples' products API module, imported by path (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("products_api", REPO / "examples/products_api.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    ca_key, ca_cert = folder / "ca.key", folder / "ca.pem"
    key, csr, cert = folder / "site.key", folder / "site.csr", folder / "site.pem"
    ext = folder / "san.ext"
    ext.write_text(f"subjectAltName=DNS:{HOST}\nbasicConstraints=CA:FALSE\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl(
        *["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"],
        "-subj",
        "/CN=plait test CA",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_cert),
    )
    openssl(
        *["req", "-newkey", "rsa:2048", "-nodes"],
        "-subj",
        f"/CN={HOST}",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    openssl(
        *["x509", "-req", "-days", "2", "-CAcreateserial"],
        "-in",
        str(csr),
        "-CA",
        str(ca_cert),
        "-CAkey",
        str(ca_key),
        "-out",
        str(cert),
        "-extfile",
        str(ext),
    )
    return ca_cert, cert, key


@dataclass
class StandIn:
    proxy_url: str
    ca_file: Path

    def environment(self) -> dict[str, str]:
        return {"HTTPS_PROXY": self.proxy_url, "SSL_CERT_FILE": str(self.ca_file)}


@contextmanager
def dummyjson_standin(folder: Path) -> Iterator[StandIn]:
    ca_cert, cert, key = _make_certificates(folder)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    handler = products_api().make_handler(products_api().load_products())

    class ConnectProxy(BaseHTTPRequestHandler):
        def do_CONNECT(self) -> None:
            if not self.path.startswith(f"{HOST}:"):
                self.send_error(403, "this stand-in only answers for dummyjson.com")
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            wrapped = tls.wrap_socket(self.connection, server_side=True)
            handler(wrapped, self.client_address, self.server)
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ConnectProxy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield StandIn(f"http://{host}:{port}", ca_cert)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
