"""Fusing and adjusting rankings, as pure functions on chunk indices: reciprocal rank fusion (`rrf`), z-score
fusion with an extra dense model (`zfuse`), one retrieval per side of a comparison (`subject_queries`,
`cover_sides`), a passage under the asked subject's own heading (`cover_subject`), a decision's advice passage
(`promote_advice`), the section of a document the question names among parallel ones (`prefer_section`), and
near-duplicate passages (`near_duplicate`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from advisor.profile import same_subject

RRF_K = 60
# the question words that must tell a document's headings apart before one heading is the asked one: one alone
# ("ML" of "… before going after an ML job") named a career path's second step for a question about its first; dev
MIN_TELLING = 2
# a decision's closest advice sentence joins the top k from this cosine on: the middle of the band where dev
# is flat (its decision questions helped had 0.51-0.73; the one below, 0.27, was not helped)
ADVICE_SIMILARITY = 0.4
_WORD = re.compile(r"[a-z0-9]+(?:[/'][a-z0-9]+)*")


def name_pattern(subject: str) -> re.Pattern:
    """A subject's name as written in running text: any spacing, singular or plural ("bakeries")."""
    words = [re.escape(w) for w in re.findall(r"[\w/]+", subject)]
    if not words:
        return re.compile(r"(?!)")
    last = words[-1][:-1] + r"(?:y|ies)" if words[-1].endswith("y") else words[-1] + r"(?:s|es)?"
    return re.compile(r"\b" + r"\W+".join([*words[:-1], last]) + r"\b", re.I)


def subject_queries(query: str, subjects: list[str]) -> list[str]:
    """For a question about two or more subjects, one query per subject (the others' names removed).

    "Compare baker and potter pay" -> ["Compare baker and pay", "Compare and potter pay"]:
    each keeps the question's measure words and one subject, so each side finds its own evidence.
    """
    if len(subjects) < 2:
        return []
    out = []
    for keep in subjects[:2]:
        q = query
        for other in subjects:
            if other.lower() != keep.lower():
                q = name_pattern(other).sub(" ", q)
        out.append(re.sub(r"\s+", " ", q).strip())
    return out


def cover_sides(
    ranking: list[int], sides: list[list[int]], names: list[re.Pattern], text: Callable[[int], str], k: int
) -> list[int]:
    """`ranking` with, for each side whose name no passage of its top `k` mentions, that side's best
    passage naming it moved up to the last place of the top `k` (pure; the rest keeps its order)."""
    out = list(ranking)
    for side, name in zip(sides, names, strict=True):
        if any(name.search(text(i)) for i in out[:k]):
            continue
        best = next((i for i in side if name.search(text(i))), None)
        if best is None:
            continue
        if best in out:
            out.remove(best)
        out.insert(max(0, min(k, len(out)) - 1), best)
    return out


def cover_subject(ranking: list[int], subject: str, sections: Callable[[int], list[str]], k: int) -> list[int]:
    """`ranking` with, when a passage of its top `k` sits under a heading naming only other subjects and none
    under one naming `subject` (or a form of it), the best-ranked passage whose heading names it moved up to
    the last place of the top `k` (pure): "What certifications should I go for as a nurse?" whose top 5
    holds "Best Certifications for Midwives" gets "Best Certifications for Nurses"."""
    named = [sections(i) for i in ranking[:k]]
    if any(same_subject(subject, s) for n in named for s in n):
        return list(ranking)
    if not any(n and not any(same_subject(subject, s) for s in n) for n in named):
        return list(ranking)
    best = next((i for i in ranking[k:] if any(same_subject(subject, s) for s in sections(i))), None)
    return list(ranking) if best is None else promote(ranking, best, k)


def asked_section(terms: set[str], headings: Sequence[frozenset[str]]) -> int | None:
    """Which of one document's section headings (`headings`, their word stems) the question's stems `terms` name:
    the one heading holding every question word that tells the headings apart (held by some, not all): "senior"
    and "ml" asked, "Senior X / ML Y" of "Staff X / ML Y" and "Lead / Senior Staff"; None when the question has
    fewer than `MIN_TELLING` such words, or no heading or several hold them all ("from senior to staff") (pure)."""
    held: dict[str, int] = {}
    for h in headings:
        for w in h:
            held[w] = held.get(w, 0) + 1
    telling = {w for w in terms if 0 < held.get(w, 0) < len(headings)}
    if len(telling) < MIN_TELLING:
        return None
    holders = [i for i, h in enumerate(headings) if telling <= h]
    return holders[0] if len(holders) == 1 else None


def prefer_section(
    ranking: list[int],
    asked: Callable[[int], bool | None],
    document: Callable[[int], str],
    pool: Callable[[str], Sequence[int]],
    k: int,
) -> list[int]:
    """`ranking` with the passages of the section the question names before those of its parallel sections in
    the top `k` (`asked(i)`: True for a passage under it, False for one under a parallel section of the same
    `document(i)`, None when its document has no such section); when the top `k` holds none of them and two or
    more of the others, the best-ranked of `pool(document)`, the asked section's passages, moves up to the last of
    the others' places (pure):
    "the common gaps of senior potters" is answered from the senior section of a ladder, not from the staff
    section that mentions senior potters."""
    out = list(ranking)
    for doc in dict.fromkeys(document(i) for i in ranking[:k] if asked(i) is False):
        top = out[:k]
        others = [i for i in top if asked(i) is False and document(i) == doc]
        if not others:
            continue  # another document's passage took its place
        first = others[0]
        own = [i for i in top if asked(i) and document(i) == doc]
        if not own:  # one joins from below, in the place of the last of the others: it was ranked lower
            if len(others) < 2:
                continue  # one passage of a parallel heading: too little to call the document in for its named one
            candidates = set(pool(doc))
            own = [i for i in out if i in candidates][:1] or [i for i in pool(doc) if i not in out][:1]
            first = others[-1]
        if not own or all(i in out and out.index(i) < out.index(first) for i in own):
            continue
        for i in own:
            if i in out:
                out.remove(i)
        at = out.index(first)
        out[at:at] = own
    return out


def promote_advice(ranking: list[int], chunks: np.ndarray, sims: np.ndarray, k: int) -> list[int]:
    """`ranking` with the chunk of the advice sentence closest to a decision question (`sims`, one per
    advice sentence; `chunks`, its chunk) in its top `k`, when that sentence is close enough
    (`ADVICE_SIMILARITY`) and no chunk of the top `k` already holds one that is (pure)."""
    close = sims >= ADVICE_SIMILARITY
    if not close.any() or set(chunks[close].tolist()) & set(ranking[:k]):
        return list(ranking)
    return promote(ranking, int(chunks[int(np.argmax(sims))]), k)


def promote_one_of(ranking: list[int], items: Sequence[int], scores: Sequence[float], k: int) -> list[int]:
    """`ranking` with the best-scoring of `items` in its top `k` when none of them is there yet (pure)."""
    if not items or set(items) & set(ranking[:k]):
        return list(ranking)
    return promote(ranking, max(zip(items, scores, strict=True), key=lambda t: t[1])[0], k)


def promote(ranking: list[int], item: int, k: int) -> list[int]:
    """`ranking` with `item` in its top `k`: moved up to the last place of it when below (pure)."""
    if item in ranking[:k]:
        return list(ranking)
    out = [i for i in ranking if i != item]
    out.insert(max(0, min(k, len(out) + 1) - 1), item)
    return out


def rrf(rankings: list[list[int]], k: int = RRF_K) -> list[int]:
    """Reciprocal rank fusion of several ranked id lists; ties keep first-seen order."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: -scores[i])


def zfuse(scores: Sequence[np.ndarray], weights: Sequence[float]) -> list[int]:
    """Score fusion: every item ranked by the weighted sum of its z-scores in each list of scores
    (one score per item in each); a list whose scores are all equal adds nothing (pure)."""
    total = np.zeros(len(scores[0]), dtype=np.float64)
    for values, weight in zip(scores, weights, strict=True):
        values = np.asarray(values, dtype=np.float64)
        sd = values.std()
        if sd > 0:
            total += weight * (values - values.mean()) / sd
    return [int(i) for i in np.argsort(-total, kind="stable")]


def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return frozenset(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))


def near_duplicate(a: frozenset, b: frozenset, threshold: float = 0.6) -> bool:
    """True when most of the smaller passage's word 3-grams also occur in the other one."""
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= threshold
