"""Body fingerprints and the repost index: estimates, stored formats, and lookups among thousands of articles."""

from __future__ import annotations

import hashlib
import os
import random

import numpy as np
import pytest

from gansunews.fingerprints import (
    Fingerprint,
    decode_signature,
    encode_signature,
    signature,
    signature_and_simhash,
    simhash,
    similarity,
)
from gansunews.reposts import CACHE_KIB, RepostIndex

ORIGINAL = (
    "兰州新区今年计划实施重点项目一百二十个，总投资超过八百亿元，涵盖新能源、新材料和数字经济等领域。"
    "截至目前，已有四十五个项目开工建设，完成投资一百六十亿元。新区管委会表示，将持续优化营商环境，"
    "为项目建设提供全流程服务，确保全年目标任务顺利完成。"
)
EDITED = ORIGINAL.replace("。", "。\n").replace("顺利完成", "圆满完成")  # re-wrapped, one phrase changed


def random_body(rng: random.Random, length: int = 240) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(length))


def grams(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i : i + 4] for i in range(len(compact) - 3)}


def test_signature_estimates_jaccard_similarity():
    rng = random.Random(3)
    errors = []
    for _ in range(100):
        body = random_body(rng)
        cut = rng.randint(20, 120)
        edited = body[:cut] + random_body(rng, rng.randint(1, 40)) + body[cut + 10 :]
        exact = len(grams(body) & grams(edited)) / len(grams(body) | grams(edited))
        errors.append(similarity(signature(body), signature(edited)) - exact)
    assert abs(np.mean(errors)) < 0.02 and np.std(errors) < 0.07  # 64 values: standard error ≈ 0.06 at worst


def test_repost_is_similar_and_unrelated_is_not():
    assert similarity(signature(ORIGINAL), signature(EDITED)) >= 0.7
    assert similarity(signature(ORIGINAL), signature(random_body(random.Random(1)))) <= 0.1
    assert signature("天气").shape == (64,)  # shorter than one 4-gram: still a signature


def test_signature_ignores_whitespace_and_is_stable_across_processes():
    assert np.array_equal(signature(ORIGINAL), signature(ORIGINAL.replace("。", "。\n  ")))
    assert encode_signature(signature("中国甘肃网")) == encode_signature(signature("中国甘肃网"))
    assert encode_signature(signature("中国甘肃网")).startswith("m1:")  # fixed seeds: no per-process salt


def test_the_hashing_scheme_is_unchanged_since_signatures_were_first_stored():
    """Stored signatures and simhashes are compared with new ones: a change here needs a new SIGNATURE_FORMAT."""
    text = "中国甘肃网讯 兰州市今日召开新闻发布会，介绍全市经济运行情况。"
    stored = encode_signature(signature(text))
    assert hashlib.sha256(stored.encode()).hexdigest()[:16] == "ad5db0382b4dec9b"
    assert simhash(text) == "c597d598a2020b15"


def test_stored_signatures_round_trip_and_other_schemes_are_ignored():
    values = signature(ORIGINAL)
    assert np.array_equal(decode_signature(encode_signature(values)), values)
    assert decode_signature("AAAA" * 20) is None  # an older scheme: not comparable
    assert decode_signature(None) is None and decode_signature("m1:AAAA") is None


def test_simhash_is_64_bits_and_close_for_an_edit():
    a, b = int(simhash(ORIGINAL), 16), int(simhash(EDITED), 16)
    c = int(simhash(random_body(random.Random(2))), 16)
    assert len(simhash(ORIGINAL)) == 16
    assert (a ^ b).bit_count() < (a ^ c).bit_count()


JAN_1, JAN_2, JAN_3 = "2024-01-01T08:00:00+08:00", "2024-01-02T08:00:00+08:00", "2024-01-03T08:00:00+08:00"


def body(content_hash: str, text: str | None) -> Fingerprint:
    return Fingerprint.of(content_hash, signature(text) if text is not None else None)


@pytest.fixture(scope="module")
def crowded_index():
    """5,000 unrelated articles, then the original."""
    rng = random.Random(5)
    index = RepostIndex()
    for number in range(5000):
        index.add(f"0130{number:05d}", JAN_1, body(f"hash{number}", random_body(rng)), None)
    index.add("013999999", JAN_2, body("original-hash", ORIGINAL), None)
    return index


def test_index_finds_a_near_copy_among_thousands(crowded_index):
    assert crowded_index.original_of("014000001", JAN_3, body("other-hash", EDITED)) == ("013999999", [])
    unrelated = random_body(random.Random(99))
    assert crowded_index.original_of("014000002", JAN_3, body("x", unrelated)) == (None, [])


def test_short_bodies_match_only_when_identical():
    index = RepostIndex()
    index.add("013000001", JAN_1, body("same", None), None)
    assert index.original_of("013000002", JAN_2, body("same", None)) == ("013000001", [])
    assert index.original_of("013000003", JAN_2, body("different", None)) == (None, [])


def test_copies_point_at_the_root_and_never_at_a_later_article():
    index = RepostIndex()
    index.add("013000001", JAN_1, body("a", ORIGINAL), None)
    index.add("013000002", JAN_2, body("b", EDITED), "013000001")
    third = EDITED.replace("新区管委会", "管委会")
    assert index.original_of("013000003", JAN_3, body("c", third)) == ("013000001", [])
    # an article published before every copy it resembles is nobody's repost
    assert index.original_of("013000000", "2023-12-31T08:00:00+08:00", body("d", third)) == (None, ["013000001"])
    assert len(index) == 2 and "013000002" in index


def test_an_earlier_original_found_late_becomes_the_root_of_its_copies():
    index = RepostIndex()
    index.add("013000001", JAN_2, body("a", ORIGINAL), None)
    index.add("013000002", JAN_3, body("b", EDITED), "013000001")
    assert index.repoint(["013000001"], "013000000") == ["013000001", "013000002"]
    index.add("013000000", JAN_1, body("o", ORIGINAL), None)
    assert index.original_of("013000003", JAN_3, body("c", EDITED)) == ("013000000", [])


def test_one_pass_gives_the_same_fingerprints():
    values, hashed = signature_and_simhash(ORIGINAL)
    assert np.array_equal(values, signature(ORIGINAL)) and hashed == simhash(ORIGINAL)


def test_many_exact_copies_are_all_found_across_merges():
    index = RepostIndex()
    for number in range(3000):
        text = ORIGINAL if number % 1000 == 0 else random_body(random.Random(number))
        root = "013000000" if number and text == ORIGINAL else None
        index.add(f"0130{number:05d}", JAN_1, body(str(len(text)) + text[:20], text), root)
    copy = body(str(len(ORIGINAL)) + ORIGINAL[:20], ORIGINAL)
    assert index.original_of("014000000", JAN_2, copy) == ("013000000", [])
    assert index.repoint(["013000000"], "012000000") == ["013000000", "013001000", "013002000"]


def test_a_shared_key_is_a_candidate_and_the_content_key_decides():
    """Keys only pick candidates: a body filed under another's key is a copy only if its content key (or its
    signature) says so. Keys keep all 64 bits, the top bit too."""
    key = (1 << 63) | 0x1234_5678

    def fingerprint(content_key: int) -> Fingerprint:
        return Fingerprint(content_key, None, np.array([key], dtype=np.uint64))

    index = RepostIndex()
    index.add("013000001", JAN_1, fingerprint(key), None)
    index.add("013000002", JAN_1, fingerprint(2), None)
    assert index.original_of("013000003", JAN_2, fingerprint(3)) == (None, [])
    assert index.original_of("013000004", JAN_2, fingerprint(2)) == ("013000002", [])
    assert index.original_of("013000005", JAN_2, fingerprint(key)) == ("013000001", [])


def test_copies_further_apart_than_the_window_are_not_reposts():
    index = RepostIndex(window_days=90)
    index.add("013000001", JAN_1, body("a", ORIGINAL), None)
    assert index.original_of("013000002", "2024-03-30T08:00:00+08:00", body("b", EDITED)) == ("013000001", [])
    assert index.original_of("013000003", "2024-04-02T08:00:00+08:00", body("a", ORIGINAL)) == (None, [])
    # undated: near any (and, as ever, counted the earliest: the dated copy would point at it)
    assert index.original_of("013000004", "", body("a", ORIGINAL)) == (None, ["013000001"])


def test_a_stored_article_read_again_is_read_by_this_run():
    index = RepostIndex()
    index.add("013000001", JAN_1, body("a", ORIGINAL), None, stored=True)
    assert "013000001" in index and not index.read_by_this_run("013000001")
    index.add("013000001", JAN_1, body("a", ORIGINAL), None)
    assert index.read_by_this_run("013000001") and len(index) == 1


def _memory_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _open_files() -> list[str]:
    paths = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:  # the listing's own
            continue
    return paths


def test_index_memory_stays_flat_as_it_grows_and_its_file_has_no_name():
    """The index lives in SQLite's temporary file: past its page cache, 100,000 more articles add no memory (the
    numpy index it replaced took ≈ 0.2 KB an article: 20 MiB here). The file is unlinked as soon as it is opened,
    so nothing is left behind however the process ends."""
    rng = np.random.default_rng(8)
    index = RepostIndex()

    def add(count: int) -> None:
        for _ in range(count):
            values = rng.integers(0, 2**32, 64, dtype=np.uint64).astype(np.uint32)
            number = len(index) + 13000000
            index.add(f"{number:09d}", JAN_1, Fingerprint.of(f"h{number}", values), None)

    add(50_000)  # its cache full by now
    before = _memory_kib()
    add(100_000)
    grown = _memory_kib() - before
    assert grown < CACHE_KIB // 2, f"{grown} KiB for 100,000 articles"
    spilled = [path for path in _open_files() if "etilqs" in path]  # SQLite's temporary files
    assert spilled and all(name.endswith("(deleted)") for name in spilled)
    index.close()
