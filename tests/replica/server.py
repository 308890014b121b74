"""The replica's HTTP server: answers for *.gscn.com.cn as a forward proxy (absolute-form GET for http, CONNECT with
a self-signed certificate for https) or directly by the Host header. Anything else is refused and counted.

    python -m tests.replica [--port 8899] [--seed 7]     # then: http_proxy=https_proxy=http://127.0.0.1:8899
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.replica.render import Renderer, Reply
from tests.replica.site import Site

SITE_SUFFIX = "gscn.com.cn"
PROJECT = Path(__file__).resolve().parents[2]
FIREWALL_PATH = "/waf/verify.html"
BUSY_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>系统繁忙</title></head><body><div class='tip'>"
    "<h1>系统繁忙，请稍后再试</h1><p>您访问的页面暂时无法显示，请稍后刷新页面重试。</p>"
    "<p><a href='https://www.gscn.com.cn/'>返回首页</a></p></div></body></html>"
).encode()


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A TLS server context for *.gscn.com.cn with a fresh self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*.gscn.com.cn")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("*.gscn.com.cn"),
                    x509.DNSName("gscn.com.cn"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "replica.crt", directory / "replica.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


class ReplicaServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, site: Site, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), ReplicaHandler)
        self.site = site
        self.renderer = Renderer(site)
        self.requests: list[str] = []
        self.browser_requests: list[tuple[str, str]] = []  # (url, Sec-Fetch-Dest) of those a browser made
        self.delays: dict[str, float] = {}  # path → seconds to wait before answering (slow pages)
        self.delay = 0.0  # seconds every other page waits
        self.in_flight: list[str] = []  # URLs being answered now, across hosts
        self.max_in_flight = 0
        self.peak: list[str] = []  # the URLs in flight when `max_in_flight` was reached (what a failing test shows)
        self.faults: dict[str, float] = {}  # kind → share of first attempts (`answer`)
        self.hang_seconds = 5.0
        self.broken: set[str] = set()  # paths that answer 503 every time
        self.busy: set[str] = set()  # paths that answer a busy server's page (200) every time
        self.firewall: set[str] = set()  # paths redirected (302) to a firewall's check page (200) every time
        self.cut: dict[str, int] = {}  # path → bytes sent without a length, every time (then the connection closes)
        self.attempts: dict[str, int] = {}
        self.offsite: list[str] = []
        self.lock = threading.Lock()
        self._certdir = tempfile.TemporaryDirectory(prefix="replica-tls-")
        self.tls = self_signed_context(Path(self._certdir.name))

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def crawl_environment(self, **extra: str) -> dict[str, str]:
        return crawl_environment(self.proxy_url, **extra)

    def log_request_url(self, url: str, allowed: bool, browser_dest: str | None = None) -> None:
        with self.lock:
            (self.requests if allowed else self.offsite).append(url)
            if allowed and browser_dest:
                self.browser_requests.append((url, browser_dest))

    def rendered_pages(self) -> list[str]:
        """Pages a browser navigated to (its own sub-requests, scripts, are not counted)."""
        return [url for url, dest in self.browser_requests if dest == "document"]

    def plain_requests(self) -> list[str]:
        """Requests not made by a browser, in order."""
        by_browser = Counter(url for url, _ in self.browser_requests)
        plain = []
        for url in self.requests:
            if by_browser[url]:
                by_browser[url] -= 1
            else:
                plain.append(url)
        return plain

    @contextlib.contextmanager
    def answering(self, url: str):
        """Counts the requests being prepared at once: the crawler's concurrency at this origin, from the moment a
        request arrives until its answer is ready (a client can start its next one only after that)."""
        with self.lock:
            self.in_flight.append(url)
            if len(self.in_flight) > self.max_in_flight:
                self.max_in_flight, self.peak = len(self.in_flight), list(self.in_flight)
        try:
            yield
        finally:
            with self.lock:
                self.in_flight.remove(url)

    def handle_error(self, request, client_address) -> None:
        """Clients that hang up (timeouts, refused certificates, injected faults) are normal here: stay quiet."""

    def fault_for(self, url: str) -> str | None:
        """The fault a URL's first attempt meets (a fixed draw per URL), None for later attempts and robots.txt."""
        with self.lock:
            self.attempts[url] = self.attempts.get(url, 0) + 1
            first = self.attempts[url] == 1
        if not first or not self.faults or url.endswith("/robots.txt"):
            return None
        draw = int(hashlib.sha1(url.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        for kind, share in self.faults.items():
            if draw < share:
                return kind
            draw -= share
        return None

    def start(self) -> ReplicaServer:
        threading.Thread(target=self.serve_forever, name="replica", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._certdir.cleanup()


class ReplicaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ReplicaServer
    tunnel_host: str | None = None

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_CONNECT(self) -> None:
        host = self.path.split(":")[0].lower()
        if not _is_site(host):
            self.server.log_request_url(f"https://{self.path}", allowed=False)
            self.send_error(403, "replica serves only *.gscn.com.cn")
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        try:
            self.connection = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):  # a client that refuses the self-signed certificate: its choice
            self.close_connection = True
            return
        self.rfile = self.connection.makefile("rb", buffering=0)
        self.wfile = self.connection.makefile("wb", buffering=0)
        self.tunnel_host = host
        self.close_connection = False

    def do_GET(self) -> None:
        if self.path.startswith(("http://", "https://")):
            url = self.path
        elif self.tunnel_host:
            url = f"https://{self.tunnel_host}{self.path}"
        else:
            url = f"http://{(self.headers.get('Host') or '').split(':')[0]}{self.path}"
        host = (urlsplit(url).hostname or "").lower()
        if not _is_site(host):
            self.server.log_request_url(url, allowed=False)
            self.send_error(403, "replica serves only *.gscn.com.cn")
            return
        self.server.log_request_url(url, allowed=True, browser_dest=self.headers.get("Sec-Fetch-Dest"))
        self.answer(url)

    def answer(self, url: str) -> None:
        path = urlsplit(url).path
        with self.server.answering(url):  # not while writing: the client frees its slot once it has the bytes
            time.sleep(self.server.delays.get(path, self.server.delay))
            reply = self.server.renderer.reply(url)
        fault = self.server.fault_for(url)
        if path in self.server.firewall:
            reply = Reply(302, {"Location": f"https://{urlsplit(url).hostname}{FIREWALL_PATH}?from={path}"}, b"")
        elif path == FIREWALL_PATH:
            reply = Reply(200, {"Content-Type": "text/html; charset=utf-8"}, BUSY_PAGE)
        elif path in self.server.broken or fault == "503":
            reply = Reply(503, {"Content-Type": "text/html"}, b"<html><body>Service Unavailable</body></html>")
        elif fault == "reset":  # RST, no response at all
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        elif fault == "empty":  # 200 without a page
            reply = Reply(200, {"Content-Type": "text/html"}, b"")
        elif fault == "busy" or path in self.server.busy:  # 200, not the page asked for (a busy server's, a firewall's)
            reply = Reply(200, {"Content-Type": "text/html; charset=utf-8"}, BUSY_PAGE)
        elif fault == "hang":
            time.sleep(self.server.hang_seconds)
        elif fault == "truncate":  # the promised length, half the bytes, then the connection closes
            self.send_response(reply.status)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        elif fault in ("unframed", "cut") or path in self.server.cut:  # no length: the body ends at the close
            kept = len(reply.body) if fault == "unframed" else self.server.cut.get(path, len(reply.body) // 2)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body[:kept])
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


def crawl_command(*arguments: str) -> list[str]:
    """`scrapy crawl gscn …` with this interpreter."""
    return [sys.executable, "-m", "scrapy", "crawl", "gscn", *arguments]


def crawl_environment(proxy_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `scrapy crawl` that reaches the site through a replica at `proxy_url`, unchanged."""
    env = {
        **os.environ,
        "http_proxy": proxy_url,
        "https_proxy": proxy_url,
        "no_proxy": "",
        "PYTHONPATH": str(PROJECT),
        "GANSUNEWS_MIN_DELAY": "0",  # a local replica needs no politeness floor
        **extra,
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):  # the lower-case ones set here rule
        env.pop(name, None)
    return env


def _is_site(host: str) -> bool:
    return host == SITE_SUFFIX or host.endswith("." + SITE_SUFFIX)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    server = ReplicaServer(Site(seed=options.seed), options.port)
    print(f"replica of gscn.com.cn as a proxy on {server.proxy_url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
