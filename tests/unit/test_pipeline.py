"""The `Advisor` facade's own logic, over fakes of each stage (tests/support/fakes.py): what it does with
what the stages give it. The real stages' path is tested end to end in test_advisor.py."""

from __future__ import annotations

import pytest
from support.fakes import EchoCondenser, FixedJudge, ListRetriever, ScriptedGenerator, chunk

from advisor.pipeline import Advisor, InvalidQuestion
from advisor.schema import Answer, Turn, Verdict
from advisor.settings import Settings

CHUNKS = [chunk("Bakers start early. Most bake bread at dawn.", n=0), chunk("Pastry takes years to learn.", n=1)]


def advisor(tmp_path, generator=None, judge=None, retriever=None, condenser=None) -> Advisor:
    return Advisor(
        Settings.from_env({}, data_dir=tmp_path / "index", corpus_dir=tmp_path / "corpus"),
        condenser=condenser or EchoCondenser(),
        retriever=retriever or ListRetriever(CHUNKS),
        judge=judge or FixedJudge(),
        generator=generator or ScriptedGenerator("Bakers start early [1]. ", "Pastry takes years [2]."),
    )


def test_the_answer_is_the_generators_text_with_its_citations_and_the_stages_in_order(tmp_path):
    condenser, retriever = EchoCondenser(), ListRetriever(CHUNKS)
    gen = ScriptedGenerator("Bakers start early [1]. ", "Pastry takes years [2].")
    a = advisor(tmp_path, generator=gen, retriever=retriever, condenser=condenser)
    answer = a.ask("When do bakers start?", [{"role": "user", "content": "Hi"}])
    assert answer.text == "Bakers start early [1]. Pastry takes years [2]."
    assert answer.cited == [1, 2] and not answer.refused and answer.generator == "scripted"
    assert answer.standalone_question == "standalone: When do bakers start?"
    assert retriever.queries == ["standalone: When do bakers start?"]
    assert condenser.seen == [("When do bakers start?", [Turn("user", "Hi")])]
    assert gen.calls[0][0] == "standalone: When do bakers start?" and len(gen.calls[0][1]) == 2
    assert {"condense", "retrieve", "generate", "total"} <= set(answer.timings_ms)


def test_markers_to_passages_that_were_not_retrieved_are_dropped(tmp_path):
    answer = advisor(tmp_path, generator=ScriptedGenerator("Bakers start early [1][7].")).ask("When?")
    assert answer.text == "Bakers start early [1]." and answer.cited == [1]


def test_a_refusal_is_the_judges_text_with_no_citations_and_the_generator_is_not_asked(tmp_path):
    gen = ScriptedGenerator("never [1].")
    answer = advisor(tmp_path, generator=gen, judge=FixedJudge(refuse=True, reason="off topic")).ask("Tax law?")
    assert answer.refused and answer.cited == [] and answer.refusal_reason == "off topic"
    assert "can't answer" in answer.text and answer.generator == "extractive" and gen.calls == []


def test_an_empty_draft_becomes_the_judges_refusal(tmp_path):
    answer = advisor(tmp_path, generator=ScriptedGenerator("   ")).ask("When?")
    assert answer.refused and answer.text.startswith("I can't answer")


def test_without_refusal_or_history_the_stages_are_skipped_as_asked(tmp_path):
    condenser = EchoCondenser()
    a = advisor(tmp_path, judge=FixedJudge(refuse=True), condenser=condenser)
    answer = a.ask("When?", [{"role": "user", "content": "Hi"}], use_history=False, use_refusal=False)
    assert not answer.refused and answer.standalone_question == "When?" and condenser.seen == []


def test_the_places_of_the_persons_story_the_sources_lack_are_noted_above_the_answer_not_refused(tmp_path):
    judge = FixedJudge()
    judge.verdict = Verdict(False, "answerable", unmentioned=("Leeds", "Acme"))
    answer = advisor(tmp_path, judge=judge).ask("I live in Leeds and work at Acme. When do bakers start?")
    assert not answer.refused and answer.cited == [1, 2]
    assert answer.notices == [
        "The sources say nothing about Leeds or Acme in particular; this is what they say in general."
    ]
    judge.verdict = Verdict(True, "no passage mentions Leeds", missing=("Leeds",), unmentioned=("Acme",))
    assert advisor(tmp_path, judge=judge).ask("What do bakers earn in Leeds?").notices == []


def test_streaming_yields_the_pieces_then_the_answer_with_the_generators_notices(tmp_path):
    gen = ScriptedGenerator("One [1]. ", "Two [2].", notices=["a notice"])
    items = list(advisor(tmp_path, generator=gen).stream("When?"))
    assert items[:2] == ["One [1]. ", "Two [2]."] and isinstance(items[-1], Answer)
    assert items[-1].notices == ["a notice"]


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_a_question_that_cannot_be_asked_reaches_no_stage(tmp_path, bad):
    retriever = ListRetriever(CHUNKS)
    with pytest.raises(InvalidQuestion):
        advisor(tmp_path, retriever=retriever).ask(bad)
    assert retriever.queries == []


def test_close_releases_the_generator(tmp_path):
    gen = ScriptedGenerator("x [1].")
    advisor(tmp_path, generator=gen).close()
    assert gen.closed


def test_close_of_a_generator_without_close_does_nothing(tmp_path):
    """`close` is optional for a generator: a custom one without it made `Advisor.close` raise AttributeError."""

    class Plain:
        name = "plain"

        def generate(self, question, passages, query_vector, history=()):
            yield "Bakers start early [1]."

    a = advisor(tmp_path, generator=Plain())
    assert a.ask("When do bakers start?").text == "Bakers start early [1]."
    a.close()
