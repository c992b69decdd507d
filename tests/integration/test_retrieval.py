"""Retrieval ranking on real questions over the real index; a running reader picks up a reindex."""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from support.corpus import copy_index
from support.fakes import CountingEmbedder, CountingExtra

from advisor.indexing import CorpusIndex
from advisor.pipeline import Advisor
from advisor.retrieval import (
    HybridRetriever,
    asked_section,
    cover_sides,
    name_pattern,
    near_duplicate,
    prefer_section,
    promote,
    promote_advice,
    promote_one_of,
    rrf,
    subject_queries,
)
from advisor.text import count_tokens


@pytest.mark.parametrize(
    ("question", "expected_phrase"),
    [
        ("What does a staff AI engineer own?", "12–18 month direction"),
        ("How much do AI engineers earn in India with 3-5 years of experience?", "₹15–30 LPA"),
        ("Do I need a PhD to become an AI engineering architect?", "While a PhD can be beneficial"),
        ("When should I move from AI engineer to AI architect?", "Typically after 5-8 years"),
        ("What is the median salary of an AI architect?", "$292K"),
        ("Which certification is good for Microsoft-focused organizations?", "AZ-305"),
    ],
)
def test_hybrid_finds_the_evidence_in_the_top_3(advisor, question, expected_phrase):
    passages = advisor.retriever.retrieve(question).passages
    assert any(expected_phrase in p.chunk.text for p in passages[:3]), [p.chunk.id for p in passages]


def test_hybrid_beats_each_retriever_alone_on_a_hard_pair(advisor):
    # BM25 alone misses the paraphrase, dense alone misses the exact term; the fusion gets both.
    q = "How many engineers does a staff ML engineer influence?"
    ranks = {}
    for mode in ("dense", "bm25", "hybrid"):
        texts = [p.chunk.text for p in advisor.retriever.retrieve(q, k=5, mode=mode).passages]
        ranks[mode] = next((i for i, t in enumerate(texts, 1) if "15–50 engineers" in t), None)
    assert ranks["hybrid"] is not None and ranks["hybrid"] <= 2


def test_context_budget_and_k(advisor):
    r = advisor.retriever.retrieve("What do AI architects earn?")
    assert len(r.passages) == advisor.settings.k
    assert sum(count_tokens(p.chunk.text) for p in r.passages) <= advisor.settings.context_tokens
    assert [p.rank for p in r.passages] == list(range(1, len(r.passages) + 1))


def test_context_budget_holds_when_k_is_raised(built, embedder):
    """The UI's passages slider may ask for more than the default k; the token budget still rules."""
    settings = built.with_(context_tokens=400)
    retriever = HybridRetriever(CorpusIndex(settings, embedder))
    passages = retriever.retrieve("What do AI architects earn?", k=8).passages
    assert sum(count_tokens(p.chunk.text) for p in passages) <= 400
    assert 1 <= len(passages) < 8


def test_no_near_duplicates_are_returned(advisor):
    state = advisor.retriever._state()
    ids = {p.chunk.id for p in advisor.retriever.retrieve("AI/ML engineer career path progression").passages}
    idx = [i for i, c in enumerate(state.snapshot.chunks) if c.id in ids]
    for a in idx:
        for b in idx:
            if a < b:
                assert not near_duplicate(state.shingles[a], state.shingles[b])


def test_refusal_signals_separate_in_and_out_of_domain(advisor):
    inside = advisor.retriever.retrieve("How much do AI architects earn?")
    outside = advisor.retriever.retrieve("How do I bake sourdough bread?")
    assert inside.top_dense > outside.top_dense + 0.3
    assert inside.term_coverage == 1.0 and "sourdough" in outside.unknown_terms


def test_rrf_rewards_agreement():
    assert rrf([[1, 2, 3], [3, 1, 4]])[:2] == [1, 3]
    assert rrf([[], [7, 8]]) == [7, 8]


def test_near_duplicate_by_containment():
    a = frozenset({("a", "b", "c"), ("b", "c", "d"), ("c", "d", "e")})
    assert near_duplicate(a, a | {("x", "y", "z")})
    assert not near_duplicate(a, frozenset({("q", "r", "s")}))


def test_a_cli_reindex_is_picked_up_by_a_running_reader_without_it_embedding(tmp_path, embedder, small_template):
    """The server case of issue 9: a reader (what `advisor serve` holds) keeps answering while the
    CLI reindexes, then its dense search finds the new chunk; no request re-embeds anything."""
    template, _ = small_template  # two documents, and the exported model where the CLI looks
    settings = copy_index(template, tmp_path).with_(poll_seconds=1)
    Advisor(settings, CorpusIndex(settings, embedder)).build_index()  # as `advisor index` leaves it: word cache too

    counting = CountingEmbedder(embedder)
    reader = Advisor(settings, CorpusIndex(settings, counting))
    question = "How long do apprentice lighthouse keepers shadow a mentor?"
    reader.ask(question)
    ladder = settings.corpus_dir / "ai-architect-career-ladder.md"
    added = "\n## Lighthouse keepers\n\nApprentice lighthouse keepers shadow a mentor.\n"
    ladder.write_text(ladder.read_text() + added)
    errors: list[Exception] = []
    asked = 0
    done = threading.Event()

    def keep_asking() -> None:
        nonlocal asked
        while not done.is_set():
            try:
                reader.ask(question)
                asked += 1
            except Exception as exc:  # any failure while the writer works is a bug
                errors.append(exc)

    threads = [threading.Thread(target=keep_asking) for _ in range(3)]
    for t in threads:
        t.start()
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(settings.corpus_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    run = subprocess.run(
        [str(Path(sys.executable).parent / "advisor"), "index"], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    deadline = time.monotonic() + 60  # a failure timeout, not a measurement
    found = False
    while not found and time.monotonic() < deadline:
        found = any("lighthouse" in p.chunk.text for p in reader.retriever.retrieve(question, mode="dense").passages)
        time.sleep(0.2)
    done.set()
    for t in threads:
        t.join()
    assert found and not errors and asked > 0, errors[:3]
    # nothing of the corpus: the question, and at most single words of it (the judge's nearest-word tests)
    words = set(re.findall(r"[a-z]+", question.lower()))
    assert all(t in (question, "warm up") or t in words for t in counting.texts), set(counting.texts) - {question}


@pytest.mark.parametrize(
    ("query", "subjects", "expected"),
    [
        (
            "Compare electricians and actuaries pay",
            ["electrician", "actuary"],
            ["Compare electricians and pay", "Compare and actuaries pay"],
        ),
        ("What does an electrician earn?", ["electrician"], []),
        (
            "UX designer or landscape architect: which needs a license?",
            ["UX designer", "landscape architect"],
            ["UX designer or : which needs a license?", "or landscape architect: which needs a license?"],
        ),
    ],
)
def test_subject_queries_keep_one_subject_each(query, subjects, expected):
    assert subject_queries(query, subjects) == expected


@pytest.mark.parametrize(
    ("subject", "text", "found"),
    [
        ("actuary", "Actuaries price risk", True),
        ("AI/ML engineer", "an AI/ML Engineers' week", True),
        ("UX designer", "UX  designers test", True),
        ("electrician", "electrical work", False),
    ],
)
def test_name_pattern_matches_any_number_and_spacing(subject, text, found):
    assert bool(name_pattern(subject).search(text)) is found


def test_cover_sides_moves_a_missing_side_into_the_top_k():
    texts = {1: "about x", 2: "about x again", 3: "more x", 4: "y here", 5: "y there", 9: "nothing"}
    names = [name_pattern("x"), name_pattern("y")]
    # y is missing from the top 3: its side's best passage naming y takes the third place
    assert cover_sides([1, 2, 3, 5], [[1], [9, 4, 5]], names, texts.get, 3)[:3] == [1, 2, 4]
    # both sides present: the ranking is untouched
    assert cover_sides([1, 4, 2], [[1], [4]], names, texts.get, 3) == [1, 4, 2]
    # a side with no passage naming it changes nothing
    assert cover_sides([1, 2, 3], [[1], [2]], names, texts.get, 3) == [1, 2, 3]


@pytest.mark.parametrize(
    ("ranking", "item", "k", "expected"),
    [
        ([1, 2, 3, 4], 3, 3, [1, 2, 3, 4]),  # already in the top k: unchanged
        ([1, 2, 3, 4], 4, 3, [1, 2, 4, 3]),  # moved up to the last place of the top k
        ([1, 2, 3], 9, 3, [1, 2, 9, 3]),  # not ranked at all: inserted there
        ([1], 9, 3, [1, 9]),  # a ranking shorter than k: appended
    ],
)
def test_promote(ranking, item, k, expected):
    assert promote(ranking, item, k) == expected


@pytest.mark.parametrize(
    ("sims", "expected"),
    [
        ([0.2, 0.3, 0.1], [1, 2, 3, 4]),  # no advice sentence close enough: unchanged
        ([0.2, 0.5, 0.7], [1, 2, 3, 4]),  # a close one (0.5) is already in the top 3, in chunk 2
        ([0.2, 0.3, 0.7], [1, 2, 9, 3, 4]),  # none close in the top 3: the closest one's chunk joins it
    ],
)
def test_promote_advice(sims, expected):
    chunks = np.array([1, 2, 9])  # the chunk of each advice sentence
    assert promote_advice([1, 2, 3, 4], chunks, np.array(sims), 3) == expected


@pytest.mark.parametrize(
    ("items", "scores", "expected"),
    [
        ([], [], [1, 2, 3, 4]),  # nothing to promote
        ([9, 2], [0.9, 0.1], [1, 2, 3, 4]),  # one of them is in the top 3 already
        ([9, 8], [0.2, 0.6], [1, 2, 8, 3, 4]),  # none is: the best-scoring one joins it
    ],
)
def test_promote_one_of(items, scores, expected):
    assert promote_one_of([1, 2, 3, 4], items, scores, 3) == expected


# fresh5 dev fr5-01: the advice for people early in their career is not among its top 5 passages
STARTING_OUT = (
    "I'm 24, just finished my CS degree and I really like writing Python and hacking on agents. A friend says I "
    "should skip straight to applying for architect roles since they pay more. Good idea?"
)


# fresh4 dev fr4-02: the top 5 holds none of the document with that advice; it is among the next passages
FRESH_GRAD = (
    "22, fresh CS grad, I have an offer for a junior ML role. Long term I want to end up as an AI architect - would "
    "it be smarter to skip the engineer job and apply straight to architect openings?"
)


@pytest.mark.parametrize("question", [STARTING_OUT, FRESH_GRAD])
def test_a_person_starting_out_gets_the_documents_advice_for_people_early_in_their_career(
    advisor, monkeypatch, question
):
    def early(retrieval) -> bool:
        return any("early in your career" in p.chunk.text for p in retrieval.passages)

    assert early(advisor.retriever.retrieve(question, decision=True))
    import advisor.retrieval.hybrid as hybrid

    monkeypatch.setattr(hybrid, "career_start", lambda text: False)
    assert not early(advisor.retriever.retrieve(question, decision=True))  # the other decision rules miss it


# a dev decision question worded unlike the sentences that decide it ("Choose X if you want …")
PICK = "My background is in software engineering. Do I actually get to pick between the two AI roles?"


def test_a_decision_gets_the_passage_of_the_advice_sentence_closest_to_it(advisor):
    def holds(retrieval) -> bool:
        return any("if you want more open positions" in p.chunk.text for p in retrieval.passages)

    assert not holds(advisor.retriever.retrieve(PICK))  # ranked by passages alone it is missed
    decided = advisor.retriever.retrieve(PICK, decision=True)
    assert holds(decided) and len(decided.passages) <= advisor.settings.k
    answer = advisor.ask(PICK)  # the pipeline asks for it, and the answer quotes it
    assert "more open positions" in answer.text and not answer.refused


def test_a_comparison_across_two_documents_retrieves_both_sides(advisor_both):
    passages = advisor_both.retriever.retrieve("How does an electrician's training compare with an actuary's?").passages
    sources = {p.chunk.source.rsplit("/", 1)[-1] for p in passages}
    assert "electrician-career-guide.md" in sources and "actuary-career-guide.md" in sources


# a question in German: only the multilingual extra model matches it to the English passage
GERMAN = "Wie lange dauert es, grundlegende KI-Engineering-Fähigkeiten aufzubauen?"


@pytest.mark.model
def test_the_extra_models_vectors_are_stored_with_the_chunks_so_readers_embed_only_questions(small_template, embedder):
    settings, _ = small_template  # built with the default settings: the extra model is on
    assert settings.extra_embedding_model == "multilingual-e5-small"
    reader = HybridRetriever(CorpusIndex(settings, embedder), extra=CountingExtra())
    assert any("3-6 months" in p.chunk.text for p in reader.retrieve(GERMAN).passages)
    assert reader.extra.passages == 0  # every chunk's e5 vector came from the collection
    assert not list(settings.data_dir.glob("vectors-multilingual*"))  # and nothing beside it
    plain_index = CorpusIndex(settings, embedder)
    plain_index.extra = None
    assert not any("3-6 months" in p.chunk.text for p in HybridRetriever(plain_index).retrieve(GERMAN).passages)


@pytest.mark.model
def test_a_reindex_embeds_only_the_new_chunks_for_the_extra_model(small_template, embedder, tmp_path):
    settings = copy_index(small_template[0], tmp_path)
    index = CorpusIndex(settings, embedder)
    index.extra = CountingExtra()
    (settings.corpus_dir / "new-note.md").write_text("# Glassblowing\n\nGlassblowers anneal every piece overnight.\n")
    report = index.update(progress=False)
    assert report.added == 1 and index.extra.passages == 1  # the copied chunks kept theirs
    main, extra = index.chunk_vectors(index.published(refresh=True).active)
    assert set(extra) == set(main) and len(main) == report.chunks  # every chunk of the new version has both
    reader = HybridRetriever(CorpusIndex(settings, embedder), extra=CountingExtra())
    assert "anneal" in " ".join(p.chunk.text for p in reader.retrieve("Do glassblowers anneal their pieces?").passages)
    assert reader.extra.passages == 0


@pytest.mark.model
def test_chunks_stored_without_extra_vectors_are_embedded_in_memory_by_a_reader(small_template, embedder, tmp_path):
    """An index whose writer did not store the extra model's vectors (a damaged or older one) still answers:
    the reader embeds what is missing in memory and writes nothing."""
    settings = copy_index(small_template[0], tmp_path)
    writer = CorpusIndex(settings, embedder)
    writer.extra = None
    writer.update(full=True, progress=False)
    before = sorted(p.name for p in settings.data_dir.rglob("*"))
    reader = HybridRetriever(CorpusIndex(settings, embedder), extra=CountingExtra())
    assert any("3-6 months" in p.chunk.text for p in reader.retrieve(GERMAN).passages)
    assert reader.extra.passages == len(reader.snapshot.chunks)
    assert sorted(p.name for p in settings.data_dir.rglob("*")) == before


def test_the_word_vectors_are_written_by_the_writer_and_only_read_by_readers(small_template, embedder, tmp_path):
    settings, _ = small_template
    shutil.copytree(settings.data_dir, tmp_path / "index")
    settings = settings.with_(data_dir=tmp_path / "index")
    reader = HybridRetriever(CorpusIndex(settings, embedder))
    (word, sim), *_ = reader.nearest_words(["zebra"])
    assert word and -1.0 <= sim < 1.0
    assert not list(settings.data_dir.glob("vectors-words-*"))  # reads never write
    writer = Advisor(settings, CorpusIndex(settings, embedder))
    writer.build_index()  # nothing changed, but the cache is missing: the writer writes it
    (cache,) = settings.data_dir.glob("vectors-words-*.npz")
    with np.load(cache) as f:
        assert "zebra" not in f["keys"].tolist() and len(f["keys"]) == len(reader._state().word_vectors(None)[0])


def _heads(*headings: str) -> list[frozenset[str]]:
    return [frozenset(h.lower().split()) for h in headings]


LADDER = _heads("potter", "senior potter", "staff potter", "lead / senior staff", "how to use this")


@pytest.mark.parametrize(
    ("terms", "headings", "expected"),
    [
        ({"senior", "potter", "gaps"}, LADDER, 1),  # only "senior potter" holds both telling words
        ({"staff", "potter"}, LADDER, 2),
        ({"lead", "senior"}, LADDER, 3),
        ({"lead"}, LADDER, None),  # one telling word alone names no heading
        ({"staff"}, LADDER, None),
        ({"senior", "potter", "staff"}, LADDER, None),  # from one level to another: none holds them all
        ({"glaze", "kiln"}, LADDER, None),  # no heading holds a question word
        ({"potter"}, _heads("potter pay", "potter hours", "potter training"), None),  # every heading holds it
        ({"potter", "pay"}, _heads("potter pay", "potter hours", "potter training"), None),  # "pay" alone tells
        ({"potter", "pay", "hourly"}, _heads("potter hourly pay", "potter yearly pay", "potter training"), 0),
    ],
)
def test_asked_section(terms, headings, expected):
    assert asked_section(terms, headings) == expected


# documents "a" (chunks 1-6) and "b" (7-9); under the named heading: 4, 5 (and 9 of b); under a parallel one: 1, 2, 7
NAMED = {4: True, 5: True, 9: True, 1: False, 2: False, 7: False}


@pytest.mark.parametrize(
    ("ranking", "expected"),
    [
        ([1, 4, 3, 6], [4, 1, 3, 6]),  # the named heading's passage goes before the parallel one's
        ([4, 1, 3, 6], [4, 1, 3, 6]),  # it is before already
        ([3, 1, 2, 6, 5], [3, 1, 5, 2, 6]),  # none in the top 3: the best of its pool takes the last other's place
        ([3, 6, 8, 1], [3, 6, 8, 1]),  # the parallel passage is below the top 3: nothing moves
        ([7, 1, 3, 9], [7, 1, 3, 9]),  # one parallel passage per document: too little to call a named one in
        ([1, 2, 7, 9], [1, 4, 2, 7, 9]),  # a's joins; b's parallel one is then below the top 3: nothing more moves
    ],
)
def test_prefer_section(ranking, expected):
    def document(i: int) -> str:
        return "a" if i <= 6 else "b"

    def pool(doc: str) -> list[int]:
        return [4, 5] if doc == "a" else [9]

    assert prefer_section(ranking, NAMED.get, document, pool, 3) == expected


# fresh2 dev fr2-05 and fresh5 fr5-18: the staff section mentions "senior ML engineers"; the senior one holds the gaps
GAPS = "What kind of mistakes do senior ML folks tend to make?"


def test_a_question_naming_one_of_parallel_headings_is_answered_from_it(advisor, monkeypatch):
    passages = advisor.retriever.retrieve(GAPS).passages
    assert passages[0].heading_asked and passages[0].chunk.section.startswith("Senior")
    assert all(p.chunk.section.startswith("Senior") for p in passages if p.heading_asked)
    answer = advisor.ask(GAPS)
    assert "silo expertise" in answer.text or "cross-team work" in answer.text
    import advisor.retrieval.hybrid as hybrid

    monkeypatch.setattr(hybrid, "asked_section", lambda terms, headings: None)
    assert not any(p.heading_asked for p in advisor.retriever.retrieve(GAPS).passages)
    assert "silo expertise" not in advisor.ask(GAPS).text  # without it the staff section's gaps are quoted


# fresh6 dev fr6-06 and fr6-07: typed as in a chat, with the person's story first; both were refused
CASUAL = [
    "tbh ive paid for two online bootcamps and bailed on both halfway thru. thinking about zen's cohort now. is it "
    "worth the money for someone like me",
    "I quit my comp bio doctorate in year 2 and have been building ML infra at a startup since. does not having the "
    "phd basically cap me below architect level?",
]


@pytest.mark.parametrize("question", CASUAL)
def test_a_question_typed_as_in_a_chat_after_the_persons_story_is_answered(advisor, question):
    answer = advisor.ask(question)
    assert not answer.refused, answer.text
    assert answer.cited


def test_chat_short_forms_are_read_in_full_by_both_dense_models(advisor):
    # fresh6 dev fr6-18: "comp" is "compensation" ("compensation can reach $400K+"), missed from the top 5 before
    passages = advisor.retriever.retrieve("what kind of comp can a principal architect pull at the big tech cos?")
    assert any("$400K+" in p.chunk.text for p in passages.passages)


def test_faq_questions_are_no_parallel_headings(advisor):
    # dev adv-02: "How do I know if I should pursue architecture …?" holds the question's telling words, but a FAQ's
    # questions are not parallel sections: the one ranked first stays first
    question = (
        "I have 8 years as an ML engineer, mentor a lot and spend my days in design docs. Is architecture for me?"
    )
    passages = advisor.retriever.retrieve(question, decision=True).passages
    assert not any(p.heading_asked is not None for p in passages if p.chunk.section.endswith("?"))
    assert "Signs you're ready" in passages[0].chunk.text


def test_a_question_naming_a_publisher_retrieves_that_documents_passages_first(advisor):
    # fr8-16: "K21" is the publisher of one document; the others' certifications came first
    answer = advisor.ask("which certs does K21 suggest if I'm aiming at AI architect roles specifically?")
    first = [p.chunk.source for p in answer.passages[:3]]
    assert all(s.endswith("ai-engineer-vs-ai-architect-which-role-to-target-2026.md") for s in first), first
