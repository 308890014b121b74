"""Raw pages kept by the crawl, and `python -m gansunews reparse`: a crawl into FerretDB, then the site gone and every
stored title and body spoilt; reparse restores them all from the kept pages, with no request to anyone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT
from tests.replica.server import ReplicaServer
from tests.replica.site import Site
from tests.test_mongo import crawl_into

CONTRACT = ("title", "content_text", "content_html", "content_hash", "regions", "duplicate_of", "authors", "source")


@pytest.fixture
def crawled(mongo_db, tmp_path):
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    try:
        result = crawl_into(mongo_db, server.proxy_url, tmp_path / "crawl", "since=2024-01-01")
    finally:
        server.stop()  # the site is gone from here on
    assert result.returncode == 0 and result.ids
    return site, result


def reparse(mongo_db, *arguments: str) -> tuple[subprocess.CompletedProcess, ReplicaServer]:
    """Runs reparse with every proxy variable pointing at a fresh replica that counts what reaches it."""
    witness = ReplicaServer(Site(seed=7)).start()
    host, port = mongo_db.client.address
    env = witness.crawl_environment(MONGO_URI=f"mongodb://{host}:{port}/", MONGO_DATABASE=mongo_db.name)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gansunews", "reparse", *arguments],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        witness.stop()
    assert done.stdout, done.stderr[-3000:]
    return done, witness


def test_pages_are_kept_compressed(crawled, mongo_db):
    site, result = crawled
    pages = list(mongo_db.pages.find({}, {"body": 0}))
    assert {page["article_id"] for page in pages} >= set(result.ids)
    multi = sorted(page["part"] for page in pages if page["article_id"] == site.multi_page.article_id)
    assert multi == [1, 2, 3]  # continuation pages too
    assert result.stat("pages/kept") == len(pages) and 0 < result.stat("pages/bytes") / len(result.ids) < 4000


def test_reparse_restores_a_spoilt_archive_without_a_request(crawled, mongo_db):
    before = {doc["_id"]: doc for doc in mongo_db.articles.find()}
    spoilt = {"title": "坏", "content_text": "坏", "content_html": "", "content_hash": "0", "regions": []}
    mongo_db.articles.update_many({}, {"$set": spoilt})
    done, witness = reparse(mongo_db)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["changed"], summary["failed"]) == (len(before), len(before), {})
    assert witness.requests == [] and witness.offsite == []
    for doc in mongo_db.articles.find():
        assert {key: doc.get(key) for key in CONTRACT} == {key: before[doc["_id"]].get(key) for key in CONTRACT}
        assert doc["channels"] == before[doc["_id"]]["channels"]
        assert doc["revisions"][-1]["title"] == "坏"  # the spoilt version is kept as a revision
        assert doc["crawl"]["first_seen"] == before[doc["_id"]]["crawl"]["first_seen"]
    record = mongo_db.crawls.find_one({"kind": "reparse"})
    assert record["summary"]["changed"] == len(before)


def test_an_article_without_pages_is_reported_and_left_as_it_is(crawled, mongo_db):
    _, result = crawled
    lost, kept = result.ids[0], result.ids[1]
    mongo_db.pages.delete_many({"article_id": lost})
    stored = mongo_db.articles.find_one({"_id": lost})
    done, _ = reparse(mongo_db, "--ids", f"{lost},{kept}")
    summary = json.loads(done.stdout)
    assert done.returncode == 1 and summary["failed_ids"] == {lost: "no_pages"} and summary["unchanged"] == 1
    assert mongo_db.articles.find_one({"_id": lost}) == stored


def test_an_article_dropped_for_its_reading_is_stored_once_it_reads(crawled, mongo_db):
    """A crawl drops an article it cannot read (no body, say) and keeps its page; once reading improves, reparse stores
    it, with the channels that listed it. Reading cannot improve inside a test, so a stored article is taken out and
    its failure record written as a crawl writes a drop. The replica's article that has no body, and its empty page,
    stay unread."""
    _, result = crawled
    nobody = mongo_db.failures.find_one({"reason": "drop/no_body"})
    assert nobody and nobody["channels"], "a drop keeps the channels that listed the article"
    victim = result.ids[5]
    before = mongo_db.articles.find_one({"_id": victim})
    mongo_db.articles.delete_one({"_id": victim})
    record = {"crawl_id": "then", "url": before["url"], "reason": "drop/no_body", "at": nobody["at"]}
    mongo_db.failures.insert_one({**record, "_id": f"then|{before['url']}", "channels": before["channels"]})
    done, witness = reparse(mongo_db)
    summary = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr[-2000:]
    assert summary["recovered"] == [victim] and summary["unread"] == 2 and summary["failed"] == {}
    restored = mongo_db.articles.find_one({"_id": victim})
    assert {key: restored.get(key) for key in CONTRACT} == {key: before.get(key) for key in CONTRACT}
    assert restored["channels"] == before["channels"] and restored["crawl"]["reparse_id"]
    assert witness.requests == []
    again, _ = reparse(mongo_db)
    assert json.loads(again.stdout)["recovered"] == [], "stored now: not recovered twice"


def test_an_article_page_no_reader_could_read_is_kept_and_stored_once_it_reads(crawled, mongo_db):
    """An article page no reader can read (here the replica's empty 200 response) is kept, and its drop record keeps
    the channels that listed it: once reading improves, reparse stores the article. Reading cannot improve inside a
    test, so the kept page is given a readable body (another article's page). Before, the page was not kept and
    reparse never looked at the article: it was out of reach once older than the walks' cutoff."""
    _, result = crawled
    record = mongo_db.failures.find_one({"reason": "drop/unparsable"})
    assert record and record["channels"], "the drop keeps the channels that listed the article"
    kept = mongo_db.pages.find_one({"_id": record["url"]})
    assert kept is not None and kept["article_id"] and kept["part"] == 1
    done, _ = reparse(mongo_db)
    assert json.loads(done.stdout)["recovered"] == [], "still unreadable"
    donor = mongo_db.pages.find_one({"article_id": result.ids[5], "part": 1})
    readable = {"body": donor["body"], "content_type": donor["content_type"]}
    mongo_db.pages.update_one({"_id": record["url"]}, {"$set": readable})
    done, _ = reparse(mongo_db)
    summary = json.loads(done.stdout)
    assert done.returncode == 0 and summary["recovered"] == [kept["article_id"]], done.stderr[-2000:]
    assert mongo_db.articles.find_one({"_id": kept["article_id"]})["channels"] == record["channels"]
