"""The advisor as LangChain parts, for people who compose chains: a retriever and the whole answer.

- `AdvisorRetriever(k=5)`: a `BaseRetriever` over the published index (settings from the
  `ADVISOR_*` environment). It returns `Document`s whose metadata holds the passage's `source`,
  `title`, `section`, `score`, `rank` and chunk `id`. It reads; it never builds an index.
- `answer_chain()`: a `Runnable` taking `{"question": str, "history": [{"role", "content"}, ...]}` and
  giving the `Answer` as the dict of `advisor ask --json`. `stream`/`astream` yield `{"delta": text}`
  pieces as the answer is produced, then that dict.

Importing this module switches every library's telemetry off (`advisor.privacy`); LangSmith tracing
stays off unless the user's own environment turns it on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, PrivateAttr

from advisor.privacy import disable_telemetry

disable_telemetry(keep_user_tracing=True)

from advisor.pipeline import Advisor  # noqa: E402 (after the telemetry switches, as in the CLI)
from advisor.schema import Answer, Passage  # noqa: E402
from advisor.settings import Settings  # noqa: E402


def passage_document(passage: Passage) -> Document:
    """One retrieved passage as a LangChain `Document` (its text, and where it comes from in metadata)."""
    chunk = passage.chunk
    return Document(
        page_content=chunk.text,
        id=chunk.id,
        metadata={
            "id": chunk.id,
            "source": chunk.source,
            "title": chunk.title,
            "section": chunk.section,
            "score": round(float(passage.score), 4),
            "rank": passage.rank,
        },
    )


class AdvisorRetriever(BaseRetriever):
    """The advisor's hybrid retrieval (dense + BM25, fused) as a LangChain retriever.

    Constructible with only `k`; the index is the one the `ADVISOR_*` environment names (or pass
    `settings`, or an existing `advisor` to share its loaded model and snapshot)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    k: int = 5
    settings: Settings | None = None
    _advisor: Advisor | None = PrivateAttr(default=None)

    def __init__(self, advisor: Advisor | None = None, **data: Any) -> None:
        super().__init__(**data)
        self._advisor = advisor

    @property
    def advisor(self) -> Advisor:
        if self._advisor is None:
            self._advisor = Advisor(self.settings or Settings.from_env())
        return self._advisor

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        retrieval = self.advisor.retriever.retrieve(query, k=k)
        return [passage_document(p) for p in retrieval.passages[:k]]


class AnswerChain(Runnable[dict, dict]):
    """The whole answer (condense, retrieve, judge, compose) as a `Runnable` over the advisor."""

    def __init__(self, advisor: Advisor | None = None, settings: Settings | None = None) -> None:
        self._advisor = advisor
        self._settings = settings

    @property
    def advisor(self) -> Advisor:
        if self._advisor is None:
            self._advisor = Advisor(self._settings or Settings.from_env())
        return self._advisor

    @staticmethod
    def _question(input: dict | str) -> tuple[str, list]:
        if isinstance(input, str):
            return input, []
        if not isinstance(input, dict) or "question" not in input:
            raise ValueError('the input must be {"question": str, "history": [...]} or a question string')
        return input["question"], list(input.get("history") or [])

    def _ask(self, input: dict | str) -> dict:
        question, history = self._question(input)
        return self.advisor.ask(question, history).to_json()

    def invoke(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        return self._call_with_config(self._ask, input, config)

    def _pieces(self, input: dict | str) -> Iterator[dict]:
        question, history = self._question(input)
        for item in self.advisor.stream(question, history):
            yield item.to_json() if isinstance(item, Answer) else {"delta": item}

    def stream(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[dict]:
        yield from self._transform_stream_with_config(iter([input]), self._transform, config)

    def _transform(self, inputs: Iterator[dict | str]) -> Iterator[dict]:
        for input in inputs:
            yield from (piece for piece in self._pieces(input) if piece.get("delta") != "")

    async def astream(
        self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict]:
        pieces = self._pieces(input)
        done = object()
        while (piece := await run_in_executor(config, next, pieces, done)) is not done:
            if piece.get("delta") != "":
                yield piece


def answer_chain(advisor: Advisor | None = None, settings: Settings | None = None) -> AnswerChain:
    """The advisor's answer as a LangChain `Runnable` (`invoke`, `stream`, `batch`, `astream`)."""
    return AnswerChain(advisor, settings)
