"""Body fingerprints and the repost index: estimates, stored formats, and lookups among thousands of articles."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gansunews.fingerprints import (
    BLOCK,
    Fingerprint,
    RepostIndex,
    decode_signature,
    encode_signature,
    signature,
    signature_and_simhash,
    simhash,
    similarity,
)

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
    """5,000 unrelated articles (enough for several merges of the key table), then the original."""
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
    for number in range(3000):  # 3,000 × 9 keys: several merges of the key table, copies on both sides of them
        text = ORIGINAL if number % 1000 == 0 else random_body(random.Random(number))
        index.add(f"0130{number:05d}", JAN_1, body(str(len(text)) + text[:20], text), None)
    copy = body(str(len(ORIGINAL)) + ORIGINAL[:20], ORIGINAL)
    assert index.keys.rows(copy.keys) >= {0, 1000, 2000}
    assert index.original_of("014000000", JAN_2, copy) == ("013000000", [])


def test_keys_that_meet_only_in_their_low_32_bits_are_candidates_not_copies():
    """The key table keeps 32 bits of each key: two different bodies may meet there, in the table or its recent
    tail, and the full content key still tells them apart."""
    low = 0x1234_5678

    def fingerprint(high: int) -> Fingerprint:
        key = (high << 32) | low
        return Fingerprint(key, None, np.array([key], dtype=np.uint64))

    index = RepostIndex()
    index.add("013000001", JAN_1, fingerprint(1), None)
    index.keys.merge()  # the first in the sorted table, the second in the tail
    index.add("013000002", JAN_1, fingerprint(2), None)
    assert index.keys.rows(fingerprint(3).keys) == {0, 1}
    assert index.original_of("013000003", JAN_2, fingerprint(3)) == (None, [])
    assert index.original_of("013000004", JAN_2, fingerprint(2)) == ("013000002", [])


def test_copies_further_apart_than_the_window_are_not_reposts():
    index = RepostIndex(window_days=90)
    index.add("013000001", JAN_1, body("a", ORIGINAL), None)
    assert index.original_of("013000002", "2024-03-30T08:00:00+08:00", body("b", EDITED)) == ("013000001", [])
    assert index.original_of("013000003", "2024-04-02T08:00:00+08:00", body("a", ORIGINAL)) == (None, [])
    # undated: near any (and, as ever, counted the earliest: the dated copy would point at it)
    assert index.original_of("013000004", "", body("a", ORIGINAL)) == (None, ["013000001"])


def test_rows_let_go_leave_the_others_found_as_before():
    """`keep_only` (the pipeline lets idle weeks go): across a signature block's edge, the kept rows keep their
    bodies, copies and roots; the others are gone from every lookup."""
    rng = random.Random(5)
    texts = [random_body(rng) for _ in range(5000)]
    index = RepostIndex()
    for number, text in enumerate(texts):
        index.add(f"{13000000 + number:09d}", JAN_2, body(f"h{number}", text), None)
    index.add("013999999", JAN_3, body("copy", texts[4500] + "。"), "013004500")
    keep = np.ones(len(index), dtype=bool)
    keep[:4000] = False  # the first block and some of the second
    index.keep_only(keep)
    assert len(index) == 1001 and "013003999" not in index and "013004000" in index
    assert index.original_of("013888888", JAN_3, body("x", texts[10])) == (None, [])
    assert index.original_of("013888888", JAN_3, body("x", texts[4999] + "！")) == ("013004999", [])
    assert index.original_of("013888888", JAN_3, body("h4600", "")) == ("013004600", [])  # exact key, no signature
    assert index.original_of("013777777", JAN_3, body("y", texts[4500])) == ("013004500", [])
    assert index.duplicate_of == {1000: "013004500"} and not index.read_by_this_run("013000001")
    index.add("013000001", JAN_1, body("h1", texts[1]), None)  # it may come again, as a new row
    assert index.original_of("013888888", JAN_2, body("z", texts[1])) == ("013000001", [])


def test_rows_let_go_here_and_there_keep_their_signatures_in_place():
    """`keep_only` moves the kept signatures up within the blocks: every third row gone, across three blocks."""
    rng = random.Random(6)
    index = RepostIndex()
    for number in range(2 * BLOCK + 100):
        index.add(f"{13000000 + number:09d}", JAN_2, body(f"h{number}", random_body(rng)), None)
    before = {index.id_at(row): index._stored_signature(row).copy() for row in range(len(index))}
    keep = np.arange(len(index)) % 3 != 0
    index.keep_only(keep)
    assert len(index) == int(keep.sum()) and len(index.signature_blocks) == 2
    for row in range(len(index)):
        assert np.array_equal(index._stored_signature(row), before[index.id_at(row)])


def test_rows_taken_out_and_put_back_are_found_as_before():
    """`take_rows` / `put_rows` (idle weeks go to disk and come back, each week by itself): the rows taken are gone
    from every lookup, and once back, in any parts, they find their copies, keep their roots and whether they were
    stored, as before."""
    rng = random.Random(7)
    texts = [random_body(rng) for _ in range(BLOCK + 50)]
    index = RepostIndex()
    for number, text in enumerate(texts):
        index.add(f"{13000000 + number:09d}", JAN_2, body(f"h{number}", text), None, stored=number % 2 == 0)
    index.add("013999999", JAN_3, body("copy", texts[4100] + "。"), "013004100")
    take = np.zeros(len(index), dtype=bool)
    take[4000:] = True  # across a block's edge, the copy among them
    part = index.take_rows(take)
    assert len(index) == 4000 and "013004100" not in index and "013999999" not in index
    assert index.original_of("013888888", JAN_3, body("x", texts[4100] + "！")) == (None, [])
    index.add("013004120", JAN_2, body("h4120", texts[4120]), None)  # came back meanwhile: kept as it is
    odd = part["ids"] % 2 == 1
    index.put_rows({name: column[odd] for name, column in part.items()})  # a part of the part first (a week)
    assert "013004101" in index and "013004100" not in index
    index.put_rows({name: column[~odd] for name, column in part.items()})
    assert len(index) == BLOCK + 51
    assert index.original_of("013888888", JAN_3, body("x", texts[4100] + "！")) == ("013004100", [])
    assert index.original_of("013888888", JAN_3, body("h4101", "")) == ("013004101", [])  # exact key, no signature
    assert index.original_of("013777777", JAN_3, body("y", texts[4100])) == ("013004100", [])
    assert index.duplicate_of[index.row_of("013999999")] == "013004100"
    assert index.read_by_this_run("013004101") and not index.read_by_this_run("013004100")
    assert index.original_of("013888888", JAN_3, body("x", texts[10] + "！")) == ("013000010", [])
