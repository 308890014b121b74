"""Headless Chromium for the few listings drawn by JavaScript (scrapy-playwright), configured from settings."""

from __future__ import annotations

import os
import shutil

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BLOCKED_RESOURCES = {"image", "font", "media"}
DEAD_END = "http://127.0.0.1:9"  # the discard port: nothing listens, so a request sent there goes nowhere


def environment_proxy() -> str | None:
    return next(
        (
            os.environ[name]
            for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")
            if os.environ.get(name)
        ),
        None,
    )


def launch_options(executable: str | None = None) -> dict:
    """Debian's Chromium (Playwright cannot download its own here), sandbox off (root). With a proxy in the
    environment the browser's own background requests (updates, sign-in) are sent to a closed local port, so
    they never reach the proxy; pages get the real proxy from their context (`context_options`)."""
    options: dict = {
        "headless": True,
        "args": CHROMIUM_ARGS,
        "executable_path": executable or shutil.which("chromium") or "/usr/bin/chromium",
    }
    if environment_proxy():
        options["proxy"] = {"server": DEAD_END}
    return options


def context_options() -> dict:
    """Pages: the environment's proxy, and its self-signed certificate accepted."""
    proxy = environment_proxy()
    return {"ignore_https_errors": True, **({"proxy": {"server": proxy}} if proxy else {})}


def abort_request(request) -> bool:
    """Images, fonts and media are never needed to read a list."""
    return request.resource_type in BLOCKED_RESOURCES
