"""Politeness per origin: every host of the site (`www`, `gansu`, `finance` … `.gscn.com.cn`) is one server to be
polite to, so all share one download slot. Scrapy's slots are per host name by default: 4 requests in flight for
each of ~13 subdomains would be ~50 at one origin. With one slot, `CONCURRENT_REQUESTS_PER_DOMAIN`, the delay floor
(`DOWNLOAD_DELAY`, raised to `GANSUNEWS_MIN_DELAY`) and AutoThrottle apply to the site as a whole."""

from __future__ import annotations

from scrapy.http import Request

from gansunews.urls import SITE_DOMAIN, is_site_url

SLOT = "download_slot"


class OneSlotPerSite:
    """Downloader middleware: site requests go to the slot named after the site's domain."""

    def process_request(self, request: Request) -> None:
        if SLOT not in request.meta and is_site_url(request.url):
            request.meta[SLOT] = SITE_DOMAIN
