"""Headless Chromium for the few listings drawn by JavaScript (scrapy-playwright), configured from settings."""

from __future__ import annotations

import asyncio
import os
import shutil

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Request, Response

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


def launch_options(executable: str | None = None, proxy: str | None = None) -> dict:
    """Debian's Chromium (Playwright cannot download its own here), sandbox off (root). With a proxy (given, or
    the environment's) the browser's own background requests (updates, sign-in) are sent to a closed local port,
    so they never reach the proxy; pages get the real proxy from their context (`context_options`)."""
    options: dict = {
        "headless": True,
        "args": CHROMIUM_ARGS,
        "executable_path": executable or chromium(),
    }
    if proxy or environment_proxy():
        options["proxy"] = {"server": DEAD_END}
    return options


def chromium() -> str:
    """Debian's headless shell when installed (the old headless mode, what Playwright itself runs headless): it
    renders a listing for about half the CPU of the full browser; else the full browser."""
    return shutil.which("chromium-headless-shell") or shutil.which("chromium") or "/usr/bin/chromium"


def context_options(proxy: str | None = None) -> dict:
    """Pages: the proxy given, else the environment's, and its self-signed certificate accepted."""
    proxy = proxy or environment_proxy()
    return {"ignore_https_errors": True, **({"proxy": {"server": proxy}} if proxy else {})}


def browser_meta(context: dict) -> dict:
    """Request meta that sends a request through Chromium, in a context with these options."""
    return {"playwright": True, "playwright_context": "render", "playwright_context_kwargs": context}


def abort_request(request) -> bool:
    """Images, fonts and media are never needed to read a list."""
    return request.resource_type in BLOCKED_RESOURCES


class BrowserWhenNeeded(HTTP11DownloadHandler):
    """Download handler for http(s): Scrapy's own, except for requests marked `playwright`, which go to the
    scrapy-playwright handler. That handler is built at the first such request: installed directly it imports
    Playwright (≈ 20 MiB) and starts a Node driver per scheme at engine start, though most crawls render nothing."""

    lazy = False

    def __init__(self, crawler) -> None:
        super().__init__(crawler=crawler)
        self.crawler = crawler
        self.browser = None
        self.starting = asyncio.Lock()

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        return await (await self.browser_handler()).download_request(request)

    async def browser_handler(self):
        async with self.starting:
            if self.browser is None:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                handler = ScrapyPlaywrightDownloadHandler.from_crawler(self.crawler)
                # What the handler does on `engine_started`, which has passed (scrapy-playwright 0.0.48, pinned;
                # the rendering tests use it with a real Chromium).
                await handler._maybe_launch_in_thread()
                self.browser = handler
        return self.browser

    async def close(self) -> None:
        await super().close()
        if self.browser is not None:
            await self.browser.close()
