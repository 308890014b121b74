"""Scrapy settings for gansunews: polite defaults for one provincial portal. URIs and secrets come from the
environment; every project setting is prefixed `GANSUNEWS_` and documented in the README."""

import os

from gansunews.browser import abort_request, context_options, launch_options

BOT_NAME = "gansunews"
SPIDER_MODULES = ["gansunews.spiders"]
NEWSPIDER_MODULE = "gansunews.spiders"

# --- the portal -------------------------------------------------------------------------------------------
GANSUNEWS_SEEDS = os.environ.get("GANSUNEWS_SEEDS", "https://www.gscn.com.cn/,https://gansu.gscn.com.cn/").split(",")
GANSUNEWS_SCOPE = ["甘肃新闻"]  # breadcrumb names whose channels are crawled
GANSUNEWS_DISCOVERY_DEPTH = 4  # home → 甘肃新闻 → 市州播报 → 市州 → 县区
GANSUNEWS_PAGE_LOOKAHEAD = 16  # archive pages of one channel in flight at most (the window opens 1, 2, 4 …)
GANSUNEWS_QUEUED_ARTICLES = 500  # article requests waiting in the scheduler at most (≈ 2.5 KB each)
GANSUNEWS_READ_WORKERS = 1  # processes reading article pages beside the crawl (0: read in the crawl process)

# --- politeness ------------------------------------------------------------------------------------------
USER_AGENT = "gansunews/0.1 (regional news archive; Scrapy)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

# Scrapy would parse each callback's source on every response to warn about `return value` in generators: our
# callbacks never return values (ruff checks), and that check cost ≈ 4% of the crawl's CPU.
WARN_ON_GENERATOR_RETURN_VALUE = False

# A response yields at most a few items; Scrapy starts this many asyncio workers per response (default 100).
CONCURRENT_ITEMS = 4

# First in, first out within a priority: articles are requested oldest first and emitted in that order.
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"

# The spider classifies meta refreshes itself (live-stream redirects are non-articles, never followed).
METAREFRESH_ENABLED = False

# One job each; MongoPipeline and CrawlRecord are NotConfigured without MONGO_URI.
ITEM_PIPELINES = {
    "gansunews.pipelines.clean.CleanPipeline": 100,
    "gansunews.pipelines.regions.RegionsPipeline": 200,
    "gansunews.pipelines.validate.ValidatePipeline": 300,
    "gansunews.pipelines.dedupe.DedupePipeline": 400,
    "gansunews.pipelines.mongo.MongoPipeline": 500,
}
EXTENSIONS = {
    "gansunews.extensions.PeakMemory": 700,  # before the two that record the stats
    "gansunews.extensions.QualityLog": 800,  # without MongoDB; with it, CrawlRecord judges
    "gansunews.extensions.CrawlRecord": 800,
    "gansunews.extensions.StatsFile": 900,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("GANSUNEWS_LOG_LEVEL", "INFO")
LOG_FORMATTER = "gansunews.extensions.LogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

GANSUNEWS_STATS_FILE = os.environ.get("GANSUNEWS_STATS_FILE", "")

# --- MongoDB (off without MONGO_URI: -O articles.jsonl works alone) ---------------------------------------
MONGO_URI = os.environ.get("MONGO_URI", "")
MONGO_DATABASE = os.environ.get("MONGO_DATABASE", "gansunews")
GANSUNEWS_MONGO_ENABLED = True
GANSUNEWS_MONGO_BATCH_SIZE = 200
GANSUNEWS_MONGO_FLUSH_SECONDS = 2.0
GANSUNEWS_MONGO_TIMEOUT_MS = 5000
GANSUNEWS_SPOOL_DIR = os.environ.get("GANSUNEWS_SPOOL_DIR", ".gansunews/spool")

# --- JavaScript-drawn listings: rendered in headless Chromium only when a list container has no items --------
GANSUNEWS_PLAYWRIGHT_ENABLED = os.environ.get("GANSUNEWS_PLAYWRIGHT_ENABLED", "1") == "1"
DOWNLOAD_HANDLERS = {"http": "gansunews.browser.BrowserWhenNeeded", "https": "gansunews.browser.BrowserWhenNeeded"}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = launch_options(os.environ.get("GANSUNEWS_CHROMIUM"))
GANSUNEWS_PLAYWRIGHT_CONTEXT = context_options()
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_ABORT_REQUEST = abort_request

# --- Distributed crawling: REDIS_URL switches the scheduler and dupefilter to scrapy-redis (gansunews/distributed.py)
REDIS_URL = os.environ.get("REDIS_URL", "")
GANSUNEWS_REDIS_RUN = os.environ.get("GANSUNEWS_REDIS_RUN", "gscn")
GANSUNEWS_REDIS_IDLE_SECONDS = 15.0  # an idle process waits this long for its peers' requests before closing
ADDONS = {"gansunews.distributed.Distributed": 0}
