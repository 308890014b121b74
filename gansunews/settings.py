"""Scrapy settings for gansunews: polite defaults for one provincial portal. Every project setting is prefixed
`GANSUNEWS_` (plus MONGO_URI, MONGO_DATABASE, REDIS_URL) and documented in the README; `-s`, scrapyd's job
settings and environment variables of the same name override these defaults, in that order (gansunews/config.py).
URIs and secrets belong in the environment, never here."""

import os

from gansunews.browser import abort_request

BOT_NAME = "gansunews"
SPIDER_MODULES = ["gansunews.spiders"]
NEWSPIDER_MODULE = "gansunews.spiders"

# --- the portal -------------------------------------------------------------------------------------------
GANSUNEWS_SEEDS = ["https://www.gscn.com.cn/", "https://gansu.gscn.com.cn/"]
GANSUNEWS_SCOPE = ["甘肃新闻"]  # breadcrumb names whose channels are crawled
GANSUNEWS_DISCOVERY_DEPTH = 4  # home → 甘肃新闻 → 市州播报 → 市州 → 县区
GANSUNEWS_PAGE_LOOKAHEAD = 16  # archive pages of one channel in flight at most (the window opens 1, 2, 4 …)
GANSUNEWS_WATERMARK_GRACE_DAYS = 7  # an incremental crawl reads listings this many days behind each watermark
GANSUNEWS_RETRY_FAILED_CRAWLS = 3  # crawls in which a page may fail for good before none requests it again
GANSUNEWS_QUEUED_ARTICLES = 500  # article requests waiting in the scheduler at most (≈ 2.5 KB each)
GANSUNEWS_MAX_EMPTY_PAGES = 3  # archive pages without entries (or lost) a walk goes past before it stops
GANSUNEWS_NEAR_DUPLICATE_SIMILARITY = 0.7  # estimated Jaccard similarity of bodies that makes a repost
GANSUNEWS_REPOST_WINDOW_DAYS = 90  # copies published further apart are not reposts (fingerprints.WINDOW_DAYS)
# Freed blocks this large or larger go back to the system (0: glibc's own policy, which lets RSS creep; allocator.py)
GANSUNEWS_MALLOC_MMAP_THRESHOLD = 1 << 20
GANSUNEWS_QUALITY_THRESHOLDS: dict = {}  # overrides of the verdict's thresholds (gansunews/quality.py, README)
GANSUNEWS_READ_WORKERS = 1  # processes reading article pages beside the crawl (0: read in the crawl process)

# --- politeness ------------------------------------------------------------------------------------------
GANSUNEWS_CONTACT = ""  # a URL or e-mail for the site's operators, added to the User-Agent (config.user_agent)
GANSUNEWS_MIN_DELAY = 0.25  # seconds between requests to the site at least, whatever AutoThrottle computes
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4  # per download slot: the whole site is one (gansunews.politeness)
# The spider asks again for answers that are not the page asked for (PortalSpider.asked_again), carrying the
# retry count on purpose
META_COPY_WARN_SKIP_KEYS = ["retry_times"]
# An empty 200 response or a page cut short is retried (560: RetryMiddleware is 550, HttpCompressionMiddleware 590)
DOWNLOADER_MIDDLEWARES = {
    "gansunews.politeness.OneSlotPerSite": 50,
    "gansunews.incomplete_responses.RetryIncompleteResponses": 560,
}

# No open doors: Scrapy's telnet console and remote-control HTTP server (which runs Python sent to it) are off;
# GANSUNEWS_DEBUG_CONSOLES=true turns both on for debugging on a trusted machine.
GANSUNEWS_DEBUG_CONSOLES = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
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

# Scrapy starts this many asyncio tasks per response (default 100) to take what its callback yields through the
# pipelines: most responses yield one article or a listing's requests, and the pipelines' awaits are short (a
# batch being written), so responses run side by side, not their items. One task instead of four: the crawl
# was faster in three alternating pairs of full crawls (+5%, +2%, +9%).
CONCURRENT_ITEMS = 1
# Responses whose items are still in the pipelines, in bytes, before the engine stops taking requests (default
# 5 MB). When MongoDB stalls, each waiting response holds its items and coroutines (≈ 45 KB on the replica's
# 3 KB pages): at 5 MB that was 1,800 responses and +77 MiB of peak RSS at 53k articles; at 1 MB, +12 MiB, at the
# same speed (bench/memory.py).
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000

# First in, first out within a priority: articles are requested oldest first and emitted in that order.
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"

# The spider classifies meta refreshes itself (live-stream redirects are non-articles, never followed).
METAREFRESH_ENABLED = False

# One job each; MongoPipeline and CrawlRecord are NotConfigured without MONGO_URI.
ITEM_PIPELINES = {
    "gansunews.pipelines.pages.PagesPipeline": 50,  # takes the raw pages off the item first
    "gansunews.pipelines.clean.CleanPipeline": 100,
    "gansunews.pipelines.regions.RegionsPipeline": 200,
    "gansunews.pipelines.validate.ValidatePipeline": 300,
    "gansunews.pipelines.dedupe.DedupePipeline": 400,
    "gansunews.pipelines.mongo.MongoPipeline": 500,
}
EXTENSIONS = {
    "gansunews.extensions.MmapThreshold": 0,  # first: before the crawl allocates
    "gansunews.extensions.PeakMemory": 700,  # before the two that record the stats
    "gansunews.extensions.Progress": 750,
    "gansunews.extensions.QualityLog": 800,  # without MongoDB; with it, CrawlRecord judges
    "gansunews.extensions.CrawlRecord": 800,
    "gansunews.extensions.StatsFile": 900,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("GANSUNEWS_LOG_LEVEL", "INFO")  # environment only: logging starts before settings are read
LOG_FORMATTER = "gansunews.extensions.LogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

GANSUNEWS_PROGRESS_SECONDS = 60.0  # a progress line (and the crawl record's `progress`) this often; 0: never
GANSUNEWS_STATS_FILE = ""  # write the final stats and finish reason here as JSON (tests, benchmarks)
GANSUNEWS_CRAWL_ID = ""  # the run's id; empty: a UTC timestamp and a random suffix

# --- MongoDB (off without MONGO_URI: -O articles.jsonl works alone) ---------------------------------------
MONGO_URI = ""
MONGO_DATABASE = "gansunews"
GANSUNEWS_MONGO_ENABLED = True
GANSUNEWS_MONGO_BATCH_SIZE = 200
GANSUNEWS_MONGO_FLUSH_SECONDS = 2.0
GANSUNEWS_MONGO_TIMEOUT_MS = 5000
GANSUNEWS_SPOOL_DIR = ".gansunews/spool"
GANSUNEWS_KEEP_PAGES = True  # keep every article page as fetched (compressed, `pages` collection) for `reparse`

# --- JavaScript-drawn listings: rendered in headless Chromium only when a list container has no items --------
GANSUNEWS_PLAYWRIGHT_ENABLED = True
DOWNLOAD_HANDLERS = {"http": "gansunews.browser.BrowserWhenNeeded", "https": "gansunews.browser.BrowserWhenNeeded"}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
GANSUNEWS_CHROMIUM = ""  # the browser executable; empty: Debian's headless shell, else chromium
GANSUNEWS_BROWSER_PROXY = ""  # the rendered pages' proxy; empty: the environment's http(s)_proxy
GANSUNEWS_PLAYWRIGHT_CONTEXT: dict = {}  # extra browser-context options (ignore_https_errors and the proxy are added)
# PLAYWRIGHT_LAUNCH_OPTIONS is derived from the two above (gansunews/config.py)
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_ABORT_REQUEST = abort_request

# --- Distributed crawling: REDIS_URL switches the scheduler and dupefilter to scrapy-redis (gansunews/distributed.py)
REDIS_URL = ""
GANSUNEWS_REDIS_RUN = "gscn"
# A process silent this long (no heartbeat) is taken for dead: its leased requests go back to the shared queue
GANSUNEWS_REDIS_LEASE_SECONDS = 30.0
ADDONS = {"gansunews.config.Configuration": 0, "gansunews.distributed.Distributed": 10}

# `scrapy crawl` checks spider arguments and settings before any request (gansunews/commands/crawl.py)
COMMANDS_MODULE = "gansunews.commands"
