"""The extractive generator: intent reading, grounding, conflicting figures, both sides of a comparison."""

import re

import pytest

from advisor.answer.citations import MARKER
from advisor.answer.compose.extractive import detect_intent, level_fit
from advisor.evaluation.golden import numbers_in


@pytest.mark.parametrize(
    ("question", "salary", "comparison", "decision"),
    [
        ("How much do AI architects earn?", True, False, False),
        ("AI engineer vs AI architect: which pays more?", True, True, False),
        ("Should I become an architect? I have 2 years of experience", False, False, True),
        ("What does a staff engineer own?", False, False, False),
        ("What is the difference between an AI engineer and an AI architect?", False, True, False),
    ],
)
def test_detect_intent(question, salary, comparison, decision):
    i = detect_intent(question)
    assert (i.salary, i.comparison, i.decision) == (salary, comparison, decision)


@pytest.mark.parametrize(
    ("roles", "section", "fit"),
    [
        (("staff AI engineer",), "Staff AI / ML Engineer", 1.0),
        (("staff AI engineer",), "Senior AI / ML Engineer > Scope", -1.0),
        (("AI architect",), "Staff AI / ML Engineer", 0.0),
        (("staff engineer",), "Frequently Asked Questions", 0.0),
    ],
)
def test_level_fit(roles, section, fit):
    assert level_fit(roles, section) == fit


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
