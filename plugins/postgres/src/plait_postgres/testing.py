"""Throwaway PostgreSQL clusters for tests: ``initdb`` + ``pg_ctl`` in a directory of the test's.

A test suite (plait's own, the plugin's, a platform team's) needs a real server without an
administrator: :func:`throwaway_cluster` creates one in ``base_dir`` on a free port of
127.0.0.1, trusting every local connection, tuned for speed over durability (no fsync). When
the tests run as root the server runs as the ``postgres`` user (PostgreSQL refuses root), so
``base_dir`` must then be reachable by that user (a directory under ``/tmp`` is).

Binaries are looked up in ``$PLAIT_PG_BIN``, then the newest ``/usr/lib/postgresql/*/bin``
(Debian), then ``initdb`` on ``PATH``; ``scripts/ensure-postgres.sh`` installs them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}
"""Durability is pointless for a throwaway cluster; connections are many (workers, pools)."""


class ClusterError(RuntimeError):
    """The cluster could not be created, started or stopped; the message includes its log."""


def bin_dir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates = [os.environ.get("PLAIT_PG_BIN", "")]
    versions = [p for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p).parent.name.isdigit()]
    candidates += sorted(versions, key=lambda p: int(Path(p).parent.name), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise ClusterError("PostgreSQL's initdb was not found: run scripts/ensure-postgres.sh")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_user() -> tuple[Callable[[], None] | None, pwd.struct_passwd | None]:
    """A ``preexec_fn`` dropping root to ``postgres`` (and that user), or nothing when not root."""
    if os.geteuid() != 0:
        return None, None
    user = pwd.getpwnam("postgres")

    def drop() -> None:
        os.setgid(user.pw_gid)
        os.setgroups([])
        os.setuid(user.pw_uid)

    return drop, user


@dataclass
class Cluster:
    """A running (or stopped) throwaway cluster; ``dsn()`` connects as superuser ``postgres``."""

    base_dir: Path
    port: int
    bin_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its DSN."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @property
    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def start(self) -> None:
        options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
        self._pg_ctl(
            "start", "-w", "-t", "60", "-l", str(self.log_file),
            "-o", f"-p {self.port} -k {self.socket_dir} {options}",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are disconnected); no-op when stopped."""
        if self.running:
            self._pg_ctl("stop", "-w", "-t", "60", "-m", "fast")

    def restart(self) -> None:
        """Stop and start again on the same port: every open connection breaks."""
        self.stop()
        self.start()

    def _pg_ctl(self, *args: str) -> None:
        _run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], self.log_file)


def _run(command: list[str], log_file: Path) -> None:
    drop, _ = _as_user()
    done = subprocess.run(
        command,
        preexec_fn=drop,
        start_new_session=True,  # the server must not get the test runner's Ctrl-C
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        log = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else ""
        raise ClusterError(
            f"{Path(command[0]).name} failed ({done.returncode}): {done.stdout}{done.stderr}\n{log}"
        )


def throwaway_cluster(base_dir: Path) -> Cluster:
    """Create a cluster in ``base_dir`` (initdb, unless it already holds one) and start it."""
    base_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(base_dir=base_dir, port=free_port(), bin_dir=bin_dir())
    cluster.socket_dir.mkdir(exist_ok=True)
    _, user = _as_user()
    if user is not None:
        for path in (base_dir, cluster.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    if not (cluster.data_dir / "PG_VERSION").exists():
        _run(
            [str(cluster.bin_dir / "initdb"), "-D", str(cluster.data_dir), "-U", "postgres",
             "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            cluster.log_file,
        )  # fmt: skip
    cluster.start()
    return cluster
