"""The LLM generator through the `Advisor` on a real index, with a fake chat model, a hung backend (a loopback
socket that never answers) or a misconfigured one: what the answer says and which generator wrote it. Pure checks
are in tests/unit/test_llm.py, the real model in tests/system/test_llm_real.py."""

from __future__ import annotations

import socket
import threading

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from advisor.answer.checks import plain
from advisor.answer.compose.extractive import ExtractiveGenerator
from advisor.answer.compose.llm import LLMGenerator
from advisor.pipeline import Advisor
from advisor.schema import Answer
from advisor.text import LIST_ITEM, cited_units, split_sentences


def fake(draft: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=draft)]))


def test_answer_json_reports_the_generator_and_the_verification(built, embedder):
    from advisor.indexing import CorpusIndex

    index = CorpusIndex(built, embedder)
    plain_advisor = Advisor(built, index)
    passages = plain_advisor.retriever.retrieve("What does an AI architect do?").passages
    first = split_sentences(passages[0].chunk.text)[0]
    gen = LLMGenerator(
        built.with_(llm="openai:fake", llm_support_threshold=0.6, llm_quote_first=0),
        plain_advisor.retriever.sentences,
        embedder.embed_batch,
        ExtractiveGenerator(plain_advisor.retriever.sentences),
        model_factory=lambda: fake(f"{first.rstrip('.')} [1]. Unicorns file the taxes of every architect [1]."),
    )
    items = list(Advisor(built, index, generator=gen).stream("What does an AI architect do?"))
    answer = items[-1]
    assert isinstance(answer, Answer) and all(isinstance(i, str) for i in items[:-1])
    data = answer.to_json()
    assert data["generator"] == "llm" and data["cited"] == [1]
    v = data["verification"]
    assert (v["drafted"], v["kept"], v["dropped"]) == (2, 1, 1)
    assert [s["reason"] for s in v["sentences"]] == [None, "unsupported"]


def test_an_llm_answer_opens_with_the_extractive_answers_first_lines(built, embedder):
    """The answer first on the LLM path: the lines the extractive answer leads with, then the model's sentences."""
    from advisor.indexing import CorpusIndex

    question = "What is the median salary of an AI architect?"
    index = CorpusIndex(built, embedder)
    plain_advisor = Advisor(built, index)
    extractive = plain_advisor.ask(question)
    lead = [LIST_ITEM.sub("", unit.strip()) for unit in cited_units(extractive.text, 2)]
    assert "$292" in "".join(lead)  # the median leads the extractive answer
    gen = LLMGenerator(
        built.with_(llm="openai:fake", llm_quote_first=2),
        plain_advisor.retriever.sentences,
        embedder.embed_batch,
        plain_advisor.generator,
        model_factory=lambda: fake(
            f"{plain(lead[0]).rstrip('.')} [1]. {split_sentences(extractive.passages[1].chunk.text)[-1]}"
        ),
    )
    answer = Advisor(built, index, generator=gen).ask(question)
    v = answer.to_json()["verification"]
    assert answer.generator == "llm" and v["opening"] == lead and answer.text.startswith(lead[0])
    assert v["sentences"][0]["reason"] == "repeat" and answer.text.count(plain(lead[0])) == 1


def test_a_refusal_with_an_llm_configured_says_the_rule_based_path_wrote_it(built, embedder):
    """The refusal text is the judge's; the model is never asked, and `generator` says so."""
    from advisor.indexing import CorpusIndex

    index = CorpusIndex(built, embedder)
    plain_advisor = Advisor(built, index)
    asked: list[str] = []

    def factory():
        asked.append("model")
        return fake("Anything [1].")

    gen = LLMGenerator(
        built.with_(llm="openai:fake"),
        plain_advisor.retriever.sentences,
        embedder.embed_batch,
        ExtractiveGenerator(plain_advisor.retriever.sentences),
        model_factory=factory,
    )
    answer = Advisor(built, index, generator=gen).ask("What is the capital of Peru?")
    assert answer.refused and answer.generator == "extractive" and not asked


def silent_listener():
    """A TCP server that accepts connections and never answers (a hung backend)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    held = []

    def accept():
        while True:
            try:
                held.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return sock, held


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_a_hung_backend_times_out_on_the_first_token(built, embedder, backend, monkeypatch):
    from advisor.indexing import CorpusIndex

    monkeypatch.setenv("OPENAI_API_KEY", "x")
    sock, held = silent_listener()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}" + ("/v1" if backend == "openai" else "")
    try:
        s = built.with_(llm=f"{backend}:m", llm_base_url=url, generator="llm", llm_first_token_timeout=1.0)
        answer = Advisor(s, CorpusIndex(s, embedder)).ask("What does a staff engineer own?")
    finally:
        sock.close()
        for c in held:
            c.close()
    assert answer.generator == "extractive" and answer.text and "LLM answer not used" in answer.notices[-1]


@pytest.mark.parametrize(
    "llm, env, notice",
    [
        ("openai:m", {"OPENAI_API_KEY": "x"}, "cannot reach the LLM at http://127.0.0.1:"),
        ("ollama:m", {}, "cannot reach the LLM"),
        ("openai:m", {}, "no API key"),
        ("gemini:m", {}, "ADVISOR_LLM must be"),
        ("local:nope", {}, "neither a .gguf file nor one of"),
        ("local:/no/such/model.gguf", {}, "model file not found"),
    ],
)
def test_misconfigured_backends_give_one_line(built, embedder, monkeypatch, llm, env, notice):
    from advisor.indexing import CorpusIndex

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    s = built.with_(llm=llm, llm_base_url=f"http://127.0.0.1:{closed}/v1", generator="llm")
    answer = Advisor(s, CorpusIndex(s, embedder)).ask("What does a staff engineer own?")
    assert answer.generator == "extractive" and notice in answer.notices[-1] and not answer.refused
