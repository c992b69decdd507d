"""The LLM generator's real path: a real xllamacpp server running SmolLM2-135M on 127.0.0.1 (`openai:` route,
`local:` route, streaming, a server stopped mid-conversation, timeouts). Its checks and faults with LangChain's fake
chat models are in tests/unit/test_llm.py, through a real index in tests/integration/test_llm_index.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from advisor.answer.compose.local_server import LocalServer
from advisor.pipeline import Advisor
from advisor.schema import Answer
from advisor.settings import Settings
from advisor.text import numbers_in

BIN = Path(sys.executable).parent / "advisor"


@pytest.fixture(scope="module")
def server(smollm2):
    """A real xllamacpp server on a free loopback port, stopped after the module."""
    s = LocalServer(smollm2, n_ctx=2048, threads=1)
    s.start()
    yield s
    s.stop()


REAL = dict(
    generator="llm",
    llm_passages=2,
    llm_max_tokens=40,
    llm_context=2048,
    llm_threads=1,
    llm_first_token_timeout=180.0,
    llm_timeout=300.0,
)


QUESTION = "Should I become an AI architect? I have 2 years of experience."


@pytest.fixture(scope="module")
def openai_run(built, embedder, server):
    """One real streamed answer through `openai:` + ADVISOR_LLM_BASE_URL; pieces with arrival times."""
    from advisor.indexing import CorpusIndex

    os.environ["OPENAI_API_KEY"] = server.api_key
    try:
        s = built.with_(llm="openai:smollm2", llm_base_url=server.url, llm_unsupported="mark", **REAL)
        advisor = Advisor(s, CorpusIndex(s, embedder))
        t0 = time.monotonic()
        items = [(time.monotonic() - t0, item) for item in advisor.stream(QUESTION)]
    finally:
        del os.environ["OPENAI_API_KEY"]
    return items


@pytest.mark.llm
def test_the_installed_client_library_accepts_our_request(server):
    """`chat_model` hands the installed openai client only arguments it accepts (httpx2 2.17 rejected an
    `httpx.Timeout` for every user): a real streamed reply from a real OpenAI-compatible server."""
    from advisor.answer.compose.llm import chat_model

    s = Settings.from_env({}, llm="openai:smollm2", llm_max_tokens=8, llm_first_token_timeout=180.0)
    model = chat_model(s, base_url=server.url, api_key=server.api_key)
    pieces = [chunk.content for chunk in model.stream([("user", "Say hello.")])]
    assert "".join(pieces).strip()


@pytest.mark.llm
def test_real_model_streams_checked_sentences_before_the_answer(openai_run):
    *pieces, (t_end, answer) = openai_run
    assert isinstance(answer, Answer) and answer.verification is not None
    v = answer.verification
    assert v.model == "openai:smollm2" and v.tokens > 0 and v.ttft_ms > 0 and v.drafted >= 1
    assert pieces and pieces[0][0] < t_end  # the first sentence came before the draft ended
    assert all(isinstance(p, str) for _, p in pieces)


@pytest.mark.llm
def test_real_model_answer_keeps_only_what_the_checks_allow(openai_run):
    answer = openai_run[-1][1]
    v = answer.verification
    for s in v.sentences:
        if s.kept and s.factual:
            assert s.cited and s.support >= 0.61
            cited_text = " ".join(answer.passages[n - 1].chunk.text for n in s.cited)
            assert numbers_in(s.text) <= numbers_in(cited_text)
    assert all(1 <= n <= len(answer.passages) for n in answer.cited)
    if answer.generator == "extractive":
        assert v.fallback and "extractive answer" in answer.notices[-1]
    else:
        assert answer.text.count("?") <= 1


@pytest.mark.llm
def test_real_first_token_timeout_falls_back(built, embedder, server, monkeypatch):
    from advisor.indexing import CorpusIndex

    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    s = built.with_(llm="openai:smollm2", llm_base_url=server.url, **{**REAL, "llm_first_token_timeout": 0.05})
    answer = Advisor(s, CorpusIndex(s, embedder)).ask("What does a staff engineer own?")
    assert answer.generator == "extractive" and "longer than 0.05 s" in answer.notices[-1]


@pytest.mark.llm
def test_server_stopped_mid_conversation_falls_back(built, embedder, smollm2, monkeypatch):
    from advisor.indexing import CorpusIndex

    own = LocalServer(smollm2, n_ctx=2048, threads=1)
    monkeypatch.setenv("OPENAI_API_KEY", own.api_key)
    try:
        s = built.with_(llm="openai:smollm2", llm_base_url=own.start(), **REAL)
        advisor = Advisor(s, CorpusIndex(s, embedder))
        first = advisor.ask(QUESTION)
        assert first.verification.tokens > 0  # the model really answered the first turn
    finally:
        own.stop()
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first.text}]
    second = advisor.ask("And what comes after that level?", history)
    assert second.generator == "extractive" and "cannot reach the LLM" in second.notices[-1]
    assert second.verification.fallback and second.text


@pytest.mark.llm
def test_cli_local_model_answers_offline_and_stops_its_server(built, smollm2, tmp_path):
    """`ADVISOR_LLM=local:smollm2-135m advisor ask --json`: the advisor starts and stops xllamacpp itself."""
    env = {
        **os.environ,
        "ADVISOR_CORPUS_DIR": str(built.corpus_dir),
        "ADVISOR_DATA_DIR": str(built.data_dir),
        "ADVISOR_MODELS_DIR": str(smollm2.parent.parent),
        "ADVISOR_LLM": "local:smollm2-135m",
        "ADVISOR_LLM_PASSAGES": "2",
        "ADVISOR_LLM_MAX_TOKENS": "32",
        "ADVISOR_LLM_CONTEXT": "2048",
        "ADVISOR_LLM_THREADS": "1",
        "ADVISOR_LLM_FIRST_TOKEN_TIMEOUT": "180",
    }
    before = set(_servers_of(smollm2))
    r = subprocess.run(
        [str(BIN), "ask", "--json", "What does a staff engineer own?"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["verification"]["model"] == "local:smollm2-135m" and data["verification"]["tokens"] > 0
    assert data["generator"] in ("llm", "extractive") and data["answer"]
    assert set(_servers_of(smollm2)) <= before  # the child it started is gone


def _servers_of(model: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-f", f"local_server {model}"], capture_output=True, text=True)
    return found.stdout.split()
