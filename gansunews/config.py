"""Settings, read one way: every project setting (`GANSUNEWS_*`, and `MONGO_URI`, `MONGO_DATABASE`, `REDIS_URL`)
comes, highest first, from `-s NAME=VALUE` (scrapyd's `setting=NAME=VALUE` is the same), a spider's own settings,
the environment variable of the same name, then the default in settings.py. Values are parsed as Scrapy parses
them (booleans `true`/`false`/`1`/`0`, lists comma-separated, dicts as JSON) and checked before any request.

The add-on `Configuration` applies the environment and derives the Scrapy settings that depend on ours: the
User-Agent (with `GANSUNEWS_CONTACT`), the minimum delay under AutoThrottle, the browser's executable and proxy,
and the debugging consoles.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from gansunews import __version__, redact
from gansunews import settings as defaults_module
from gansunews.browser import context_options, launch_options
from gansunews.quality import Thresholds

ENVIRONMENT_PRIORITY = 25  # above settings.py ("project", 20), below a spider's settings (30) and -s (40)
OTHER_NAMES = ("MONGO_URI", "MONGO_DATABASE", "REDIS_URL")
# DOWNLOAD_DELAY is never 0: with the asyncio reactor, Scrapy 2.19's downloader starts every queued request of a slot
# in one pass when the delay is 0 (each becomes a task, counted as transferring only once it runs), so the slot's
# concurrency is not enforced. With any delay it starts one per pass. 1 ms costs nothing at this site's pace. It
# holds as long as the event loop does not stall for longer than the delay between two starts (the pass measures
# the delay from its own start): with the default 0.25 s that never happens; with this guard alone, a rare stall
# (a garbage collection) can let one more request start.
CONCURRENCY_GUARD = 0.001


class SettingsError(ValueError):
    """A setting that cannot be used, with what is accepted."""


def project_defaults() -> dict[str, Any]:
    """Every project setting and its default, as settings.py defines it."""
    return {
        name: getattr(defaults_module, name)
        for name in dir(defaults_module)
        if name.startswith("GANSUNEWS_") or name in OTHER_NAMES
    }


def apply_environment(settings: BaseSettings, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Project settings given in the environment, below `-s` and a spider's settings; the names applied."""
    applied = [name for name in project_defaults() if name in environ]
    for name in applied:
        settings.set(name, environ[name], priority=ENVIRONMENT_PRIORITY)
    return applied


# How a project setting is read, by its default's type (others are read as they are, lists as lists)
READERS = {bool: "getbool", int: "getint", float: "getfloat", dict: "getdict"}
KINDS = {bool: "true/false (or 1/0)", int: "a whole number", float: "a number", dict: "a JSON object"}


def parsed(settings: BaseSettings, name: str) -> Any:
    """A project setting as the crawl reads it: `3` from settings.py and `"3"` from the environment are the same."""
    default = project_defaults().get(name)
    if isinstance(default, list | tuple):
        return settings.getlist(name)
    reader = READERS.get(type(default))
    return getattr(settings, reader)(name) if reader else settings.get(name)


def check(settings: BaseSettings) -> None:
    """Each project setting parses as its default's type; SettingsError names the first that does not."""
    for name, default in project_defaults().items():
        if type(default) not in READERS:
            continue
        try:
            parsed(settings, name)
        except (TypeError, ValueError):
            raise SettingsError(f"{name}={settings.get(name)!r}: expected {KINDS[type(default)]}") from None
    seeds = settings.getlist("GANSUNEWS_SEEDS")
    for seed in seeds:
        url = urlsplit(seed)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise SettingsError(f"GANSUNEWS_SEEDS: {seed!r} is not an http(s) URL such as https://www.gscn.com.cn/")
    if not seeds:
        raise SettingsError("GANSUNEWS_SEEDS is empty: the portal's home pages, where discovery starts")
    if not any(name.strip() for name in settings.getlist("GANSUNEWS_SCOPE")):
        raise SettingsError("GANSUNEWS_SCOPE is empty: the names of the section to crawl, such as 甘肃新闻")
    contact = settings.get("GANSUNEWS_CONTACT") or ""
    if not contact.isprintable():  # it goes into the User-Agent header: a line break would end the header
        raise SettingsError(f"GANSUNEWS_CONTACT={contact!r}: one line of printable characters (an e-mail, a URL)")
    try:
        Thresholds.from_settings(settings)
    except (TypeError, ValueError) as error:
        raise SettingsError(str(error)) from None


def check_spool_dir(settings: BaseSettings) -> None:
    """With MongoDB, the spool directory exists or can be made, and is writable: found out at the first MongoDB
    outage instead, a crawl would have nowhere to keep its articles (and one that cannot replay it fails at its
    start). Made here, before the crawl, by `scrapy crawl`'s checks."""
    if not settings.get("MONGO_URI"):
        return
    path = settings.get("GANSUNEWS_SPOOL_DIR") or ".gansunews/spool"
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise SettingsError(f"GANSUNEWS_SPOOL_DIR={path!r}: cannot be made a directory ({error.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise SettingsError(f"GANSUNEWS_SPOOL_DIR={path!r}: not writable")


def user_agent(contact: str) -> str:
    """A User-Agent naming the project and, when set, how the site can reach whoever runs it."""
    reach = f"; +{contact}" if contact else ""
    return f"gansunews/{__version__} (regional news archive{reach}; Scrapy)"


def derive(settings: BaseSettings) -> None:
    """Scrapy's settings that follow ours; a Scrapy setting given with `-s` wins."""

    def default(name: str, value: Any) -> None:
        settings.set(name, value, priority="project")  # only replaces settings.py's default, never -s

    default("USER_AGENT", user_agent(settings.get("GANSUNEWS_CONTACT", "")))
    delay = max(settings.getfloat("DOWNLOAD_DELAY"), settings.getfloat("GANSUNEWS_MIN_DELAY"), CONCURRENCY_GUARD)
    default("DOWNLOAD_DELAY", delay)
    proxy = settings.get("GANSUNEWS_BROWSER_PROXY") or None
    default("PLAYWRIGHT_LAUNCH_OPTIONS", launch_options(settings.get("GANSUNEWS_CHROMIUM") or None, proxy))
    default(
        "GANSUNEWS_PLAYWRIGHT_CONTEXT", {**context_options(proxy), **settings.getdict("GANSUNEWS_PLAYWRIGHT_CONTEXT")}
    )
    if settings.getbool("GANSUNEWS_DEBUG_CONSOLES"):  # both listen on a port; one runs Python sent to it
        default("TELNETCONSOLE_ENABLED", True)
        default("REMOTE_CONTROL_ENABLED", True)


class Configuration:
    """The add-on: environment, checks, derived settings (see the module's docstring). It acts before any crawler
    exists (`update_pre_crawler_settings`): Scrapy builds the spider, which reads its settings, before it runs
    add-ons' `update_settings`."""

    @classmethod
    def update_pre_crawler_settings(cls, settings: BaseSettings) -> None:
        redact.install()  # before Scrapy logs its overridden settings (MONGO_URI among them)
        apply_environment(settings)
        try:
            check(settings)
        except SettingsError:
            return  # Scrapy builds the crawler process before any command runs: `crawl` names the setting
        derive(settings)
