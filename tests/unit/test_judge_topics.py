"""A covered subject asked about a topic the corpus never discusses (issue 19.3): pure tables, no model."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from support.judging import TRADES, passage, retrieval

from advisor.answer.judge import Signals, decide, signals
from advisor.answer.refusal import refusal_text
from advisor.answer.topics import SUPPORT_DROP, WordEvidence, absent_topics, topic_candidates, word_evidence
from advisor.schema import Profile, Verdict
from advisor.store.embedding import HashEmbedder


@pytest.mark.parametrize(
    ("signals_", "refuse", "kind"),
    [
        (Signals(absent_topics=("pension",)), True, "topic"),
        # however similar the passages are to the question: they speak of the subject, not of the topic
        (Signals(absent_topics=("dress code",), top_similarity=0.9), True, "topic"),
        # a place no passage mentions is named first: the refusal says what it lacks most plainly
        (Signals(absent_topics=("pension",), missing_names=("Canada",)), True, "name"),
        (Signals(absent_topics=()), False, ""),
    ],
)
def test_decide_refuses_an_absent_topic(signals_, refuse, kind):
    verdict = decide(signals_)
    assert (verdict.refuse, verdict.kind) == (refuse, kind)
    if kind == "topic":
        assert verdict.missing == signals_.absent_topics


SPARKY = Profile(
    subjects=("electrician", "plumber"), synonyms=(("sparky", "electrician"),), measures=(("wage", "currency"),)
)


@pytest.mark.parametrize(
    ("question", "unknown", "candidates"),
    [
        ("What pension does a plumber get?", ["pension"], ["pension"]),
        ("What is the dress code for plumbers?", ["dress"], ["dress"]),  # "code" is a word the corpus knows
        # the person's own story is not what is asked
        ("I retired early. What does a plumber earn?", ["retired"], []),
        ("How many days per year does a plumber work?", ["per"], []),  # a stop word
        # the profile's own words: a synonym of a subject, a word for a measure
        ("What pension does a sparky get?", ["pension", "sparky"], ["pension"]),
        ("What wage does a plumber get?", ["wage"], []),
        # the word right after a subject is its verb, not what is asked about
        ("What responsibilities does a plumber shoulder?", ["shoulder"], []),
        ("Do plumbers shoulder a pension?", ["shoulder", "pension"], ["pension"]),
        # ... not a noun the subject qualifies
        ("Is the plumber lifestyle healthy?", ["lifestyle", "healthy"], ["lifestyle", "healthy"]),
    ],
)
def test_topic_candidates(question, unknown, candidates):
    assert topic_candidates(question, unknown, SPARKY) == candidates


def ev(word: str, similarity: float, centrality: float = 0.5, closer: float = 0.1) -> WordEvidence:
    return WordEvidence(word, "nearest", similarity, centrality, closer)


@pytest.mark.parametrize(
    ("question", "evidence", "topics"),
    [
        ("What pension do plumbers get?", [ev("pension", 0.47)], ("pension",)),
        # a corpus word near in meaning ("wage" ~ "pays"): the corpus discusses it in other words
        ("How big is the wage gap for plumbers?", [ev("wage", 0.79)], ()),
        # not what is asked about ("Should I go straight for plumbing?")
        ("Should I go straight for plumbing?", [ev("straight", 0.47, centrality=0.14)], ()),
        # the top passages match the question as well with it: they support it ("daily routine")
        ("What is the daily routine of a plumber?", [ev("routine", 0.51, closer=-0.005)], ()),
        # a noun phrase opened by a determiner goes on to its last word; consecutive words make one phrase
        ("What is the dress code for plumbers?", [ev("dress", 0.42)], ("dress code",)),
        ("How much parental leave does a plumber get?", [ev("parental", 0.5), ev("leave", 0.5)], ("parental leave",)),
        # ... not over a word that follows the phrase without one
        ("Is burnout common among plumbers?", [ev("burnout", 0.5)], ("burnout",)),
        ("Will my employer sponsor a work visa, plumber?", [ev("sponsor", 0.5), ev("visa", 0.4)], ("sponsor", "visa")),
    ],
)
def test_absent_topics(question, evidence, topics):
    found, why = absent_topics(question, evidence)
    assert found == topics
    assert ("nearest corpus word 'nearest'" in why) is bool(topics)


def test_word_evidence_measures_each_word_against_the_question_and_the_top_passages():
    embed = HashEmbedder().embed_batch
    passages = [passage("An electrician does get paid well.")]
    vectors = {"c1": (["An electrician does get paid well."], embed(["An electrician does get paid well."]))}

    def nearest(words):
        return [("salary", 0.4) for _ in words]

    ids = [p.chunk.id for p in passages]
    (e,) = word_evidence("What pension does an electrician get?", ["pension"], ids, embed, nearest, vectors.get)
    assert (e.word, e.neighbour, e.similarity) == ("pension", "salary", 0.4)
    assert e.centrality == pytest.approx(1 / 6**0.5, abs=1e-3)  # one word of six
    # bag of words: the question shares 4 of its 6 words with the passage's 6, and 4 of 5 without "pension"
    assert e.closer_without == pytest.approx(4 / 30**0.5 - 4 / 6, abs=1e-3)


def test_word_evidence_asks_the_second_model_only_about_words_the_top_passages_do_not_support():
    text = "An electrician does get paid well."
    embed = HashEmbedder().embed_batch
    vectors = {"c1": ([text], embed([text]))}
    asked: list[list[str]] = []

    def nearest(words):
        return [("salary", 0.79) for _ in words]  # a near corpus word: measured all the same

    def closest(texts):
        asked.append(list(texts))
        return [0.80, 0.83][: len(texts)]

    question = "What gym does an electrician get?"
    (e,) = word_evidence(question, ["gym"], ["c1"], embed, nearest, vectors.get, closest)
    assert e.closer_without > SUPPORT_DROP  # the passage shares "does an electrician get", not "gym"
    assert asked == [[question, "What does an electrician get?"]]
    assert e.second_closer_without == pytest.approx(0.03)
    # a word the passage supports as well as the rest of the question is not asked about
    asked.clear()
    (e,) = word_evidence("Does an electrician get paid well?", ["paid"], ["c1"], embed, nearest, vectors.get, closest)
    assert e.closer_without <= SUPPORT_DROP and e.second_closer_without is None and asked == []


@pytest.mark.parametrize(
    ("similarity", "centrality", "closer", "second", "absent"),
    [
        # a near corpus word ("gym": "training" 0.60), but both models find the corpus closer without the word
        (0.60, 0.43, 0.10, 0.019, True),
        # ... said in passing ("sick days": centrality 0.22), the same
        (0.48, 0.22, 0.11, 0.019, True),
        # the second model just under its threshold ("cities", whose passages name the cities): answered
        (0.63, 0.51, 0.09, 0.016, False),
        # the second model agrees, but the main model's passages support the word: answered
        (0.60, 0.43, 0.05, 0.030, False),
        # no second opinion: the main model's rule alone
        (0.60, 0.43, 0.10, None, False),
        (0.50, 0.43, 0.10, None, True),
    ],
)
def test_absent_topics_with_the_second_models_opinion(similarity, centrality, closer, second, absent):
    evidence = [WordEvidence("gym", "training", similarity, centrality, closer, second)]
    found, _ = absent_topics("Does a plumber get a gym membership paid?", evidence)
    assert (found == ("gym",)) is absent


def test_signals_find_an_absent_topic_only_about_a_covered_subject():
    embed = HashEmbedder().embed_batch
    text = "An electrician does get paid well."
    vectors = {"c1": ([text], embed([text]))}

    def nearest(words):
        return [("salary", 0.4) for _ in words]

    def found(question: str) -> tuple[str, ...]:
        return signals(
            question, retrieval([text], ["pension"], top=0.7), TRADES, embed, nearest, vectors.get
        ).absent_topics

    assert found("What pension does an electrician get?") == ("pension",)
    assert found("What pension does one get?") == ()  # no subject of the corpus: the older rules decide
    # without the model's helpers the signal stays off
    assert signals("What pension does an electrician get?", retrieval([text], ["pension"]), TRADES).absent_topics == ()


def test_the_absent_topic_test_reads_the_chunks_the_main_model_ranks_nearest_not_the_fused_passages():
    """A passage that another ranking brought in and that fits the word better does not hide the topic's absence."""
    embed = HashEmbedder().embed_batch
    paid, plan = "An electrician does get paid well.", "An electrician pension plan."
    vectors = {"c1": ([plan], embed([plan])), "near": ([paid], embed([paid]))}

    def nearest(words):
        return [("salary", 0.4) for _ in words]

    question = "What pension does an electrician get?"
    fused = retrieval([plan], ["pension"], top=0.7)  # its one passage is chunk "c1"
    assert signals(question, fused, TRADES, embed, nearest, vectors.get).absent_topics == ()
    main = replace(fused, nearest_chunks=["near"])
    assert signals(question, main, TRADES, embed, nearest, vectors.get).absent_topics == ("pension",)


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("What pension do electricians get?", "they don't discuss pension for electricians."),
        ("How long is the commute for a typical plumber?", "they don't discuss commute for plumbers."),  # graded
        ("What pension does one get?", "they don't discuss pension."),
        # a quality asked about is said as one, not as a thing discussed
        (
            "Which is less stressful, electrician or plumber?",
            "they don't say how stressful electricians or plumbers are.",
        ),
        ("Is it stressful?", "they don't say how stressful it is."),
    ],
)
def test_topic_refusal_names_the_topic_and_the_subject_and_offers_what_the_corpus_covers(question, head):
    topic = next(t for t in ("commute", "pension", "stressful") if t in question)
    text = refusal_text(question, Verdict(True, "x", (topic,), "topic"), TRADES)
    assert text.startswith(f"I can't answer that from my sources: {head}")
    assert "documents about electricians, plumbers and UX designers." in text
    assert not re.search(r"\d", text)
    bullets = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    assert 3 <= len(bullets) <= 4 and set(bullets) <= set(TRADES.examples)


@pytest.mark.parametrize(
    ("joint", "absent"),
    [
        ((0.115, 0.042), ("parental leave",)),  # both models: the question is closer without both words
        ((0.080, -0.009), ()),  # the second model does not agree ("daily routine")
        ((0.040, 0.030), ()),  # the main model does not
        (None, ()),  # no group measured
    ],
)
def test_words_that_hold_each_other_up_are_absent_together(joint, absent):
    # each word alone leaves the other: neither passes its own test
    evidence = [
        WordEvidence("parental", "adoption", 0.61, 0.17, -0.008, None, joint),
        WordEvidence("leave", "stay", 0.77, 0.10, -0.004, None, joint),
    ]
    found, why = absent_topics("How much parental leave does a plumber get?", evidence)
    assert found == absent
    assert ("closer without all of them" in why) is bool(absent)


def test_word_evidence_measures_the_central_words_together():
    text = "An electrician does get paid well."
    embed = HashEmbedder().embed_batch
    vectors = {"c1": ([text], embed([text]))}
    asked: list[list[str]] = []

    def closest(texts):
        asked.append(list(texts))
        return [0.80, 0.84][: len(texts)]

    def nearest(words):
        return [("salary", 0.79) for _ in words]

    question = "What pension and gym does an electrician get?"
    evidence = word_evidence(question, ["pension", "gym"], ["c1"], embed, nearest, vectors.get, closest)
    assert [question, "What and does an electrician get?"] in asked
    assert all(e.joint is not None and e.joint[1] == pytest.approx(0.04) for e in evidence)
    # one central word alone is measured on its own, not as a group
    (e,) = word_evidence("What pension does an electrician get?", ["pension"], ["c1"], embed, nearest, vectors.get)
    assert e.joint is None


def test_word_evidence_without_a_second_model_is_the_main_models_alone():
    # the retriever's `closest` is empty when no extra model is configured (ADVISOR_EXTRA_EMBEDDING_MODEL=off)
    text = "An electrician does get paid well."
    embed = HashEmbedder().embed_batch
    vectors = {"c1": ([text], embed([text]))}

    def nearest(words):
        return [("salary", 0.79) for _ in words]

    # one word the passage does not support (it would be asked about alone), then two taken out together
    (gym,) = word_evidence(
        "What gym does an electrician get?", ["gym"], ["c1"], embed, nearest, vectors.get, lambda texts: []
    )
    assert gym.closer_without > SUPPORT_DROP and gym.second_closer_without is None
    question = "What pension and gym does an electrician get?"
    evidence = word_evidence(question, ["pension", "gym"], ["c1"], embed, nearest, vectors.get, lambda texts: [])
    assert all(e.second_closer_without is None and e.joint is None for e in evidence)
