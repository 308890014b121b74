"""Fingerprints of article bodies, and the index that finds reposts among hundreds of thousands of them.

Every fingerprint starts from the body's character 4-grams (whitespace removed: Chinese has no spaces, and a small edit
changes only the few 4-grams that overlap it), each hashed to 64 bits with numpy, a whole body at once:
- `signature`: a MinHash of 64 values. The share of equal values estimates the Jaccard similarity of two bodies'
  4-gram sets; it separates a lightly edited repost (≈ 0.99) from unrelated articles on the same topics (≤ 0.3).
- `simhash`: the 64-bit SimHash users can compare by Hamming distance (not used for decisions: on short bodies a
  repost and an unrelated article are a few bits apart).

`RepostIndex` is locality-sensitive hashing over the signatures (8 bands of 8 values) plus the exact body hash,
kept in numpy arrays rather than dicts of sets (datasketch's MinHashLSH took ≈ 280 MiB for 100k articles): ≈ 0.2 KB
per article (the id, 9 keys of 32 bits, the signature kept at 8 bits per value: `KEPT_SIGNATURE_DTYPE`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

SHINGLE = 4
PERMUTATIONS = 64
# LSH: a candidate shares all 8 values of one of 8 bands. Chance a pair is compared, by similarity: 0.9 → 99%,
# 0.8 → 77%, 0.7 → 38% (1 - (1 - s⁸)⁸): near-verbatim reposts are found, heavily rewritten ones may not be.
BANDS, ROWS = 8, 8
KEYS_PER_ROW = 1 + BANDS  # a body's exact-content key and one key per band
SIMILAR = 0.7  # estimated Jaccard similarity that makes a repost
# Copies count as reposts only when published within this many days of each other: news is reposted within days,
# and the window is what lets a crawl load just the stored articles near its own days (DedupePipeline), not all.
WINDOW_DAYS = 90
BLOCK = 4096  # signatures are stored in blocks of this many rows (256 KiB each)
# The index keeps the low 8 bits of each signature value: two different values then agree by chance with a
# probability of 2⁻⁸, which raises a similarity estimate s by (1 - s) / 256, at most 0.004 (a pair would have to
# be within 0.0012 under `SIMILAR` to cross it), for 64 instead of 256 bytes per article, the index's largest
# part. Band keys are computed from the full values, and stored signatures keep all 32 bits.
KEPT_SIGNATURE_DTYPE = np.uint8
SIGNATURE_FORMAT = "m1:"  # prefix of the stored signature: this hashing scheme, 64 little-endian uint32

_rng = np.random.default_rng(20240101)  # fixed: stored signatures must stay comparable across runs
_MULTIPLIERS = _rng.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_OFFSETS = _rng.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)
_ROW_WEIGHTS = _rng.integers(1, 2**63, ROWS, dtype=np.uint64) | np.uint64(1)
_BAND_NUMBERS = np.arange(BANDS, dtype=np.uint64) << np.uint64(56)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole 64-bit word (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the text's character 4-grams (one for a shorter text), whitespace ignored."""
    codes = np.frombuffer("".join(text.split()).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(codes) < SHINGLE:
        codes = np.concatenate([codes, np.zeros(SHINGLE - len(codes), dtype=np.uint64)])
    grams = len(codes) - SHINGLE + 1
    hashes = np.zeros(grams, dtype=np.uint64)
    for offset in range(SHINGLE):  # fold in one code point at a time, mixing after each: order matters
        hashes = _mix(hashes ^ codes[offset : offset + grams])
    return hashes


def signature(text: str) -> np.ndarray:
    """MinHash: for each of 64 hash functions (a·h + b, top 32 bits), the minimum over the body's 4-grams."""
    return _minhash(shingle_hashes(text))


def simhash(text: str) -> str:
    """64-bit SimHash over the 4-gram hashes, as 16 hex digits."""
    return _simhash(shingle_hashes(text))


def signature_and_simhash(text: str) -> tuple[np.ndarray, str]:
    """Both, from one pass over the body."""
    hashes = shingle_hashes(text)
    return _minhash(hashes), _simhash(hashes)


def _minhash(hashes: np.ndarray) -> np.ndarray:
    permuted = hashes[:, None] * _MULTIPLIERS  # one row per 4-gram, one column per function
    permuted += _OFFSETS
    permuted >>= np.uint64(32)
    return permuted.min(axis=0).astype(np.uint32)


def _simhash(hashes: np.ndarray) -> str:
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    majority = bits.sum(axis=0, dtype=np.int64) * 2 > len(hashes)
    return f"{int.from_bytes(np.packbits(majority, bitorder='little').tobytes(), 'little'):016x}"


def encode_signature(values: np.ndarray) -> str:
    return SIGNATURE_FORMAT + base64.b64encode(values.astype("<u4").tobytes()).decode("ascii")


def decode_signature(text: str | None) -> np.ndarray | None:
    """A stored signature, or None when absent, damaged or made by another scheme (not comparable)."""
    if not text or not text.startswith(SIGNATURE_FORMAT):
        return None
    try:
        raw = base64.b64decode(text[len(SIGNATURE_FORMAT) :], validate=True)
    except binascii.Error:
        return None
    return np.frombuffer(raw, dtype="<u4") if len(raw) == 4 * PERMUTATIONS else None


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


def _band_keys(values: np.ndarray) -> np.ndarray:
    """One 64-bit key per band: its values weighted by random odd numbers and summed (wrapping), the band
    number added so that equal values in different bands do not meet, then mixed."""
    bands = values.astype(np.uint64).reshape(BANDS, ROWS) * _ROW_WEIGHTS
    return _mix(bands.sum(axis=1, dtype=np.uint64) + _BAND_NUMBERS)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the index knows of a body: its exact-content key, its signature (None for short bodies, which
    match only when identical) and the keys it is filed under."""

    content_key: int
    values: np.ndarray | None
    keys: np.ndarray

    @classmethod
    def of(cls, content_hash: str, values: np.ndarray | None) -> Fingerprint:
        digest = hashlib.blake2b(content_hash.encode("utf-8"), digest_size=8).digest() if content_hash else None
        exact = np.frombuffer(digest, dtype=np.uint64) if digest else np.empty(0, dtype=np.uint64)
        keys = np.concatenate([exact, _band_keys(values)]) if values is not None else exact
        return cls(int(exact[0]) if digest else 0, values, keys)


def timestamp(published_at: str) -> float:
    try:
        return datetime.fromisoformat(published_at).timestamp()
    except (TypeError, ValueError):
        return float("-inf")  # undated stored articles count as earlier than anything


class _Keys:
    """A multimap key → row: sorted arrays searched by bisection (8 bytes a key), and a small dict of recent keys,
    merged into the arrays in one O(n) insertion every `TAIL` keys. It keeps the low 32 bits of each 64-bit key:
    keys only pick candidates, each then checked by its content key or signature, so a chance match (about
    n / 2³² per key looked up: 0.2% of lookups at 100k articles) costs one comparison, not a wrong answer."""

    TAIL = 4096

    def __init__(self) -> None:
        self.sorted_keys = np.empty(0, dtype=np.uint32)
        self.sorted_rows = np.empty(0, dtype=np.int32)
        self.tail: dict[int, list[int]] = {}
        self.tail_size = 0

    def add(self, keys: np.ndarray, row: int) -> None:
        for key in keys.astype(np.uint32).tolist():
            self.tail.setdefault(key, []).append(row)
        self.tail_size += len(keys)
        if self.tail_size >= self.TAIL:
            self.merge()

    def rows(self, keys: np.ndarray) -> set[int]:
        keys = keys.astype(np.uint32)
        starts = np.searchsorted(self.sorted_keys, keys, side="left").tolist()
        ends = np.searchsorted(self.sorted_keys, keys, side="right").tolist()
        found = set()
        for key, start, end in zip(keys.tolist(), starts, ends, strict=True):
            if end > start:
                found.update(self.sorted_rows[start:end].tolist())
            found.update(self.tail.get(key, ()))
        return found

    def keep_only(self, keep: np.ndarray, new_rows: np.ndarray) -> None:
        """Forget the rows not in `keep` (a bool per row); the others are renumbered by `new_rows`."""
        self.merge()
        kept = keep[self.sorted_rows]
        self.sorted_keys = self.sorted_keys[kept]
        self.sorted_rows = new_rows[self.sorted_rows[kept]].astype(np.int32, copy=False)

    def merge(self) -> None:
        """The recent keys into the sorted arrays."""
        pairs = sorted((key, row) for key, rows in self.tail.items() for row in rows)
        keys = np.array([key for key, _ in pairs], dtype=np.uint32)
        at = np.searchsorted(self.sorted_keys, keys, side="right")
        self.sorted_keys = np.insert(self.sorted_keys, at, keys)
        self.sorted_rows = np.insert(self.sorted_rows, at, np.array([row for _, row in pairs], dtype=np.int32))
        self.tail, self.tail_size = {}, 0


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """`array` with room for at least `size` rows (doubling, so appends are amortised O(1))."""
    bigger = np.zeros(max(1024, size, 2 * len(array)), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


class RepostIndex:
    """Articles by id with their publish time, body hash and signature; finds the earliest earlier copy of a body.

    A copy is an article with the same `content_hash`, or (both bodies long enough to have a signature) an
    estimated Jaccard similarity ≥ `SIMILAR`. Copies point at the root of their chain, never at another copy.
    Ids are the CMS's 9-digit numbers (`urls.ARTICLE_RE`), kept as 32-bit integers and found through a `_Keys`
    map: a dict of id strings took ≈ 140 bytes an article, half the index.
    """

    def __init__(self, similar: float = SIMILAR, window_days: float = WINDOW_DAYS) -> None:
        self.similar = similar  # LSH's bands find candidates reliably from ≈ 0.6; each is then checked in full
        self.window = window_days * 86400.0
        self.size = 0
        self.rows = _Keys()  # id → row
        self.ids = np.empty(0, dtype=np.uint32)  # row → id
        self.times = np.empty(0, dtype=np.float64)
        self.content_keys = np.empty(0, dtype=np.uint64)
        self.signature_blocks: list[np.ndarray] = []  # fixed blocks: growing never copies or over-allocates
        self.has_signature = np.empty(0, dtype=bool)
        self.stored = np.empty(0, dtype=bool)  # the row was stored by an earlier run, not read by this one
        self.duplicate_of: dict[int, str] = {}  # sparse: only rows that are copies
        self.keys = _Keys()

    def __len__(self) -> int:
        return self.size

    def __contains__(self, cms_id: str) -> bool:
        return self.row_of(cms_id) is not None

    def row_of(self, cms_id: str) -> int | None:
        found = self.rows.rows(np.array([int(cms_id)], dtype=np.uint32))
        return next(iter(found)) if found else None

    def id_at(self, row: int) -> str:
        return f"{int(self.ids[row]):09d}"

    def add(
        self, cms_id: str, published_at: str, body: Fingerprint, duplicate_of: str | None, stored: bool = False
    ) -> None:
        known = self.row_of(cms_id)
        if known is not None:
            if not stored:  # a stored article read again by this run: a second copy of it now is a duplicate id
                self.stored[known] = False
            return
        kept = body.values.astype(KEPT_SIGNATURE_DTYPE) if body.values is not None else None
        self._append(int(cms_id), timestamp(published_at), body.content_key, kept, stored, duplicate_of, body.keys)

    def _append(
        self,
        cms_id: int,
        time: float,
        content_key: int,
        kept: np.ndarray | None,
        stored: bool,
        duplicate_of: str | None,
        keys: np.ndarray,
    ) -> None:
        row = self.size
        self.size += 1
        self._grow(self.size)
        self.ids[row] = cms_id
        self.rows.add(self.ids[row : row + 1], row)
        self.times[row] = time
        self.content_keys[row] = content_key
        self.has_signature[row] = kept is not None
        self.stored[row] = stored
        if kept is not None:
            self._store_signature(row, kept)
        if duplicate_of:
            self.duplicate_of[row] = duplicate_of
        self.keys.add(keys, row)

    def take_rows(self, take: np.ndarray) -> dict[str, np.ndarray]:
        """The rows in `take` (a bool per row), gone from the index, as arrays of a row per row: any subset of them
        goes back by `put_rows` (the repost index lets idle weeks go to disk this way, DedupePipeline). `keys` holds
        up to KEYS_PER_ROW keys a row (`key_counts`), `roots` a copy's original (0 for an original)."""
        rows = np.flatnonzero(take)
        part = {name: getattr(self, name)[rows] for name in ("ids", "times", "content_keys", "has_signature", "stored")}
        part["signatures"] = np.zeros((len(rows), PERMUTATIONS), dtype=KEPT_SIGNATURE_DTYPE)
        for at in np.flatnonzero(part["has_signature"]).tolist():
            part["signatures"][at] = self._stored_signature(int(rows[at]))
        self.keys.merge()
        theirs = take[self.keys.sorted_rows]
        row_of_key = np.searchsorted(rows, self.keys.sorted_rows[theirs])  # its row's place in `rows`
        order = np.argsort(row_of_key, kind="stable")
        row_of_key = row_of_key[order]
        counts = np.bincount(row_of_key, minlength=len(rows))
        part["key_counts"] = counts.astype(np.uint8)
        part["keys"] = np.zeros((len(rows), KEYS_PER_ROW), dtype=np.uint32)
        part["keys"][row_of_key, np.arange(len(row_of_key)) - (np.cumsum(counts) - counts)[row_of_key]] = (
            self.keys.sorted_keys[theirs][order]
        )
        part["roots"] = np.array([int(self.duplicate_of.get(row, 0)) for row in rows.tolist()], dtype=np.uint32)
        self.keep_only(~take)
        return part

    def put_rows(self, part: dict[str, np.ndarray]) -> None:
        """Rows taken by `take_rows`, back as new rows (one whose id came into the index meanwhile stays out)."""
        for at, cms_id in enumerate(part["ids"].tolist()):
            if f"{cms_id:09d}" in self:
                continue
            root = int(part["roots"][at])
            self._append(
                cms_id,
                float(part["times"][at]),
                int(part["content_keys"][at]),
                part["signatures"][at] if part["has_signature"][at] else None,
                bool(part["stored"][at]),
                f"{root:09d}" if root else None,
                part["keys"][at, : part["key_counts"][at]],
            )

    def original_of(self, cms_id: str, published_at: str, body: Fingerprint) -> tuple[str | None, list[str]]:
        """(the root id of the earliest-published earlier copy or None, the roots of the copies when all of them
        are later: this article is their original, and they must now point at it — `repoint`)."""
        roots = set()
        kept = body.values.astype(KEPT_SIGNATURE_DTYPE) if body.values is not None else None
        when = timestamp(published_at)
        for row in self.keys.rows(body.keys):
            if self._apart(self.times[row], when):
                continue
            same = body.content_key != 0 and self.content_keys[row] == body.content_key
            near = (
                kept is not None
                and self.has_signature[row]
                and similarity(self._stored_signature(row), kept) >= self.similar
            )
            if same or near:
                roots.add(self.duplicate_of.get(row, self.id_at(row)))
        roots.discard(cms_id)
        earlier = []
        for root in roots:
            row = self.row_of(root)
            if row is not None and self.times[row] <= when:
                earlier.append((self.times[row], root))
        return (min(earlier)[1], []) if earlier else (None, sorted(roots))

    def repoint(self, roots: list[str], original: str) -> list[str]:
        """The copies rooted at `roots` (the roots too) now point at `original`; returns their ids."""
        rows = {row for row in map(self.row_of, roots) if row is not None}
        rows |= {row for row, root in self.duplicate_of.items() if root in roots}
        for row in rows:
            self.duplicate_of[row] = original
        return sorted(self.id_at(row) for row in rows)

    def keep_only(self, keep: np.ndarray) -> None:
        """Forget the rows not in `keep` (a bool per row, `len(self)` of them), renumbering the others."""
        new_rows = np.cumsum(keep, dtype=np.int32) - 1
        size = self.size
        self.ids, self.times, self.content_keys, self.has_signature, self.stored = (
            column[:size][keep] for column in (self.ids, self.times, self.content_keys, self.has_signature, self.stored)
        )
        self.size = len(self.ids)
        self._keep_signatures(keep)
        self.duplicate_of = {int(new_rows[row]): root for row, root in self.duplicate_of.items() if keep[row]}
        self.rows.keep_only(keep, new_rows)
        self.keys.keep_only(keep, new_rows)

    def _keep_signatures(self, keep: np.ndarray) -> None:
        """The kept rows' signatures moved up in place, a block at a time: a row's new number is never above its
        old one, so each block is copied out before anything is written over it. Copying them all out first held them
        twice, and more: 4 MiB of transient memory at 50k rows, measured."""
        written = 0  # rows moved so far: the next one's new number
        for number, block in enumerate(self.signature_blocks):  # blocks reach the last row with a signature
            kept = block[: len(keep) - number * BLOCK][keep[number * BLOCK : (number + 1) * BLOCK]]  # a copy
            while len(kept):
                target, offset = divmod(written, BLOCK)
                count = min(len(kept), BLOCK - offset)
                self.signature_blocks[target][offset : offset + count] = kept[:count]
                kept, written = kept[count:], written + count
        del self.signature_blocks[math.ceil(written / BLOCK) :]

    def _apart(self, one: float, other: float) -> bool:
        """Published further apart than the window (an undated article is near any)."""
        return bool(np.isfinite(one) and np.isfinite(other) and abs(one - other) > self.window)

    def read_by_this_run(self, cms_id: str) -> bool:
        row = self.row_of(cms_id)
        return row is not None and not self.stored[row]

    def _stored_signature(self, row: int) -> np.ndarray:
        block, offset = divmod(row, BLOCK)
        return self.signature_blocks[block][offset]

    def _store_signature(self, row: int, values: np.ndarray) -> None:
        block, offset = divmod(row, BLOCK)
        while len(self.signature_blocks) <= block:
            self.signature_blocks.append(np.zeros((BLOCK, PERMUTATIONS), dtype=KEPT_SIGNATURE_DTYPE))
        self.signature_blocks[block][offset] = values.astype(KEPT_SIGNATURE_DTYPE)

    def _grow(self, size: int) -> None:
        if size > len(self.times):
            self.ids = _grown(self.ids, size)
            self.times = _grown(self.times, size)
            self.content_keys = _grown(self.content_keys, size)
            self.has_signature = _grown(self.has_signature, size)
            self.stored = _grown(self.stored, size)
