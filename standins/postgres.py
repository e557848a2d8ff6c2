"""A throwaway PostgreSQL cluster on 127.0.0.1 for the lake mode's tests and benchmarks.

Debian's ``postgresql`` binaries (``/usr/lib/postgresql/<version>/bin``) create a cluster in a
temporary folder (``initdb``, trust authentication on loopback only) and start it on a free port
(``pg_ctl``). PostgreSQL refuses to run as root: when we are root the cluster belongs to the
``postgres`` user (Debian's package creates it) and the commands run through ``runuser``.

    with PostgresCluster() as pg:
        pg.dsn("runlift")   # 'dbname=runlift host=127.0.0.1 port=54321 user=runlift'
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why (tests skip with it)."""


def pg_bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if not found:
        raise PostgresUnavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; "
                                  "apt-get install postgresql)")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """A cluster in a temporary folder, started by :meth:`start`, removed by :meth:`stop`."""

    user = "runlift"

    def __init__(self) -> None:
        self.bin = pg_bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="runlift-pg-"))
        self.data = self.root / "data"
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise PostgresUnavailable("running as root and there is no `postgres` user to run "
                                          "PostgreSQL as") from None
            self.run_as = "postgres"
            shutil.chown(self.root, "postgres", "postgres")
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, cwd=self.root)

    def _check(self, what: str, done: subprocess.CompletedProcess[str]) -> None:
        if done.returncode:
            log = ""
            if (self.root / "log").exists():
                log = (self.root / "log").read_text(errors="replace")[-800:]
            raise PostgresUnavailable(f"PostgreSQL {what} failed: {(done.stderr or done.stdout).strip()[-800:]} {log}")

    def start(self) -> PostgresCluster:
        self._check("initdb", self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user,
                                        "--auth=trust", "-E", "UTF8", "--no-sync"))
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=100"
        self._check("start", self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts,
                                       "-l", str(self.root / "log"), "-w", "-t", "30", "start"))
        self.started = True
        return self

    def create_database(self, name: str) -> str:
        self._check(f"createdb {name}", self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p",
                                                  str(self.port), "-U", self.user, name))
        return self.dsn(name)

    def dsn(self, dbname: str) -> str:
        """A libpq connection string (the part after ``ducklake:postgres:``)."""
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user={self.user}"

    def stop(self) -> None:
        if self.started:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
