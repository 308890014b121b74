"""RepostIndex: finds the earliest earlier copy of an article's body among hundreds of thousands, in flat memory.

A copy is an article with the same `content_hash`, or (both bodies long enough to have a signature) an estimated
Jaccard similarity ≥ `SIMILAR`, published within the window of each other. Candidates are found by
locality-sensitive hashing (`Fingerprint.keys`: the exact body key and one key per band of the signature), then
checked in full. Copies point at the root of their chain, never at another copy.

The index is an SQLite database in a private temporary file (Python's own `sqlite3`): its memory is SQLite's page
cache, `CACHE_KIB`, however many articles it holds; the rest is on disk. The file is SQLite's anonymous temporary
database (unlinked as soon as it is opened, so nothing is left behind however the crawl ends), in `SQLITE_TMPDIR`,
else `TMPDIR`, else /var/tmp. The numpy arrays it replaced held every row in memory (≈ 0.2 KB an article) and could
let go only of weeks no article needed lately: with 25 channels walked at once, each at its own depth in time, nearly
every week was always in use, and memory grew with the archive (README, "Memory since streaming").
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from gansunews.fingerprints import SIMILAR, WINDOW_DAYS, Fingerprint, similarity, timestamp

CACHE_KIB = 8192  # SQLite's page cache: the index's memory
# The index keeps the low 8 bits of each signature value: two different values then agree by chance with a
# probability of 2⁻⁸, which raises a similarity estimate s by (1 - s) / 256, at most 0.004 (a pair would have to
# be within 0.0012 under `SIMILAR` to cross it), for 64 instead of 256 bytes per article. Band keys are computed
# from the full values, and stored signatures (MongoDB) keep all 32 bits.
KEPT_SIGNATURE_DTYPE = np.uint8

_SCHEMA = f"""
PRAGMA cache_size = -{CACHE_KIB};
PRAGMA journal_mode = MEMORY;  -- one article's pages; without a journal a full disk left the file malformed
PRAGMA synchronous = OFF;
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,  -- the CMS's article number
    time REAL,               -- publish time (seconds), NULL when undated
    content_key INTEGER,     -- the exact body's key, 0 when the body has no hash
    signature BLOB,          -- KEPT_SIGNATURE_DTYPE values, NULL for a body too short to compare but exactly
    root INTEGER,            -- the original a copy points at, NULL for an original
    stored INTEGER           -- 1: stored by an earlier run, not (yet) read by this one
);
CREATE INDEX copies ON articles (root) WHERE root IS NOT NULL;
CREATE TABLE keys (key INTEGER, id INTEGER, PRIMARY KEY (key, id)) WITHOUT ROWID;
"""


def _signed(key: int) -> int:
    """A 64-bit key as SQLite's signed integer."""
    return key - (1 << 64) if key >= 1 << 63 else key


class RepostIndex:
    def __init__(self, similar: float = SIMILAR, window_days: float = WINDOW_DAYS, path: str = "") -> None:
        self.similar = similar  # LSH's bands find candidates reliably from ≈ 0.6; each is then checked in full
        self.window = window_days * 86400.0
        self.size = 0
        # "": SQLite's private temporary database, on disk once its cache is full (":memory:" keeps it all in
        # memory: bench/reposts.py). Transactions are ours (`_transaction`), not the module's implicit ones.
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(_SCHEMA)

    def __len__(self) -> int:
        return self.size

    def __contains__(self, cms_id: str) -> bool:
        return self._stored_flag(cms_id) is not None

    def close(self) -> None:
        self.db.close()

    def _stored_flag(self, cms_id: str) -> int | None:
        row = self.db.execute("SELECT stored FROM articles WHERE id = ?", (int(cms_id),)).fetchone()
        return row[0] if row else None

    def root_of(self, cms_id: str) -> str | None:
        """The original a copy points at; None for an original, or an id not in the index."""
        row = self.db.execute("SELECT root FROM articles WHERE id = ?", (int(cms_id),)).fetchone()
        return f"{row[0]:09d}" if row and row[0] else None

    def read_by_this_run(self, cms_id: str) -> bool:
        return self._stored_flag(cms_id) == 0

    def add(
        self, cms_id: str, published_at: str, body: Fingerprint, duplicate_of: str | None, stored: bool = False
    ) -> None:
        known = self._stored_flag(cms_id)
        if known is not None:
            if not stored and known:  # a stored article read again by this run: a second copy now is a duplicate id
                self.db.execute("UPDATE articles SET stored = 0 WHERE id = ?", (int(cms_id),))
            return
        when = timestamp(published_at)
        signature = body.values.astype(KEPT_SIGNATURE_DTYPE).tobytes() if body.values is not None else None
        row = (
            int(cms_id),
            when if math.isfinite(when) else None,
            _signed(body.content_key),
            signature,
            int(duplicate_of) if duplicate_of else None,
            int(stored),
        )
        with self._transaction():
            self.db.execute("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?)", row)
            keys = body.keys.view(np.int64).tolist()
            self.db.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", [(key, int(cms_id)) for key in keys])
        self.size += 1

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One article's rows at a time, all or none: an error (a full disk) rolls back only them, where SQLite
        would roll back a whole open transaction. One commit per article costs ≈ 17 µs (statements committing one
        by one: ≈ 120 µs an article)."""
        self.db.execute("BEGIN")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def original_of(self, cms_id: str, published_at: str, body: Fingerprint) -> tuple[str | None, list[str]]:
        """(the root id of the earliest-published earlier copy or None, the roots of the copies when all of them
        are later: this article is their original, and they must now point at it — `repoint`). An undated
        article is near any, and counts as the earliest."""
        when = timestamp(published_at)
        keys = body.keys.view(np.int64).tolist()
        query = (
            "SELECT DISTINCT a.id, a.content_key, a.signature, a.root FROM keys JOIN articles a USING (id)"
            f" WHERE keys.key IN ({', '.join('?' * len(keys))})"
        )
        if math.isfinite(when):
            query += " AND (a.time IS NULL OR a.time BETWEEN ? AND ?)"
            keys += [when - self.window, when + self.window]
        kept = body.values.astype(KEPT_SIGNATURE_DTYPE) if body.values is not None else None
        content_key = _signed(body.content_key)
        roots = set()
        for row_id, row_content_key, row_signature, root in self.db.execute(query, keys):
            same = content_key != 0 and row_content_key == content_key
            near = (
                kept is not None
                and row_signature is not None
                and similarity(np.frombuffer(row_signature, dtype=KEPT_SIGNATURE_DTYPE), kept) >= self.similar
            )
            if same or near:
                roots.add(root or row_id)
        roots.discard(int(cms_id))
        if not roots:
            return None, []
        times = self.db.execute(
            f"SELECT id, coalesce(time, -9e999) FROM articles WHERE id IN ({', '.join('?' * len(roots))})",
            list(roots),
        ).fetchall()
        earlier = [(time, root) for root, time in times if time <= when]
        return (f"{min(earlier)[1]:09d}", []) if earlier else (None, sorted(f"{root:09d}" for root in roots))

    def repoint(self, roots: list[str], original: str) -> list[str]:
        """The copies rooted at `roots` (the roots too) now point at `original`; returns their ids."""
        numbers = [int(root) for root in roots]
        marks = ", ".join("?" * len(numbers))
        copies = self.db.execute(
            f"SELECT id FROM articles WHERE id IN ({marks}) OR root IN ({marks}) ORDER BY id", numbers + numbers
        ).fetchall()
        with self._transaction():
            self.db.executemany("UPDATE articles SET root = ? WHERE id = ?", [(int(original), n) for (n,) in copies])
        return [f"{row:09d}" for (row,) in copies]
