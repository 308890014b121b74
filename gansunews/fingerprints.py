"""Fingerprints of article bodies: what the repost index (`gansunews.reposts`) compares.

Every fingerprint starts from the body's character 4-grams (whitespace removed: Chinese has no spaces, and a small edit
changes only the few 4-grams that overlap it), each hashed to 64 bits with numpy, a whole body at once:
- `signature`: a MinHash of 64 values. The share of equal values estimates the Jaccard similarity of two bodies'
  4-gram sets; it separates a lightly edited repost (≈ 0.99) from unrelated articles on the same topics (≤ 0.3).
- `simhash`: the 64-bit SimHash users can compare by Hamming distance (not used for decisions: on short bodies a
  repost and an unrelated article are a few bits apart).

A `Fingerprint` holds the keys the index files a body under: locality-sensitive hashing over the signature (8 bands of
8 values) plus the exact body hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np

SHINGLE = 4
PERMUTATIONS = 64
# LSH: a candidate shares all 8 values of one of 8 bands. Chance a pair is compared, by similarity: 0.9 → 99%,
# 0.8 → 77%, 0.7 → 38% (1 - (1 - s⁸)⁸): near-verbatim reposts are found, heavily rewritten ones may not be.
BANDS, ROWS = 8, 8
SIMILAR = 0.7  # estimated Jaccard similarity that makes a repost
# Copies count as reposts only when published within this many days of each other: news is reposted within days,
# and the window is what lets a crawl load just the stored articles near its own days (DedupePipeline), not all.
WINDOW_DAYS = 90
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


def stored_fingerprints(text: str) -> tuple[str, str]:
    """(simhash, encoded signature): the `simhash` and `minhash` fields an article is stored with."""
    values, hashed = signature_and_simhash(text)
    return hashed, encode_signature(values)


def _minhash(hashes: np.ndarray) -> np.ndarray:
    permuted = hashes[:, None] * _MULTIPLIERS  # one row per 4-gram, one column per function
    permuted += _OFFSETS
    # the top 32 bits of the minimum are the minimum of the top 32 bits: shift 64 values, not the whole matrix
    return (permuted.min(axis=0) >> np.uint64(32)).astype(np.uint32)


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
