"""The generic path's floor on zh-news-devset (bench/extract_quality.py prints the same figures beside trafilatura
and htmldate). The pages are not in this repository: set GANSUNEWS_DEVSET when they are not in ../shared."""

import json

import pytest

from bench.extract_quality import LABELS, content_f1, devset_dir, load, read_project, score

DEVSET = devset_dir()


def test_every_devset_page_is_labelled():
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    assert len(labels) == 57
    assert all(set(label) == {"url", "day", "authors", "source"} for label in labels.values())


def test_content_f1_counts_characters_not_order_or_spaces():
    assert content_f1("甲乙 丙", "丙乙甲") == 1.0
    assert content_f1("甲乙", "甲乙丙丁") == pytest.approx(2 / 3)
    assert content_f1("", "甲") == 0.0


@pytest.mark.skipif(DEVSET is None, reason="zh-news-devset not found (GANSUNEWS_DEVSET)")
def test_generic_path_holds_its_floor_on_the_devset():
    scores = score(load(DEVSET), read_project)
    assert scores.content >= 0.87
    assert scores.day >= 0.96, scores.wrong_days
    assert scores.names >= 0.75, scores.missed_names
