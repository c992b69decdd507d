"""Follow-ups resolved against the corpus's own subjects, over two corpora and both together."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.answer.condense import RuleCondenser, condense, latest_statements, restated, subjects_in
from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import load_corpus
from advisor.ingest.profile import derive_profile
from advisor.profile import mentions
from advisor.schema import Profile, Turn

ROOT = Path(__file__).resolve().parents[2]
CORPORA = {"own": [ROOT / "corpus"], "other": [ROOT / "evals/corpora/other-careers/corpus"]}
CORPORA["both"] = CORPORA["own"] + CORPORA["other"]


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    out = {}
    for name, dirs in CORPORA.items():
        docs = [d for path in dirs for d in load_corpus(path)[0]]
        out[name] = derive_profile(docs, [c for d in docs for c in chunk_document(d)])
    return out


def U(text):
    return {"role": "user", "content": text}


def A(text):
    return {"role": "assistant", "content": text}


@pytest.mark.parametrize(
    ("corpus", "history", "question", "standalone"),
    [
        # the project's corpus
        ("own", [], "How much do AI architects earn?", "How much do AI architects earn?"),
        (
            "own",
            [U("What does a staff AI engineer own?")],
            "What does a principal engineer do?",
            "What does a principal engineer do?",
        ),
        (
            "own",
            [U("What does a staff AI/ML engineer own?"), A("Staff engineers own a domain [1].")],
            "And what comes after that level?",
            "What comes after the staff AI/ML engineer level?",
        ),
        (
            "own",
            [U("What does an AI architect do?")],
            "How much do they earn in India?",
            "How much do AI architects earn in India?",
        ),
        (
            "own",
            [U("What do AI architects do?"), U("How much do they earn?")],
            "Do they code?",
            "Do AI architects code?",
        ),
        (
            "own",
            [U("What is the difference between an AI engineer and an AI architect?")],
            "Which one pays more?",
            "Which one pays more: AI engineer or AI architect?",
        ),
        ("own", [U("How much do AI engineers earn?")], "And in India?", "How much do AI engineers earn in India?"),
        (
            "own",
            [U("What does a senior AI engineer own?")],
            "What about staff engineers?",
            "What does a staff engineer own?",
        ),
        (
            "own",
            [U("I want to become an AI architect.")],
            "What about certifications?",
            "What about certifications for AI architects?",
        ),
        (
            "own",
            [U("Tell me about the AI architect role.")],
            "What skills matter most?",
            "What skills matter most (AI architect)?",
        ),
        ("own", [A("Staff engineers and architects...")], "How much do they earn?", "How much do they earn?"),
        # the level the previous question asked about goes on with its subject (fresh dev fr-19)
        (
            "own",
            [U("What does an AI architect own at the senior staff level?")],
            "And what do they typically miss?",
            "What do AI architects at the senior staff level typically miss?",
        ),
        # a bare head noun goes on in the conversation's field (fresh2 dev fr2-18)
        ("own", [U("What does a senior AI engineer make?")], "and an architect?", "What does an AI architect make?"),
        # the phrase after the new subject stays asked (fresh5 dev fr5-25)
        (
            "own",
            [U("What do AI engineers earn in India?")],
            "and for architects with more than 12 years?",
            "What do AI architects earn in India with more than 12 years?",
        ),
        # ... and the person's years after it are theirs now (fresh10 fr10-05)
        (
            "own",
            [U("working in india, 4 yrs as an AI engineer. what's the going salary band for someone like me?")],
            "and for architects over there with 12+ yrs?",
            "working in india, 12+ yrs as an AI architect. what's the going salary band for someone like me?",
        ),
        (
            "other",
            [U("How much do electricians earn in the US?")],
            "And actuaries in the UK?",
            "How much do actuaries earn in the UK?",
        ),
        # the second corpus: careers the code has never heard of
        ("other", [U("What does an electrician do?")], "How much do they earn?", "How much do electricians earn?"),
        (
            "other",
            [U("How much do electricians earn in the US?")],
            "And in the UK?",
            "How much do electricians earn in the UK?",
        ),
        (
            "other",
            [U("How much do electricians earn in the US?")],
            "What about the UK?",
            "How much do electricians earn in the UK?",
        ),
        # the person puts themselves in another place and asks the same again (fresh6 dev fr6-oc-17)
        (
            "other",
            [U("what's a normal electrician salary in the US?")],
            "and if i moved to the uk, what would i be looking at?",
            "what's a normal electrician salary in the uk?",
        ),
        (
            "other",
            [U("What do electricians earn in the US?")],
            "What if I moved to the UK?",
            "What do electricians earn in the UK?",
        ),
        # ... but a question of its own stays its own
        (
            "other",
            [U("What do electricians earn in the US?")],
            "If I moved to the UK, how long would the apprenticeship take?",
            "If I moved to the UK, how long would the apprenticeship take?",
        ),
        # "what about" a time or condition: the previous question in that case (fresh10 fr10-oc-04)
        (
            "other",
            [U("what's the median salary for actuaries in the US?")],
            "what about once you reach associate (ASA/ACAS)?",
            "what's the median salary for actuaries in the US once you reach associate (ASA/ACAS)?",
        ),
        # the same question of another place, asked as a comparison (fresh9 dev fr9-oc-15)
        (
            "other",
            [U("How long does it take to become a fully qualified actuary in the UK?")],
            "and how does that compare with the US?",
            "How long does it take to become a fully qualified actuary in the US?",
        ),
        # ... only when the previous question was asked of a place, and the comparison names a place
        (
            "other",
            [U("How long does it take to become a fully qualified actuary?")],
            "and how does that compare with the US?",
            "How does that compare with the US (fully qualified actuary)?",
        ),
        (
            "other",
            [U("What do electricians earn in the UK?")],
            "how does that compare to plumbing work?",
            "How does that compare to plumbing work (electrician)?",
        ),
        # a place adverb before the phrase, in lower case as typed in a chat (fresh6 dev fr6-oc-16)
        (
            "other",
            [U("how long does it take to become a fully qualified actuary?")],
            "what about over in the uk?",
            "how long does it take to become a fully qualified actuary in the uk?",
        ),
        (
            "other",
            [U("Compare the pay of electricians and actuaries.")],
            "Which one pays more?",
            "Which one pays more: electrician or actuary?",
        ),
        (
            "other",
            [U("What does an actuary do?"), U("How long does it take to qualify?")],
            "And how much do they earn then?",
            "How much do actuaries earn then?",
        ),
        (
            "other",
            [U("What does an actuary do?"), U("Is it stressful?"), U("Can I work remotely?")],
            "Do they need a degree?",
            "Do actuaries need a degree?",
        ),
        (
            "other",
            [U("What does a UX designer do?")],
            "What about landscape architects?",
            "What does a landscape architect do?",
        ),
        (
            "other",
            [U("How much does a senior UX designer earn?")],
            "And a junior one?",
            "How much does a junior UX designer earn?",
        ),
        (
            "other",
            [U("What does a journeyman electrician do?")],
            "What comes after that level?",
            "What comes after the journeyman electrician level?",
        ),
        ("other", [U("What does an actuary do?")], "Is it stressful?", "Is it stressful (actuary)?"),
        (
            "other",
            [U("What does a master electrician earn in the US?")],
            "What about a designer?",
            "What does a designer earn in the US?",  # no "master designer" in the documents: as written
        ),
        (
            "other",
            [U("Compare actuaries and landscape architects.")],
            "Do both need a license?",
            "Do both actuaries and landscape architects need a license?",
        ),
        # both corpora indexed together: a question naming its own subject keeps it
        ("both", [U("How much do AI engineers earn?")], "What about UX designers?", "How much do UX designers earn?"),
        (
            "both",
            [U("What skills does an AI architect need?")],
            "What does an electrician do?",
            "What does an electrician do?",
        ),
        (
            "both",
            [U("What skills does an AI architect need?")],
            "What does a UX designer do?",
            "What does a UX designer do?",
        ),
        (
            "both",
            [U("How much do electricians earn?")],
            "What is the difference between UX and UI design for a mobile app?",
            "What is the difference between UX and UI design for a mobile app?",
        ),
        (
            "both",
            [U("What does an AI architect do?"), U("What do electricians earn?")],
            "How much do they earn in the UK?",
            "How much do electricians earn in the UK?",
        ),
        # "that" / "it" for what the previous question asked it takes to do
        (
            "other",
            [U("How long does it usually take to go from apprentice to licensed electrician?")],
            "Can that be sped up at all?",
            "Can going from apprentice to licensed electrician be sped up at all?",
        ),
        (
            "other",
            [U("How long does it take to become an actuary?")],
            "Can it be done faster?",
            "Can becoming an actuary be done faster?",
        ),
        ("other", [U("What do actuaries earn?")], "Is that a lot?", "Is that a lot (actuary)?"),
        # a follow-up that is only a clause of time or condition: the previous question, in that case
        (
            "other",
            [U("what do electricians earn in the UK?")],
            "and once they've got a few years in and are fully qualified?",
            "what do electricians earn in the UK once they have got a few years in and are fully qualified?",
        ),
        (
            "other",
            [U("How long does it take to become an actuary?")],
            "And if you already have a maths degree?",
            "How long does it take to become an actuary if you already have a maths degree?",
        ),
        # ... but a clause followed by a question of its own asks that question
        (
            "other",
            [U("What do actuaries earn?")],
            "And once qualified, what do they do all day?",
            "Once qualified, what do actuaries do all day?",
        ),
        # a contracted pronoun is written out when the subject replaces it ("potters've" is no word)
        (
            "other",
            [U("What do electricians earn?")],
            "What happens when they've finished the apprenticeship?",
            "What happens when electricians have finished the apprenticeship?",
        ),
    ],
)
def test_condense(profiles, corpus, history, question, standalone):
    assert condense(question, history, profiles[corpus]) == standalone


@pytest.mark.parametrize(
    ("corpus", "history", "question", "standalone"),
    [
        # "the two" after two turns that each named one subject: the conversation's latest two
        (
            "own",
            [U("What do senior AI engineers earn?"), U("What about AI architects?")],
            "Is the gap between the two large?",
            "Is the gap between both AI architects and senior AI engineers large?",
        ),
        (
            "both",
            [U("What does an actuary do?"), U("And a UX designer?")],
            "Which of the two needs a degree?",
            "Which of the two needs a degree: UX designer or actuary?",
        ),
        # a question about the person carries what they said about themselves earlier, in their words
        (
            "other",
            [U("I'm a graphic designer with five years in print."), U("What does a UX designer do?")],
            "Should I switch?",
            "I'm a graphic designer with five years in print. Should I switch (UX designer)?",
        ),
        # ... but not when it states its own facts, nor into a question not about them, nor an earlier question
        (
            "other",
            [U("I'm a nurse."), U("What do electricians earn?")],
            "I have two years of wiring experience. Should I become an electrician?",
            "I have two years of wiring experience. Should I become an electrician?",
        ),
        ("other", [U("I'm a nurse.")], "What do electricians earn?", "What do electricians earn?"),
        (
            "other",
            [U("What do I need to become an electrician?")],
            "Is it right for me?",
            "Is it right for me (electrician)?",
        ),
    ],
)
def test_condense_over_a_longer_conversation(profiles, corpus, history, question, standalone):
    assert condense(question, history, profiles[corpus]) == standalone


@pytest.mark.parametrize(
    ("corpus", "history", "question", "standalone"),
    [
        # the person restates their situation: the previous question, asked again with the new quantity
        (
            "own",
            [U("I have 3 years of experience as an AI engineer. Should I move into architecture?")],
            "Actually it's closer to nine years now, does that change things?",
            "I have nine years of experience as an AI engineer. Should I move into architecture?",
        ),
        (
            "other",
            [U("What does an electrician with 2 years of experience earn in the UK?")],
            "What about 6 years?",
            "What does an electrician with 6 years of experience earn in the UK?",
        ),
        # a new statement of their years replaces the old one carried into a decision
        (
            "other",
            [U("I have 4 years of wiring experience."), U("What does an electrician do?")],
            "Is it right for me with around ten years behind me?",
            "Is it right for me with around ten years behind me (electrician)?",
        ),
        (
            "other",
            [
                U("I have 4 years of wiring experience."),
                U("Actually I have around ten years of it."),
                U("What does an electrician do?"),
            ],
            "Should I switch?",
            "Actually I have around ten years of it. Should I switch (electrician)?",
        ),
        # a quantity in another unit is no restatement
        (
            "other",
            [U("I have 4 years of wiring experience. Should I become an electrician?")],
            "And in six months?",
            "I have 4 years of wiring experience. Should I become an electrician in six months?",
        ),
    ],
)
def test_a_new_statement_of_the_persons_situation_replaces_the_old(profiles, corpus, history, question, standalone):
    assert condense(question, history, profiles[corpus]) == standalone


@pytest.mark.parametrize(
    ("said", "question", "kept"),
    [
        (["I have 4 years as an engineer.", "I love coding."], "What if I had around ten years?", ["I love coding."]),
        (["I have 4 years as an engineer.", "I have ten years now."], "", ["I have ten years now."]),
        (
            ["I have 4 years as an engineer.", "I love coding."],
            "Should I switch?",
            ["I have 4 years as an engineer.", "I love coding."],
        ),
        (["I spent six months in a bootcamp."], "I have two years now.", ["I spent six months in a bootcamp."]),
    ],
)
def test_latest_statements(said, question, kept):
    assert latest_statements(said, question) == kept


@pytest.mark.parametrize(
    ("question", "previous", "again"),
    [
        ("Closer to nine years, actually?", "I have 3 years. Should I move?", "I have nine years. Should I move?"),
        ("And after 8 yrs?", "What do X make after 3 years?", "What do X make after 8 yrs?"),
        ("And in India?", "What do X make after 3 years?", None),
        ("What about 2 months?", "What do X make after 3 years?", None),
    ],
)
def test_restated(question, previous, again):
    assert restated(question, previous) == again


def test_without_a_profile_only_place_ellipsis_is_resolved():
    assert condense("And in India?", [U("How much do they earn?")]) == "How much do they earn in India?"
    assert condense("How much do they earn?", [U("What does an electrician do?")]) == "How much do they earn?"


@pytest.mark.parametrize(
    ("corpus", "text", "subjects"),
    [
        ("own", "Staff AI engineers vs AI architects and engineers", ["staff AI engineer", "AI architect", "engineer"]),
        ("own", "Which certifications help an aspiring AI architect?", ["AI architect"]),
        (
            "other",
            "Do electricians and actuaries earn more than UX designers?",
            ["electrician", "actuary", "UX designer"],
        ),
        ("other", "What does a journeyman electrician do?", ["journeyman electrician"]),
        ("other", "Staff AI engineers vs AI architects", ["architect"]),  # only what this corpus knows
        ("own", "How long does it take (AI engineering architect)?", ["AI engineering architect"]),  # bracketed
        ("other", 'What does a "journeyman electrician" earn?', ["journeyman electrician"]),
    ],
)
def test_subjects_in(profiles, corpus, text, subjects):
    assert subjects_in(text, profiles[corpus]) == subjects


def test_mentions_keep_qualifiers_the_corpus_does_not_use(profiles):
    (m,) = mentions("How do I become a civil engineer?", profiles["own"])
    assert (m.subject, m.qualifier, m.known, m.plural) == ("engineer", "civil", False, False)
    (m,) = mentions("Do landscape architects draw?", profiles["both"])
    assert (m.subject, m.known, m.plural) == ("landscape architect", True, True)


def test_rule_condenser_follows_the_bound_profile(profiles):
    current = {"profile": profiles["own"]}
    condenser = RuleCondenser()
    assert not condenser.has_profile
    condenser.bind_profile(lambda: current["profile"])
    history = [Turn("user", "What does an electrician do?")]
    assert condenser.condense("How much do they earn?", history) == "How much do they earn?"
    current["profile"] = profiles["other"]  # reindexed with other documents
    assert condenser.condense("How much do they earn?", history) == "How much do electricians earn?"
