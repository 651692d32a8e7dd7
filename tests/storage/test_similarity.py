"""Near-duplicate detection in Chinese and English."""

from __future__ import annotations

from storage.similarity import cluster, features, most_alike, similarity


def test_chinese_texts_compare_by_character_bigrams() -> None:
    lift = features("3号楼电梯又坏了")
    assert similarity(lift, features("3号楼电梯坏了，没人修")) >= 0.35
    assert similarity(lift, features("小区门口垃圾堆积很多天")) < 0.2


def test_english_ignores_case_and_common_words() -> None:
    a, b = features("The lift in building 3 is broken"), features("building 3 LIFT broken again")
    assert similarity(a, b) >= 0.6
    assert similarity(a, features("Noise from the KTV at night")) == 0.0


def test_clusters_are_largest_first_and_keep_every_text() -> None:
    texts = ["垃圾没人清理", "电梯坏了", "楼下垃圾没人清理", "电梯又坏了", "3号楼电梯坏了", "噪音"]
    groups = cluster(texts)
    assert sorted(i for g in groups for i in g.members) == list(range(len(texts)))
    assert [len(g.members) for g in groups] == [3, 2, 1]
    assert {texts[i] for i in groups[0].members} == {"电梯坏了", "电梯又坏了", "3号楼电梯坏了"}


def test_most_alike_ranks_and_filters() -> None:
    found = most_alike("电梯坏了", [(1, "电梯又坏了"), (2, "停车难"), (3, "电梯坏了三天")])
    assert [key for key, _ in found] == [1, 3] or [key for key, _ in found] == [3, 1]
    assert 2 not in [key for key, _ in found]
    assert most_alike("", [(1, "电梯")]) == []
