"""The LangChain surface: `advisor.AdvisorRetriever` (LangChain's own standard retriever suite) and
`advisor.answer_chain()` (invoke, stream, batch, astream), on the session's real index."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests

import advisor
from advisor.chains import AdvisorRetriever

QUESTION = "What does an AI architect earn?"


@pytest.fixture
def index_env(built, monkeypatch):
    """The `ADVISOR_*` environment of the session's real index: what a user's shell would hold."""
    monkeypatch.setenv("ADVISOR_CORPUS_DIR", str(built.corpus_dir))
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(built.data_dir))
    return built


class TestAdvisorRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's standard retriever tests (langchain-tests), unchanged."""

    @pytest.fixture(autouse=True)
    def _index(self, index_env):
        return index_env

    @property
    def retriever_constructor(self) -> type[AdvisorRetriever]:
        return advisor.AdvisorRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"k": 2}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


def test_documents_carry_where_the_passage_comes_from(index_env):
    docs = advisor.AdvisorRetriever(k=3).invoke(QUESTION)
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3]
    for d in docs:
        assert d.metadata["source"].startswith("corpus/") and d.metadata["title"]
        assert "section" in d.metadata and 0 < d.metadata["score"] <= 1
        assert d.page_content and d.id == d.metadata["id"]
    assert any("earn" in d.page_content.lower() or "$" in d.page_content for d in docs)


def test_the_retriever_composes_in_a_chain(index_env):
    chain = advisor.AdvisorRetriever(k=2) | RunnableLambda(lambda docs: [d.metadata["source"] for d in docs])
    assert len(chain.invoke(QUESTION)) == 2


def test_answer_chain_invoke_gives_the_answer_as_the_ask_json_dict(index_env):
    out = advisor.answer_chain().invoke({"question": QUESTION, "history": []})
    assert set(out) >= {"question", "standalone_question", "answer", "refused", "cited", "passages", "generator"}
    assert not out["refused"] and out["cited"] and all(1 <= n <= len(out["passages"]) for n in out["cited"])


def test_answer_chain_uses_the_history(index_env):
    history = [{"role": "user", "content": "What does an AI architect do?"}, {"role": "assistant", "content": "..."}]
    out = advisor.answer_chain().invoke({"question": "How much do they earn?", "history": history})
    assert "architect" in out["standalone_question"].lower()


def test_answer_chain_streams_pieces_then_the_answer(index_env):
    pieces = list(advisor.answer_chain().stream({"question": QUESTION}))
    deltas = [p["delta"] for p in pieces[:-1]]
    assert deltas and all(deltas) and "answer" in pieces[-1]
    assert "".join(deltas).strip().startswith(pieces[-1]["answer"][:20])


def test_answer_chain_batch_and_astream(index_env):
    chain = advisor.answer_chain()
    outs = chain.batch([{"question": QUESTION}, {"question": "How do I bake sourdough bread?"}])
    assert [o["refused"] for o in outs] == [False, True]

    async def collect():
        return [p async for p in chain.astream({"question": QUESTION})]

    pieces = asyncio.run(collect())
    assert len(pieces) > 1 and pieces[-1]["answer"] == outs[0]["answer"]


def test_bad_input_is_a_one_line_error(index_env):
    with pytest.raises(ValueError, match="question"):
        advisor.answer_chain().invoke({"q": QUESTION})


def test_importing_advisor_loads_no_chain_and_tracing_stays_the_users_choice():
    code = (
        "import os, sys; import advisor; assert 'langchain_core' not in sys.modules;"
        "import advisor.chains; print(os.environ['LANGSMITH_TRACING'], os.environ['ORT_DISABLE_TELEMETRY'])"
    )
    off = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": ""})
    assert off.stdout.split() == ["false", "1"], off.stderr[-500:]
    mine = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"LANGSMITH_TRACING": "true"}
    )
    assert mine.stdout.split() == ["true", "1"], mine.stderr[-500:]
