"""The extractive generator: intent reading, grounding, conflicting figures, both sides of a comparison."""

import re

import pytest

from advisor.answer.citations import MARKER
from advisor.answer.compose.extractive import (
    detect_intent,
    figures_conflict,
    list_blocks,
    stated_facts,
    subject_fit,
)
from advisor.evaluation.golden import numbers_in


@pytest.mark.parametrize(
    ("question", "figure", "comparison", "decision"),
    [
        ("How much do AI architects earn?", "currency", False, False),
        ("AI engineer vs AI architect: which pays more?", "currency", True, False),
        ("Should I become an architect? I have 2 years of experience", None, False, True),
        ("What does a staff engineer own?", None, False, False),
        ("What is the difference between an AI engineer and an AI architect?", None, True, False),
        ("How long does it take to become a licensed electrician?", "duration", False, False),
        ("What percentage of the jobs are remote?", "percent", False, False),
        ("I love drawing and I'm a gardener. Is landscape design right for me?", None, False, True),
    ],
)
def test_detect_intent(question, figure, comparison, decision):
    i = detect_intent(question)
    assert (i.figure, i.comparison, i.decision) == (figure, comparison, decision)


@pytest.mark.parametrize(
    ("question", "nouns"),
    [
        ("Which certifications are recommended?", ("certifications",)),
        ("What vector databases and search tools do engineers use?", ("databases", "tools")),
        ("What does a staff engineer own?", ()),
        ("What comes after that level?", ()),
        ("How much do they earn?", ()),
    ],
)
def test_list_nouns(question, nouns):
    assert detect_intent(question).listing == nouns


def test_list_blocks_keep_short_items_and_continuations():
    text = "Intro here.\n\nEngineers build:\n\n- Vector databases\n- Search\n\nusing tools such as:\n\n- A\n- B"
    (block,) = list_blocks(text, "Sec > Building")
    assert block.label == "Engineers build" and block.items == ("Vector databases", "Search")
    assert block.more == (("using tools such as", ("A", "B")),)
    assert list_blocks("- only one item", "S") == []
    assert list_blocks("- a\n- b", "Parent > Tools")[0].label == "Tools"


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("I have 3 years of experience and I love coding. Should I switch?", ("experience", "likes")),
        ("I'm a nurse and I want to work outdoors", ("background", "goal")),
        ("I'm not sure what to do", ()),
        ("How much does a senior architect with 12 years make?", ()),
    ],
)
def test_stated_facts(question, kinds):
    facts = stated_facts(question)
    assert tuple(f.kind for f in facts) == kinds
    assert not any(re.search(r"\d", f.label) for f in facts)  # labels never carry digits


@pytest.mark.parametrize(
    ("figures", "conflict"),
    [
        # two documents, same subject, same kind, different numbers: a disagreement
        ([("a", "currency", {"x"}, {"100"}), ("b", "currency", {"x"}, {"120"})], ["a", "b"]),
        # three subjects' pay: not a disagreement
        ([("a", "currency", {"x"}, {"100"}), ("b", "currency", {"y"}, {"120"}), ("c", "currency", {"z"}, {"9"})], []),
        # same subject, different measures (pay vs share)
        ([("a", "currency", {"x"}, {"100"}), ("b", "percent", {"x"}, {"12"})], []),
        # same figure in two documents: they agree
        ([("a", "currency", {"x"}, {"100"}), ("b", "currency", {"x"}, {"100"})], []),
        # a sentence about no known subject cannot disagree with anything
        ([("a", "currency", set(), {"100"}), ("b", "currency", set(), {"120"})], []),
    ],
)
def test_figures_conflict(figures, conflict):
    rows = [(s, k, frozenset(sub), frozenset(n)) for s, k, sub, n in figures]
    assert figures_conflict(rows) == conflict


@pytest.mark.parametrize(
    ("asked", "named", "fit"),
    [
        (("staff AI engineer",), ("Staff AI engineer",), 1.0),
        (("staff AI engineer",), ("Senior AI / ML Engineer",), -1.0),
        (("AI architect",), ("AI engineering architect",), 1.0),
        (("electrician",), ("actuary",), -1.0),
        (("electrician",), (), 0.0),
        ((), ("actuary",), 0.0),
    ],
)
def test_subject_fit(asked, named, fit):
    assert subject_fit(asked, named) == fit


def _sentences(answer):
    return [ln for ln in answer.text.splitlines() if MARKER.search(ln)]


def test_every_answer_sentence_is_quoted_from_its_cited_passage(advisor):
    answer = advisor.ask("Should I become an architect? I have 2 years of experience and love coding")
    assert not answer.refused and len(_sentences(answer)) >= 2
    for line in _sentences(answer):
        n = int(MARKER.findall(line)[-1])
        quote = MARKER.sub("", line).lstrip("- ").strip().rstrip(".").strip()
        passage = advisor.retriever.sentences(answer.passages[n - 1].chunk.id)[0]
        assert any(quote.rstrip(" .") in s for s in passage), (quote, passage)


def test_should_i_with_personal_facts_leads_with_decision_criteria(advisor):
    answer = advisor.ask("Should I become an architect? I have 2 years of experience and love coding")
    text = answer.text.lower()
    assert "5-8 years" in text and "love hands-on coding" in text


def test_conflicting_salary_figures_are_each_cited(advisor):
    answer = advisor.ask("How much do AI architects earn?")
    assert answer.text.startswith("The sources give different figures")
    sources = {answer.passages[n - 1].chunk.source for n in answer.cited}
    assert len(sources) >= 2
    for line in _sentences(answer):
        n = int(MARKER.findall(line)[-1])
        assert numbers_in(line) <= numbers_in(answer.passages[n - 1].chunk.text), line


def test_comparison_covers_both_sides(advisor):
    answer = advisor.ask("What is the difference between an AI engineer and an AI architect?")
    lines = _sentences(answer)
    assert any(re.search(r"\bengineers?\b", ln, re.I) and "architect" not in ln.lower() for ln in lines)
    assert any("architect" in ln.lower() for ln in lines)
