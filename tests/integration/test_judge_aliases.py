"""Places and employers named another way (Britain, the UK): aliases recognised by the real embedding model among the
passages' names, so the judge does not refuse over them. The judge's pure tables are in tests/unit/test_judge.py."""

from __future__ import annotations

import pytest
from support.judging import TRADES, retrieval

from advisor.answer.judge import (
    ALIAS_SIMILARITY,
    alias_of,
    decide,
    signals,
)

# The calibration table of ALIAS_SIMILARITY: generic place and employer names, none from a golden set.
ALIASES = [("Britain", "United Kingdom"), ("Britain", "UK"), ("America", "US"), ("America", "United States")]


OTHERS = [
    ("Canada", "US"),
    ("Canada", "UK"),
    ("Germany", "UK"),
    ("Australia", "UK"),
    ("India", "US"),
    ("Ireland", "UK"),
    ("Scotland", "UK"),
    ("London", "UK"),  # a city in the place the sources cover is not that place
    ("Toronto", "Canada"),
    ("Google", "Microsoft"),
    ("Japan", "US"),
]


@pytest.mark.parametrize(("name", "other"), ALIASES)
def test_an_alias_is_recognised_among_the_passages_names(embedder, name, other):
    assert alias_of(name, ["Python", other, "AI"], embedder.embed_batch) == other


@pytest.mark.parametrize(("name", "other"), OTHERS)
def test_another_place_or_employer_is_not_an_alias(embedder, name, other):
    assert alias_of(name, [other], embedder.embed_batch) is None


def test_alias_threshold_separates_the_table(embedder):
    def sim(a: str, b: str) -> float:
        v = embedder.embed_batch([a, b])
        return float(v[0] @ v[1])

    assert min(sim(a, b) for a, b in ALIASES) > ALIAS_SIMILARITY > max(sim(a, b) for a, b in OTHERS)


def test_a_place_the_passages_name_another_way_is_no_reason_to_refuse(embedder):
    found = retrieval(["In the United Kingdom, a newly qualified electrician earns about £30,000 a year."])
    question = "What does a newly qualified electrician earn in Britain?"
    assert decide(signals(question, found, TRADES)).refuse  # without an embedder only the literal name counts
    assert not decide(signals(question, found, TRADES, embedder.embed_batch)).refuse
    us = retrieval(["Guide In the US the median pay for electricians was about $61,600 a year."])
    assert not decide(signals("What do electricians earn in America?", us, TRADES, embedder.embed_batch)).refuse
    other = "What does a newly qualified electrician earn in Canada?"
    assert decide(signals(other, found, TRADES, embedder.embed_batch)).missing == ("Canada",)
