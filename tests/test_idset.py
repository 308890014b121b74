import random

from gansunews.idset import IdSet


def test_idset_holds_what_was_added_across_merges_and_nothing_else():
    ids = IdSet([13, 7, 7])
    added = random.Random(3).sample(range(10**9), 3 * IdSet.TAIL + 5)
    for cms_id in added:
        ids.add(cms_id)
    ids.add(7)  # already there: not counted twice
    assert len(ids) == len(added) + 2
    assert all(cms_id in ids for cms_id in [*added, 7, 13])
    assert ids.tail and len(ids.sorted) == 3 * IdSet.TAIL + 2  # merged three times, the rest still recent
    assert list(ids.sorted) == sorted(ids.sorted)
    absent = set(range(1000)) - {7, 13} - set(added)
    assert not any(cms_id in ids for cms_id in absent)
    assert 10**9 + 1 not in ids and -1 not in ids
