"""How alike two short texts are, for Chinese and English alike, and grouping by it.

Residents write a line or two. Word boundaries do not exist in Chinese, so a text's features
are its character bigrams (CJK) plus its lower-cased words (Latin letters and digits); two
texts are compared by the cosine of those feature sets. Cheap, needs no model or dictionary,
and good enough to say "the lift in building 3 is broken again" is like "3号楼电梯又坏了"
only when they share words: this is for near-duplicates, not for meaning.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
# Words too common in reports to say two of them are about the same thing.
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "of",
        "in",
        "on",
        "at",
        "to",
        "and",
        "or",
        "it",
        "this",
        "that",
        "for",
        "with",
        "my",
        "our",
        "please",
        "has",
        "have",
        "been",
        "be",
        "not",
        "no",
    ]
)

# Two texts this alike or more are treated as the same issue.
SAME_ISSUE = 0.35


def features(text: str) -> frozenset[str]:
    """Character bigrams of the Chinese runs, and the words of the rest."""
    lowered = text.lower()
    found: set[str] = set()
    for run in _CJK.findall(lowered):
        if len(run) == 1:
            found.add(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    found.update(w for w in _WORD.findall(_CJK.sub(" ", lowered)) if w not in _STOP)
    return frozenset(found)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine of two feature sets: 1.0 for the same features, 0.0 for none in common."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


@dataclass
class Cluster:
    """Texts taken to say the same thing; `members` are indexes into the input."""

    representative: int
    members: list[int] = field(default_factory=list)
    _features: frozenset[str] = frozenset()


def cluster(texts: Sequence[str], *, threshold: float = SAME_ISSUE) -> list[Cluster]:
    """Group texts greedily: each joins the first cluster whose first text it is like enough.

    Largest clusters first; ties keep input order. O(texts x clusters), fine for hundreds to a
    few thousand texts; callers narrow larger sets in SQL first.
    """
    clusters: list[Cluster] = []
    for index, text in enumerate(texts):
        mine = features(text)
        for group in clusters:
            if similarity(mine, group._features) >= threshold:
                group.members.append(index)
                break
        else:
            clusters.append(Cluster(representative=index, members=[index], _features=mine))
    return sorted(clusters, key=lambda c: -len(c.members))


def most_alike(
    text: str,
    candidates: Iterable[tuple[int, str]],
    *,
    threshold: float = SAME_ISSUE,
    limit: int = 5,
) -> list[tuple[int, float]]:
    """The ids of the candidates most like `text` (at least `threshold`), best first."""
    mine = features(text)
    scored = [(key, similarity(mine, features(other))) for key, other in candidates]
    alike = [(key, score) for key, score in scored if score >= threshold]
    return sorted(alike, key=lambda pair: -pair[1])[:limit]
