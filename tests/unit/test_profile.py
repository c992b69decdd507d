"""The corpus profile: derived from two different corpora, overridden by advisor.yaml, stored with the index."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import load_corpus
from advisor.ingest.profile import _PhraseCounter, derive_profile, read_overrides, save_profile
from advisor.profile import PROFILE, authored_sources, load_profile, measure_in, names_an_author
from advisor.schema import Chunk, Profile
from advisor.text import phrase_pattern, plural, singular

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "corpus"
OTHER = ROOT / "evals" / "corpora" / "other-careers" / "corpus"


def corpus(path: Path):
    docs, _ = load_corpus(path)
    return docs, [c for d in docs for c in chunk_document(d)]


@pytest.fixture(scope="module")
def other() -> Profile:
    return derive_profile(*corpus(OTHER))


@pytest.fixture(scope="module")
def own() -> Profile:
    return derive_profile(*corpus(OWN))


def lower(items) -> set[str]:
    return {s.lower() for s in items}


def test_subjects_of_the_second_corpus_are_its_careers_and_levels(other):
    subjects = lower(other.subjects)
    assert {"electrician", "ux designer", "actuary", "landscape architect"} <= subjects
    assert {"master electrician", "senior ux designer", "chief actuary", "journeyman"} <= subjects  # levels
    assert not subjects & {"career guide", "career", "guide", "pay"}  # title words that are no subject


def test_subjects_of_the_project_corpus_are_its_roles_and_levels(own):
    subjects = lower(own.subjects)
    assert {"ai architect", "ai engineer", "ai/ml engineer", "staff ai/ml engineer"} <= subjects
    assert "electrician" not in subjects


def test_examples_are_questions_the_documents_ask_and_stand_alone():
    docs, chunks = corpus(OTHER)
    profile = derive_profile(docs, chunks)
    text = " ".join(d.text for d in docs)
    assert len(profile.examples) >= 10
    for q in profile.examples:
        assert q.endswith("?") and q in text
        assert not re.search(r"\b(this|that|these|those)\b", q, re.I)  # needs no earlier context
    assert "Do I need a college degree to become an electrician?" in profile.examples


def test_description_names_the_subjects_of_that_corpus_only(own, other):
    assert other.description.startswith("Documents about ")
    assert not re.search(r"\d", other.description + own.description)  # refusals quote it and cite nothing
    for word in ("electricians", "actuaries", "UX designers", "landscape architects"):
        assert word in other.description
    assert "AI" not in other.description
    assert "electrician" not in own.description


def _chunk(source: str, heading: str, text: str) -> Chunk:
    return Chunk(f"{source}:{heading}", source, source, f"Guide > {heading}", text, 0)


def test_measures_are_words_headings_use_over_one_kind_of_figure():
    chunks = [
        _chunk("baker", "How Much Bakers Earn", "Bakers earn about $30,000 a year. Tips add more."),
        _chunk("potter", "What Potters Earn", "A potter earns £25,000 at first."),
        _chunk("potter", "Earn Their Trust", "Clients come back when you listen."),
        _chunk("baker", "Training Time", "Training takes two years. Most finish in 3 years."),
        _chunk("potter", "Training Time", "An apprenticeship lasts four years."),
        _chunk("baker", "Hours", "Bakers start at 4 am; 10% work nights."),  # one heading only: no measure
    ]
    profile = Profile(subjects=("baker", "potter"), measures=tuple(derive_profile([], chunks).measures))
    assert dict(profile.measures) == {"earn": "currency", "train": "duration", "time": "duration"}
    assert measure_in("What do potters earn?", profile) == "currency"
    assert measure_in("Are their earnings good?", profile) == "currency"
    assert measure_in("How long do they train?", profile) == "duration"
    assert measure_in("What are the hours like?", profile) is None
    assert measure_in("What does a baker do?", profile) is None


def test_measures_of_the_second_corpus_come_from_its_own_headings(other):
    assert measure_in("What do electricians earn?", other) == "currency"
    assert measure_in("How is an actuary's pay?", other) == "currency"
    assert measure_in("What does a UX designer do?", other) is None


def test_documents_and_synonyms(other):
    assert len(other.documents) == 4
    assert all(src.startswith("corpus/") and title for src, title in other.documents)
    assert ("society of actuaries", "SOA") in other.synonyms  # "Society of Actuaries (SOA)" in the text


def test_authors_come_from_front_matter(tmp_path):
    (tmp_path / "potters.md").write_text(
        "---\ntitle: Potters\nauthor: Jo Clay, Ann Kiln\npublisher: Wheel Press\n---\n"
        "# Potters\n\nPotters throw pots.\n"
    )
    (tmp_path / "glaziers.md").write_text("# Glaziers\n\nGlaziers fit glass.\n")  # no front matter: no author
    docs, _ = load_corpus(tmp_path)
    profile = derive_profile(docs, [c for d in docs for c in chunk_document(d, 200, 0)], {"name": "Crafts"})
    source = next(d.source for d in docs if d.source.endswith("potters.md"))
    assert profile.authors == (("Jo Clay", source), ("Ann Kiln", source), ("Wheel Press", source))
    assert names_an_author("Wheel", profile) and names_an_author("wheel press", profile)
    assert not names_an_author("Glaziers", profile) and not names_an_author("Press Wheel", profile)
    save_profile(profile, tmp_path / "index")
    assert load_profile(tmp_path / "index") == profile  # the authors are saved with the profile


def test_empty_corpus_gives_an_empty_profile():
    profile = derive_profile([], [])
    assert profile.subjects == () and profile.examples == ()
    assert profile.name == "advisor"


@pytest.mark.parametrize(
    ("word", "singular_form", "plural_form"),
    [("electricians", "electrician", "electricians"), ("actuaries", "actuary", "actuaries"), ("boss", "boss", "boss")],
)
def test_singular_and_plural(word, singular_form, plural_form):
    assert singular(word) == singular_form
    assert plural(singular_form) == plural_form


@pytest.mark.parametrize(
    ("phrase", "text", "hit"),
    [
        ("AI/ML engineer", "Senior AI / ML Engineers own", True),
        ("actuary", "most actuaries pass", True),
        ("UX designer", "a ux designer", True),
        ("designer", "designers' portfolios", True),
        ("engineer", "engineering skills", False),
        ("architect", "architecture", False),
    ],
)
def test_phrase_pattern(phrase, text, hit):
    assert bool(re.search(phrase_pattern(phrase), text, re.I)) is hit


@pytest.mark.parametrize(
    ("phrase", "low", "count"),
    [
        ("AI/ML engineer", "senior ai / ml engineers own; an ai/ml engineer", 2),
        ("actuary", "actuaries, an actuary, actuarial", 2),
        ("engineer", "engineering engineers/engineer", 0),  # no word bound at a slash
        ("data engineer", "data-engineers and data  engineer", 2),
        ("x", "x-ray, xs and x", 3),  # a one-letter word
        ("ai ai", "ai ai ai", 1),  # matches do not overlap
        ("chef", "", 0),
    ],
)
def test_phrase_counter_counts_matches_of_the_phrase_pattern(phrase, low, count):
    assert _PhraseCounter(low).count(phrase) == count


def test_overrides_replace_name_and_description_and_add_to_lists(tmp_path):
    (tmp_path / "advisor.yaml").write_text(
        "name: Trades advisor\n"
        "description: Guides to skilled trades.\n"
        "examples:\n  - What does a plumber do?\n"
        "subjects: [plumber]\n"
        "synonyms: {sparky: electrician}\n"
        "measures: {currency: [wage, salary], nonsense: [x]}\n"
    )
    profile = derive_profile(*corpus(OTHER), read_overrides(tmp_path))
    assert profile.name == "Trades advisor"
    assert profile.description == "Guides to skilled trades."
    assert profile.examples[0] == "What does a plumber do?" and len(profile.examples) > 1
    assert profile.subjects[0] == "plumber" and "electrician" in profile.subjects
    assert ("sparky", "electrician") in profile.synonyms
    assert measure_in("What wages do plumbers get?", profile) == "currency"
    assert measure_in("Is the x good?", profile) is None  # not a kind of figure: ignored


@pytest.mark.parametrize("text", ["name: [unclosed\n", "- just\n- a list\n"])
def test_bad_overrides_are_ignored_with_one_warning(tmp_path, caplog, text):
    (tmp_path / "advisor.yaml").write_text(text)
    with caplog.at_level(logging.WARNING):
        assert read_overrides(tmp_path) == {}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "advisor.yaml" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()


def test_no_overrides_file_is_no_override(tmp_path):
    assert read_overrides(tmp_path) == {}


def test_save_and_load_round_trip(tmp_path, other):
    save_profile(other, tmp_path)
    assert load_profile(tmp_path) == other
    assert load_profile(tmp_path / "missing") is None
    (tmp_path / PROFILE).write_text("{not json")
    assert load_profile(tmp_path) is None


WRITTEN = Profile(authors=(("Wheel Press", "corpus/potters.md"), ("Zen", "corpus/glaziers.md")))


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        ("What does Wheel Press recommend?", {"corpus/potters.md"}),
        ("which kilns does wheel press suggest?", {"corpus/potters.md"}),  # the full name, in any case
        ("Which kilns does Wheel suggest?", {"corpus/potters.md"}),  # a word of the name, as the name writes it
        ("What does Zen say about glass?", {"corpus/glaziers.md"}),
        ("how do I stay zen at work?", set()),  # a word in lower case is the word, not the author
        ("Is a wheel expensive?", set()),
        ("What do potters earn?", set()),
    ],
)
def test_authored_sources(text, sources):
    assert authored_sources(text, WRITTEN) == sources
