"""Fingerprints of article bodies, and the index that finds reposts among hundreds of thousands of them.

Every fingerprint starts from the body's character 4-grams (whitespace removed: Chinese has no spaces, and a small edit
changes only the few 4-grams that overlap it), each hashed to 64 bits with numpy, a whole body at once:
- `signature`: a MinHash of 64 values. The share of equal values estimates the Jaccard similarity of two bodies'
  4-gram sets; it separates a lightly edited repost (≈ 0.99) from unrelated articles on the same topics (≤ 0.3).
- `simhash`: the 64-bit SimHash users can compare by Hamming distance (not used for decisions: on short bodies a
  repost and an unrelated article are a few bits apart).

`RepostIndex` is locality-sensitive hashing over the signatures (8 bands of 8 values) plus the exact body hash,
kept in flat numpy arrays rather than dicts of sets: about 0.5 KB per article, so a 100k-article archive fits
in tens of megabytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime

import numpy as np

SHINGLE = 4
PERMUTATIONS = 64
BANDS, ROWS = 8, 8  # LSH: candidates share all 8 values of one band; ≈ 0.7 similarity is caught 99% of the time
SIMILAR = 0.7  # estimated Jaccard similarity that makes a repost
BLOCK = 4096  # signatures are stored in blocks of this many rows (1 MiB each)
SIGNATURE_FORMAT = "m1:"  # prefix of the stored signature: this hashing scheme, 64 little-endian uint32

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_rng = np.random.default_rng(20240101)  # fixed: stored signatures must stay comparable across runs
_MULTIPLIERS = _rng.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_OFFSETS = _rng.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)


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
    permuted = shingle_hashes(text)[:, None] * _MULTIPLIERS  # one row per 4-gram, one column per function
    permuted += _OFFSETS
    permuted >>= np.uint64(32)
    return permuted.min(axis=0).astype(np.uint32)


def simhash(text: str) -> str:
    """64-bit SimHash over the 4-gram hashes, as 16 hex digits."""
    hashes = shingle_hashes(text)
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
    """One 64-bit key per band (band number mixed in, so equal values in different bands do not meet)."""
    bands = values.astype(np.uint64).reshape(BANDS, ROWS)
    keys = np.arange(BANDS, dtype=np.uint64) << np.uint64(56)
    for column in range(ROWS):
        keys = _mix(keys ^ bands[:, column])
    return keys


def _exact_key(content_hash: str) -> np.ndarray:
    digest = hashlib.blake2b(content_hash.encode("ascii"), digest_size=8).digest()
    return np.frombuffer(digest, dtype=np.uint64)


def _timestamp(published_at: str) -> float:
    try:
        return datetime.fromisoformat(published_at).timestamp()
    except (TypeError, ValueError):
        return float("-inf")  # undated stored articles count as earlier than anything


class _Keys:
    """A multimap uint64 key → row in flat arrays: a sorted part searched by bisection, and an unsorted tail
    scanned in one vector operation, merged into the sorted part when it outgrows an eighth of it (12 bytes a key)."""

    def __init__(self) -> None:
        self.sorted_keys = np.empty(0, dtype=np.uint64)
        self.sorted_rows = np.empty(0, dtype=np.int32)
        self.tail_keys = np.empty(0, dtype=np.uint64)
        self.tail_rows = np.empty(0, dtype=np.int32)
        self.tail_size = 0

    def add(self, keys: np.ndarray, row: int) -> None:
        end = self.tail_size + len(keys)
        if end > len(self.tail_keys):
            self.tail_keys = _grown(self.tail_keys, end)
            self.tail_rows = _grown(self.tail_rows, end)
        self.tail_keys[self.tail_size : end] = keys
        self.tail_rows[self.tail_size : end] = row
        self.tail_size = end
        if self.tail_size > max(4096, len(self.sorted_keys) // 8):
            self._merge()

    def rows(self, keys: np.ndarray) -> set[int]:
        starts = np.searchsorted(self.sorted_keys, keys, side="left")
        ends = np.searchsorted(self.sorted_keys, keys, side="right")
        found = set()
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            found.update(self.sorted_rows[start:end].tolist())
        tail = np.isin(self.tail_keys[: self.tail_size], keys)
        found.update(self.tail_rows[: self.tail_size][tail].tolist())
        return found

    def _merge(self) -> None:
        keys = np.concatenate([self.sorted_keys, self.tail_keys[: self.tail_size]])
        rows = np.concatenate([self.sorted_rows, self.tail_rows[: self.tail_size]])
        order = np.argsort(keys, kind="stable")
        self.sorted_keys, self.sorted_rows = keys[order], rows[order]
        self.tail_size = 0


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """`array` with room for at least `size` rows (doubling, so appends are amortised O(1))."""
    bigger = np.zeros((max(1024, size, 2 * len(array)), *array.shape[1:]), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


class RepostIndex:
    """Articles by id with their publish time, body hash and signature; finds the earliest earlier copy of a body.

    A copy is an article with the same `content_hash`, or (both bodies long enough to have a signature) an
    estimated Jaccard similarity ≥ `SIMILAR`. Copies point at the root of their chain, never at another copy.
    """

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.ids: list[str] = []
        self.times = np.empty(0, dtype=np.float64)
        self.hashes = np.empty(0, dtype=np.uint64)
        self.signature_blocks: list[np.ndarray] = []  # fixed blocks: growing never copies or over-allocates
        self.has_signature = np.empty(0, dtype=bool)
        self.duplicate_of: dict[int, str] = {}  # sparse: only rows that are copies
        self.keys = _Keys()

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, cms_id: str) -> bool:
        return cms_id in self.rows

    def add(
        self, cms_id: str, published_at: str, content_hash: str, values: np.ndarray | None, duplicate_of: str | None
    ) -> None:
        if cms_id in self.rows:
            return
        row = len(self.ids)
        self._grow(row + 1)
        self.rows[cms_id] = row
        self.ids.append(cms_id)
        self.times[row] = _timestamp(published_at)
        keys = [_exact_key(content_hash)] if content_hash else []
        self.hashes[row] = keys[0][0] if keys else 0
        self.has_signature[row] = values is not None
        if values is not None:
            self._store_signature(row, values)
            keys.append(_band_keys(values))
        if duplicate_of:
            self.duplicate_of[row] = duplicate_of
        if keys:
            self.keys.add(np.concatenate(keys), row)

    def original_of(
        self, cms_id: str, published_at: str, content_hash: str, values: np.ndarray | None
    ) -> tuple[str | None, bool]:
        """(the root id of the earliest-published earlier copy or None, whether only later copies exist)."""
        exact = _exact_key(content_hash)[0] if content_hash else None
        keys = [np.array([exact], dtype=np.uint64)] if exact is not None else []
        if values is not None:
            keys.append(_band_keys(values))
        if not keys:
            return None, False
        roots = set()
        for row in self.keys.rows(np.concatenate(keys)):
            same = exact is not None and self.hashes[row] == exact
            near = (
                values is not None
                and self.has_signature[row]
                and similarity(self._stored_signature(row), values) >= SIMILAR
            )
            if same or near:
                roots.add(self.duplicate_of.get(row, self.ids[row]))
        roots.discard(cms_id)
        when = _timestamp(published_at)
        earlier = [(self.times[self.rows[r]], r) for r in roots if r in self.rows and self.times[self.rows[r]] <= when]
        return (min(earlier)[1] if earlier else None), bool(roots) and not earlier

    def _stored_signature(self, row: int) -> np.ndarray:
        block, offset = divmod(row, BLOCK)
        return self.signature_blocks[block][offset]

    def _store_signature(self, row: int, values: np.ndarray) -> None:
        block, offset = divmod(row, BLOCK)
        while len(self.signature_blocks) <= block:
            self.signature_blocks.append(np.zeros((BLOCK, PERMUTATIONS), dtype=np.uint32))
        self.signature_blocks[block][offset] = values

    def _grow(self, size: int) -> None:
        if size > len(self.times):
            self.times = _grown(self.times, size)
            self.hashes = _grown(self.hashes, size)
            self.has_signature = _grown(self.has_signature, size)
