"""`advisor.text`: the shared text helpers, and the pin that makes a storage-format change bump the version."""

from __future__ import annotations

import hashlib
import json

import pytest

from advisor.ingest.chunk import chunk_document
from advisor.schema import SourceDocument
from advisor.settings import Settings
from advisor.text import (
    STORAGE_VERSION,
    career_start,
    count_tokens,
    is_advice,
    lead_text,
    numbers_in,
    plural,
    seasoned,
    singular,
    spelled_in_full,
    split_sentences,
)

SAMPLE = """# A Guide

Intro paragraph. It has two sentences! And a third one? Yes.

## Pay

| Level | Pay | Hours |
|---|---|---|
| Junior | $50,000 | 40 |
| Senior | $90,000 | 45 |

Ranges:
- first item of a list
- second item, 20-40% more

Related reading: another page
Picture Of A Desk

## What does a day look like?

Meetings in the morning. Work in the afternoon [2] and a footnote.
"""

# The digest of what `split_sentences` and the chunker make of SAMPLE, per STORAGE_VERSION. When this test
# fails, you changed how text is split into sentences or chunks: stored sentence vectors and chunk ids no
# longer match what the code computes. Bump STORAGE_VERSION in advisor/text.py (the next `advisor index`
# then rebuilds from scratch), and pin the new digest here under the new version.
PINNED = {"7": "dce30121ef3e4783"}


def storage_digest() -> str:
    doc = SourceDocument(source="guide.md", title="A Guide", text=SAMPLE)
    units = {
        "sentences": split_sentences(SAMPLE, "A Guide > Pay"),
        "chunks": [(c.id, c.section, c.text, c.set_aside) for c in chunk_document(doc, 40, 8)],
        "tokens": count_tokens(SAMPLE),
    }
    return hashlib.sha256(json.dumps(units, ensure_ascii=False).encode()).hexdigest()[:16]


def test_a_change_to_sentence_splitting_or_chunking_comes_with_a_new_storage_version():
    assert PINNED.get(STORAGE_VERSION) == storage_digest(), (
        "sentence splitting or chunking changed: bump advisor.text.STORAGE_VERSION and pin the new digest"
    )


def test_the_storage_version_is_part_of_the_index_fingerprint():
    assert Settings().fingerprint()["chunker_version"] == STORAGE_VERSION


def test_split_sentences_keeps_table_rows_and_list_items_whole_and_drops_navigation_and_captions():
    units = split_sentences(SAMPLE, "A Guide > Pay")
    assert "Pay: Junior — Pay: $50,000; Hours: 40" in units
    assert "Ranges: Senior — Pay: $90,000; Hours: 45" not in units
    assert "second item, 20-40% more" in units
    assert not any("Related reading" in u or u == "Picture Of A Desk" for u in units)
    assert "It has two sentences!" in units and "And a third one?" in units


def test_numbers_singular_and_plural():
    assert numbers_in("$1,200K and 20-40% [3]") == {"1200", "20", "40"}
    assert singular("deputies") == "deputy" and singular("classes") == "class" and singular("bus") == "bus"
    assert plural("deputy") == "deputies" and plural("coach") == "coaches" and plural("day") == "days"


@pytest.mark.parametrize(
    ("answer", "lead", "not_lead"),
    [
        # framing lines are not counted; the third cited line is not in the lead
        ("Here is what they say:\n\n- First [1].\n- Second [2].\n- Third [3].", "First", "Third"),
        ("Here is what they say:\n\n- First [1].\n- Second [2].\n- Third [3].", "Second", "framing"),
        ("One sentence [1]. Two sentence [2][3]. Three [4].", "Two sentence", "Three"),  # a paragraph
        ("Tools include [2]:\n\n- Figma\n- Miro\n\nLater point [3]. Last [4].", "Miro", "Last"),  # a list
        ("No marker at all.", "", "No marker"),
    ],
)
def test_lead_text_is_the_first_two_cited_lines(answer, lead, not_lead):
    text = lead_text(answer)
    assert lead in text
    assert not_lead not in text


@pytest.mark.parametrize(
    ("sentence", "advice"),
    [
        ("Choose the night shift if you want higher pay.", True),  # a recommendation
        ("If you're early in your career, start as an apprentice.", True),  # a condition naming the reader
        ("Signs you're ready: you lead reviews.", True),
        ("Typically after 5-8 years of practice.", True),
        ("Median pay is $52,000 a year.", False),  # a fact
        ("The role rarely exists outside large firms", True),  # "rarely": a recommending form of the patterns
    ],
)
def test_is_advice(sentence, advice):
    assert is_advice(sentence) is advice


@pytest.mark.parametrize(
    ("query", "spelled"),
    [
        ("10 yrs in, 45 hrs a week", "10 years in, 45 hours a week"),
        ("what comp can a principal potter pull?", "what compensation can a principal potter pull?"),
        ("fresh grad, 2 yrs exp", "fresh graduate, 2 years experience"),
        ("I quit my comp bio doctorate", "I quit my comp bio doctorate"),  # a field of study's short name
        ("a compact kiln", "a compact kiln"),  # whole words only
        ("mistakes ppl make as sr staff", "mistakes people make as senior staff"),
        ("jr devs and their mgr", "junior developers and their manager"),
        ("entry reqs and quals", "entry requirements and qualifications"),
        ("a comp eng degree", "a comp eng degree"),  # "comp" before "eng" is a field of study
    ],
)
def test_spelled_in_full(query, spelled):
    assert spelled_in_full(query) == spelled


@pytest.mark.parametrize(
    ("text", "starting"),
    [
        ("If you're early in your career, become a potter first.", True),
        ("I just finished my degree.", True),
        ("I've been a backend dev for like 2 yrs and only recently started glazing.", True),  # two years or less
        ("I have two years of experience as a potter.", True),
        ("I've worked for a couple of years.", True),
        ("I have been a potter for 12 years.", False),
        ("with 22 years in", False),
        ("I finished my degree 2 years ago and have taught since.", False),  # when, not how long
        ("My son has 2 years left at school.", False),
    ],
)
def test_career_start(text, starting):
    assert career_start(text) is starting


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("Been a kiln guy for 6 years, zero throwing.", True),
        ("with ten years behind me", True),
        ("after fifteen years as a potter", True),
        ("for like 2 yrs", False),  # two years or less is a start
        ("I graduated 5 years ago", False),  # when, not how long
        ("I am 30 years old", False),
    ],
)
def test_seasoned(text, years):
    assert seasoned(text) is years
