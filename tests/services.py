"""Real services for tests: FerretDB (MongoDB wire protocol over SQLite), built by `make ferretdb` from the Go
module proxy, or any MongoDB named by `MONGO_URI`. Servers bind to 127.0.0.1 and stop with the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

PROJECT = Path(__file__).resolve().parent.parent


def ferretdb_binary() -> str | None:
    candidates = [os.environ.get("FERRETDB_BIN"), str(PROJECT / ".tools/bin/ferretdb"), shutil.which("ferretdb")]
    return next((c for c in candidates if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FerretDB:
    """One FerretDB process on a free loopback port with a temporary data directory; stop/start keep both."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.data = tempfile.TemporaryDirectory(prefix="gansunews-ferretdb-")
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def log(self) -> Path:
        return Path(self.data.name) / "ferretdb.log"

    def start(self, timeout: float = 30.0) -> FerretDB:
        # Its log goes to a file: a pipe nobody reads fills up (64 KB: a warning for every client that closes, since
        # FerretDB v1 has no endSessions), and FerretDB then blocks on its next log line, answering nothing. That hung
        # the whole test run on 2026-12-03, in a teardown's MongoClient.close.
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-listen-addr", f"127.0.0.1:{self.port}", "-data-dir", f"{self.data.name}/data"],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        client = MongoClient(self.uri, serverSelectionTimeoutMS=500)
        try:
            while True:
                try:
                    client.admin.command("ping")
                    return self
                except PyMongoError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        error = self.log.read_text(encoding="utf-8", errors="replace")
                        raise RuntimeError(f"FerretDB did not start: {error[-2000:]}") from None
                    time.sleep(0.1)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def crash(self) -> None:
        """Gone at once, like a server that crashed or a network that broke (`stop` waits for FerretDB's graceful
        shutdown, which waits for its clients' connections to close: several seconds while a crawl holds them)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        self.data.cleanup()


class RedisServer:
    """Debian's redis-server on a free loopback port: nothing persisted, or (`data`) every write appended to a file
    in that directory, so that a stop and a start on the same port keep the data (a restart)."""

    def __init__(self, data: Path | None = None, *options: str) -> None:
        self.port = free_port()
        self.data = data
        self.options = list(options)  # more redis-server options (`--maxmemory 2mb` …)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server")
        kept = ["--dir", str(self.data), "--appendonly", "yes", "--appendfsync", "always"] if self.data else []
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *(kept or ["--appendonly", "no"]),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
