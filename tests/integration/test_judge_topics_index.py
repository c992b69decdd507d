"""A covered subject asked about a topic the corpus never discusses, on the real index (dev items, issue 19.3)."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.answer.people import PERSON, comparative


@pytest.mark.parametrize(
    ("question", "history", "topic", "subject"),
    [
        ("What pension do AI architects get?", [], "pension", "AI architects"),  # dev top-01
        ("What is the dress code for AI engineers?", [], "dress code", "AI engineers"),  # dev top-02
        ("Do they get a pension?", ["What does an AI architect do?"], "pension", "AI architects"),  # dev top-12
        # "sick" is said in passing (centrality 0.22): refused on the second model's opinion (dev near nr-01)
        ("How many sick days do AI/ML engineers get a year?", [], "sick days", "AI/ML engineers"),
        # two words that each hold the question up without the other: measured together (dev top-04)
        ("How much parental leave does an AI architect typically get?", [], "parental leave", "AI architects"),
    ],
)
def test_an_absent_topic_of_a_covered_subject_is_refused_and_named(advisor, question, history, topic, subject):
    turns = [t for h in history for t in ({"role": "user", "content": h}, {"role": "assistant", "content": "..."})]
    answer = advisor.ask(question, turns)
    data = answer.to_json()
    assert answer.refused and answer.cited == []
    assert (data["refusal_kind"], data["refusal_missing"]) == ("topic", [topic])
    assert "nearest corpus word" in data["refusal_reason"]
    assert f"they don't discuss {topic} for {subject}." in answer.text
    assert "You could ask, for example:" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "How big is the wage gap between AI/ML engineers and AI architects?",  # dev par-02: "wage" ~ "pays"
        "Can an AI architect work from home?",  # dev par-03: the documents say "remote"
        "How does a senior ML engineer get promoted to staff?",  # dev par-06
        "What does the daily routine of an AI/ML engineer involve?",  # dev par-04
        "What responsibilities does a principal AI engineer shoulder?",  # dev par-09: a verb, not a topic
        # the main model's support test finds "cities" absent (0.09); the second model does not (dev par-08)
        "Which cities are the best for finding AI/ML engineer work?",
    ],
)
def test_an_answerable_question_in_other_words_is_not_refused(advisor, question):
    answer = advisor.ask(question)
    assert not answer.refused and answer.cited
    assert answer.to_json()["refusal_kind"] is None


@pytest.mark.parametrize(
    ("word", "person"),
    [
        *((w, False) for w in "safer bigger faster cheaper harder riskier longer smarter tougher".split()),
        *((w, True) for w in "baker plumber teacher driver officer janitor".split()),
    ],
)
def test_a_comparative_is_far_from_a_person_and_a_person_noun_near(embedder, word, person):
    """`PERSON_SIMILARITY` separates singular "-er" words that are people from comparatives (real MiniLM)."""
    vectors = embedder.embed_batch([word, *PERSON])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert comparative(word, float((vectors[1:] @ vectors[0]).max())) is not person


@pytest.mark.parametrize(
    "question",
    [
        "If I care most about the number of openings, is ML engineering or architecture the safer bet?",  # fr-18
    ],
)
def test_comparatives_are_not_refused(advisor, question):
    answer = advisor.ask(question)
    assert not answer.refused and answer.cited


# issue 19 round 9, dev fresh7 and fresh6 items on the real indexes
def test_a_place_typed_in_lower_case_is_a_place_no_passage_mentions(advisor):
    answer = advisor.ask("whats the typical ai architect salary in germany? berlin specifically")  # fr7-26
    assert answer.refused and answer.to_json()["refusal_kind"] == "name"
    assert "Germany" in answer.text


def test_a_place_the_passages_name_without_pay_for_it_is_refused_for_pay(advisor_both):
    # fr6-oc-18: the guide names the UK for the qualification, and quotes pay for the US only
    answer = advisor_both.ask("what do actuaries earn in the UK once they're fully qualified?")
    assert answer.refused and "the pay of actuaries in the UK" in answer.text
    assert not advisor_both.ask("How much does an electrician earn in the UK?").refused  # its UK pay is quoted


def test_an_acronym_inside_a_product_name_is_mentioned(advisor_both):
    # fr7-oc-05: "GIS" is in "ArcGIS or QGIS for mapping and site analysis"
    question = "Which software should I learn for landscape architecture work, particularly for 3D models and GIS?"
    answer = advisor_both.ask(question)
    assert not answer.refused and "ArcGIS" in answer.text


def test_a_decision_pointing_back_to_the_persons_story_is_answered(advisor):
    # fr7-17: "Is that sacrifice worth it?" names nothing; the story names what the corpus covers
    answer = advisor.ask(
        "I'm 31 and working as an ML engineer. I'm seriously considering quitting to do a PhD because I assume "
        "the architect jobs will want one eventually. Is that sacrifice worth it?"
    )
    assert not answer.refused and answer.cited


def test_a_question_naming_a_documents_publisher_is_answered_from_it(advisor):
    # fr8-07, fr8-16: "Edirae" and "K21" are publishers in the front matter, named elsewhere only in adverts
    answer = advisor.ask(
        "In the Edirae roadmap, how long is the very first stage supposed to take, the one where you shore up "
        "core engineering + ML library basics?"
    )
    assert not answer.refused and "3-6 months" in answer.text
    assert not advisor.ask("which certs does K21 suggest if I'm aiming at AI architect roles specifically?").refused
    assert advisor.ask("which certs does Acme Learning suggest for AI architects?").refused  # nobody's name


def test_a_percentile_the_sources_do_not_give_is_refused(advisor):
    # fr8-26: the documents give the 75th percentile and the median, never the 90th
    answer = advisor.ask("what does a 90th percentile AI architect make?")
    assert answer.refused and "the 90th percentile" in answer.text
    assert not advisor.ask("what does a 75th percentile AI architect make?").refused


def test_pay_of_a_graded_subject_in_a_place_quoted_only_for_another_is_refused(advisor_both):
    # fr8-oc-16: UK pay is quoted for electricians, not for actuaries; "qualified" grades the actuary
    answer = advisor_both.ask("How much does a qualified actuary earn in the UK in pounds?")
    assert answer.refused and "the pay of actuaries in the UK" in answer.text
    assert not advisor_both.ask("How much does a qualified electrician earn in the UK?").refused


def test_a_price_asked_with_a_count_is_not_answered_by_a_four_figure_advert(advisor_both):
    # fr8-oc-18: "all four sections" shared only "four" with an advert's "four-figure investment"
    assert advisor_both.ask("How much does it cost to sit all four sections of the LARE?").refused


def test_a_covered_subject_asked_in_chat_words_is_not_refused_for_them(advisor):
    # fr9-20: "got", "promoted", "blind", "watch" are unknown words, but the question names a covered subject
    answer = advisor.ask(
        "Just got promoted to Staff ML engineer 🎉 what are the usual blind spots people have at this level that I "
        "should watch out for?"
    )
    assert not answer.refused and "Senior + 1" in answer.text
    assert advisor.ask("What is the dress code for AI engineers?").refused  # an absent topic still is
