"""The per-sentence checks of LLM drafts (pure; table-driven)."""

from __future__ import annotations

import pytest

from advisor.answer.checks import (
    SentenceSplitter,
    check_sentence,
    is_factual,
    keep_markers,
    markers_last,
    numbers_in,
    plain,
    quoted,
    restates,
)

PASSAGES = [
    "Senior engineers typically earn 20-40% less than architects. Salaries start at $150,000 in large firms.",
    "Architects design the overall system and talk to stakeholders every week.",
    "Most people spend 5-8 years as engineers before moving up.",
]


def feed_in_pieces(text: str, size: int) -> list[str]:
    s = SentenceSplitter()
    out = []
    for i in range(0, len(text), size):
        out += s.feed(text[i : i + size])
    return out + s.flush()


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
@pytest.mark.parametrize(
    "draft, sentences",
    [
        ("One claim here [1]. Second claim [2].", ["One claim here [1].", "Second claim [2]."]),
        ("Markers after the stop. [1] Next one [2].", ["Markers after the stop. [1]", "Next one [2]."]),
        ("It grew 2.5 times [3]. Done [1].", ["It grew 2.5 times [3].", "Done [1]."]),
        ("1. First item is long [1].\n2. Second item [2].", ["1. First item is long [1].", "2. Second item [2]."]),
        ("Use tools, e.g. graphs, daily [2]. Yes [1].", ["Use tools, e.g. graphs, daily [2].", "Yes [1]."]),
        ("A question for you? An answer [1].", ["A question for you?", "An answer [1]."]),
        ("Heading:\n- bullet one [1]\n- bullet two [2]", ["Heading:", "- bullet one [1]", "- bullet two [2]"]),
        ("", []),
        ("No ending at all [1]", ["No ending at all [1]"]),
    ],
)
def test_splitter_cuts_sentences_whatever_the_chunking(draft, sentences, size):
    assert feed_in_pieces(draft, size) == sentences


def test_splitter_releases_a_sentence_as_soon_as_the_next_one_starts():
    s = SentenceSplitter()
    assert s.feed("Architects design systems [2].") == []  # a marker or more text may still follow
    assert s.feed(" Eng") == ["Architects design systems [2]."]
    assert s.flush() == ["Eng"]


@pytest.mark.parametrize(
    "sentence, factual",
    [
        ("Architects design the overall system [2].", True),
        ("They earn more [1].", True),
        ("Here is what the sources say:", False),
        ("How many years of experience do you have?", False),
        ("Yes [1].", False),
        ("The sources do not cover this question.", False),
        ("The passages don't say how much remote roles pay.", False),
        ("The passages say salaries start at $150,000 [1].", True),
        ("**Short answer:**", False),
    ],
)
def test_which_sentences_need_a_source(sentence, factual):
    assert is_factual(sentence) is factual


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("They earn $150,000 [1].", {"150000"}),
        ("20-40% more [2][3]", {"20", "40"}),
        ("2.5 times [1]", {"2.5"}),
        ("no figures here [12]", set()),
    ],
)
def test_numbers_ignore_markers(text, numbers):
    assert numbers_in(text) == numbers


@pytest.mark.parametrize(
    "sentence, n, text, valid, removed",
    [
        ("A claim [1][7].", 3, "A claim [1].", [1], [7]),
        ("A claim [0] here [2].", 3, "A claim here [2].", [2], [0]),
        ("A claim [4].", 3, "A claim.", [], [4]),
        ("A claim [2][2].", 3, "A claim [2][2].", [2], []),
    ],
)
def test_markers_to_missing_passages_are_removed(sentence, n, text, valid, removed):
    assert keep_markers(sentence, n) == (text, valid, removed)


def test_plain_drops_markers_bullets_and_emphasis():
    assert plain("- **Architects** design systems [2][3].") == "Architects design systems."


def fixed_support(score):
    calls = []

    def support(text, cited):
        calls.append((text, tuple(cited)))
        return score

    return support, calls


@pytest.mark.parametrize(
    "sentence, score, kept, reason",
    [
        ("Architects design the overall system [2].", 0.9, True, None),
        ("Architects design the overall system.", 0.9, True, None),  # the marker is attached in code
        ("Architects design the overall system [9].", 0.9, True, None),
        ("Architects design the overall system.", 0.2, False, "no_citation"),  # no passage supports it
        ("Architects earn $999,000 a year [1].", 0.9, False, "number_not_in_source: 999000"),
        ("Engineers need 5-8 years first [1].", 0.9, True, None),  # passage 3 holds 5-8: cited instead
        ("Engineers need 6-9 years first [1].", 0.9, False, "number_not_in_source: 6, 9"),  # no passage does
        ("- 20-40% [1]", 0.0, True, None),  # a figure the model quoted, word for word
        ("- $150,000 [2]", 0.0, True, None),  # ... from another passage than it cited
        ("- 20-45% [1]", 0.9, False, "number_not_in_source: 45"),
        ("- overall system [3]", 0.0, True, None),  # a list item, word for word (passage 2)
        ("- whole system [2]", 0.9, False, "unsupported"),  # a fragment must be quoted: its meaning is too thin
        ("[1]", 0.9, True, None),  # says nothing: not a claim to check
        ("Engineers need 5-8 years first [1][3].", 0.9, True, None),
        ("Architects design the overall system [2].", 0.2, False, "unsupported"),
        ("The sources do not cover this.", 0.0, True, None),
    ],
)
def test_check_sentence(sentence, score, kept, reason):
    support, _ = fixed_support(score)
    text, check = check_sentence(sentence, PASSAGES, support, threshold=0.5)
    assert (check.kept, check.reason) == (kept, reason)
    assert "[9]" not in text


def test_an_unmarked_sentence_gets_the_marker_of_the_passage_that_supports_it_best():
    def support(text, cited):
        return {1: 0.3, 2: 0.8}.get(cited[0], 0.1) if len(cited) == 1 else 0.0

    text, check = check_sentence("Architects design the overall system.", PASSAGES, support, threshold=0.5)
    assert check.kept and check.cited == (2,) and text.endswith("[2].")
    # a marker in front of the sentence, on a passage that does not support it, is moved to the one that does
    text, check = check_sentence("[1] Architects design the overall system.", PASSAGES, support, threshold=0.5)
    assert check.kept and text == "Architects design the overall system [2]."


def test_a_sentence_that_only_repeats_a_title_is_dropped():
    support, _ = fixed_support(0.9)
    titles = ["AI Architect Career Ladder — Staff ML Engineer", "Guide"]
    _, check = check_sentence("The AI Architect Career Ladder [1].", PASSAGES, support, 0.5, titles)
    assert (check.kept, check.reason) == (False, "title_only")
    _, check = check_sentence("Architects design the overall system [1].", PASSAGES, support, 0.5, titles)
    assert check.kept


def test_support_is_asked_about_the_plain_text_and_the_valid_markers_only():
    support, calls = fixed_support(0.9)
    check_sentence("- Architects **design** the overall system [2][8].", PASSAGES, support, threshold=0.5)
    assert calls == [("Architects design the overall system.", (2,))]


def test_cheap_checks_run_before_the_similarity():
    support, calls = fixed_support(0.9)
    check_sentence("Architects earn $999,000 [1].", PASSAGES, support, threshold=0.5)
    assert calls == []


@pytest.mark.parametrize(
    "sentence, moved",
    [
        ("[2] Architects design the system.", "Architects design the system [2]."),
        ("[1][3] Most stay 5-8 years", "Most stay 5-8 years [1] [3]"),
        ("Architects design the system [2].", "Architects design the system [2]."),
        ("[1]", "[1]"),  # nothing after it: not a sentence to move it to
    ],
)
def test_markers_written_in_front_of_a_sentence_move_to_its_end(sentence, moved):
    assert markers_last(sentence) == moved


@pytest.mark.parametrize(
    "claim, passage, found",
    [
        ("LangChain", "Know LangChain, LangGraph and CrewAI.", True),
        ("Lang", "Know LangChain, LangGraph and CrewAI.", False),  # whole words only
        ("20-40%", "They earn 20-40% more.", True),
        ("the system.", "Architects design **the system** and more.", True),  # emphasis and a final stop aside
        ("you’re ready", "Signs you're ready: ...", True),
        ("the", "the system", False),  # no content to quote
    ],
)
def test_quoted(claim, passage, found):
    assert quoted(claim, passage) is found


OPENING = ["Most engineers spend 5-8 years building systems before they move into architecture [2]."]


@pytest.mark.parametrize(
    "sentence, repeat",
    [
        ("Engineers spend 5-8 years building systems [2].", True),  # the opening's words and figures, shortened
        ("Most engineers spend **5-8 years** before architecture [1].", True),  # emphasis and markers aside
        ("Engineers spend 5-10 years building systems [2].", False),  # a figure the opening lacks
        ("Engineers spend years mentoring others [3].", False),  # a word the opening lacks
        ("It is [2].", False),  # nothing to compare
    ],
)
def test_restates(sentence, repeat):
    assert restates(sentence, OPENING) is repeat
