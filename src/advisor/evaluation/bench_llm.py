"""Benchmark section `llm`: the advisor's own overhead on the LLM path next to the raw model.

One xllamacpp server: the registry model of ADVISOR_LLM=local:<name>, else smollm2-135m; the section
is skipped when that model is not installed (nothing is downloaded at run time). For each question:
the advisor's full streamed answer (retrieval, prompt, model, per-sentence checks), then the raw model
on the very same messages. The advisor's own work is condense + retrieve (its `timings_ms`) plus judge,
prompt and checks, replayed over the recorded draft with a fake model so that no model time is in it.
Overhead % = that work / the raw model's time for the same prompt (target at most 5%). Also: time to
first token, tokens/s, time to the first checked sentence, and the wall-clock difference advisor vs raw
(noisy: the machine is shared).

    advisor bench --only llm
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from advisor import weights
from advisor.evaluation.bench import golden_questions
from advisor.settings import Settings


def _model_name(settings: Settings) -> str:
    """The registry model of ADVISOR_LLM=local:<name>, else the small SmolLM2 (`make test` installs it)."""
    if settings.llm and settings.llm.startswith("local:") and settings.llm[6:] in weights.REGISTRY:
        return settings.llm[6:]
    return "smollm2-135m"


def run(work: Path, log: Callable[[str], None]) -> dict:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from advisor.answer.compose.extractive import ExtractiveGenerator
    from advisor.answer.compose.llm import LLMGenerator, build_messages, chat_model, stream_with_timeouts
    from advisor.answer.compose.local_server import LocalServer
    from advisor.indexing import CorpusIndex
    from advisor.pipeline import Advisor

    env = Settings.from_env()
    name = _model_name(env)
    path = weights.path_of(name, env.models_path)
    if path is None:  # nothing is downloaded at run time
        log(f"llm: skipped, {name} is not installed (advisor models install {name})")
        return {"skipped": f"{name} is not installed in {env.models_path}: run `advisor models install {name}`"}
    shutil.copytree(env.corpus_dir, work / "corpus")
    settings = env.with_(
        corpus_dir=work / "corpus",
        data_dir=work / "index",
        generator="llm",
        llm=f"openai:{name}",
        llm_first_token_timeout=600.0,
        llm_timeout=1200.0,
        llm_max_tokens=160,
    )
    log(f"llm: indexing, then starting {name} on 127.0.0.1")
    index = CorpusIndex(settings)
    index.update(progress=False)
    server = LocalServer(path, settings.llm_context, settings.llm_threads or 1, settings.llm_load_timeout)
    t0 = time.perf_counter()
    url = server.start()
    load_s = time.perf_counter() - t0
    try:
        # no prompt cache: the advisor and the raw run send the same prompt and must both pay its prefill
        model = chat_model(settings, base_url=url, api_key=server.api_key).model_copy(
            update={"extra_body": {"cache_prompt": False}}
        )
        base = Advisor(settings, index)
        base.warm_up()
        sentences = base.retriever.sentences

        def llm_generator(factory):
            fallback = ExtractiveGenerator(sentences)
            return LLMGenerator(settings, sentences, base._embed, fallback, model_factory=factory)

        advisor = Advisor(settings, index, generator=llm_generator(lambda: model))
        next(iter(model.stream([("human", "Say OK.")])))  # warm the server
        rows = []
        for q in golden_questions(3):
            log(f"llm: {q}")
            t0 = time.perf_counter()
            answer = advisor.ask(q)
            advisor_s = time.perf_counter() - t0
            v = answer.verification
            passages = answer.passages[: settings.llm_passages]
            chars = llm_generator(None)._passage_chars(len(passages))
            t0 = time.perf_counter()
            messages = build_messages(answer.standalone_question, passages, (), chars)
            prompt_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            draft, ttft = [], None
            for piece, _ in stream_with_timeouts(model, messages, 600.0, 1200.0):
                if piece and ttft is None:
                    ttft = time.perf_counter() - t0
                draft.append(piece)
            raw_s = time.perf_counter() - t0
            text = "".join(draft)

            def replay_model(recorded: str = text or " ") -> GenericFakeChatModel:
                return GenericFakeChatModel(messages=iter([AIMessage(content=recorded)]))

            replay = Advisor(settings, index, generator=llm_generator(replay_model))
            replayed = replay.ask(q)
            pipeline_ms = replayed.timings_ms["condense"] + replayed.timings_ms["retrieve"]
            checks_ms = replayed.timings_ms["generate"]  # judge, prompt, splitting, checks (the fake model is instant)
            own_ms = pipeline_ms + checks_ms
            tokens = sum(1 for d in draft if d)
            rows.append(
                {
                    "question": q,
                    "generator": answer.generator,
                    "drafted": v.drafted if v else 0,
                    "kept": v.kept if v else 0,
                    "fallback": v.fallback if v else None,
                    "retrieval_ms": round(pipeline_ms, 1),
                    "prompt_ms": round(prompt_ms, 2),
                    "checks_ms": round(checks_ms, 1),
                    "own_ms": round(own_ms, 1),
                    "raw_model_s": round(raw_s, 2),
                    "overhead_pct": round(100 * own_ms / (raw_s * 1000), 2),
                    "advisor_wall_s": round(advisor_s, 2),
                    "raw_ttft_s": round(ttft or 0.0, 2),
                    "advisor_ttft_s": round((v.ttft_ms or 0) / 1000, 2) if v else None,
                    "first_checked_sentence_s": (
                        round(v.first_sentence_ms / 1000, 2) if v and v.first_sentence_ms is not None else None
                    ),
                    "raw_tokens": tokens,
                    "raw_tokens_per_s": round(tokens / max(raw_s - (ttft or 0), 1e-6), 1),
                }
            )
    finally:
        server.stop()
    return {
        "model": name,
        "threads": settings.llm_threads or 1,
        "load_s": round(load_s, 1),
        "max_tokens": settings.llm_max_tokens,
        "passages": settings.llm_passages,
        "rows": rows,
        "overhead_pct_median": round(statistics.median(r["overhead_pct"] for r in rows), 2),
        "overhead_pct_max": max(r["overhead_pct"] for r in rows),
    }


def markdown(results: dict) -> str:
    if "skipped" in results:
        return f"## LLM path: the advisor's overhead next to the raw model\n\nSkipped: {results['skipped']}.\n"
    lines = [
        "## LLM path: the advisor's overhead next to the raw model",
        "",
        f"Model `{results['model']}` on xllamacpp ({results['threads']} threads, loaded in {results['load_s']} s), "
        f"{results['passages']} passages, at most {results['max_tokens']} tokens. Own work = condense + retrieve "
        "+ judge + prompt + sentence checks (replayed on the recorded draft without the model). "
        "Target: at most 5% of the model's time. "
        f"Median {results['overhead_pct_median']}%, max {results['overhead_pct_max']}%.",
        "",
        "| question | condense + retrieve ms | prompt build ms | judge + prompt + checks ms | raw model s | overhead "
        "| TTFT raw / advisor s | first checked sentence s | tokens/s | drafted / kept | answered by |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['question']} | {r['retrieval_ms']} | {r['prompt_ms']} | {r['checks_ms']} | {r['raw_model_s']} | "
            f"{r['overhead_pct']}% | {r['raw_ttft_s']} / {r['advisor_ttft_s']} | "
            f"{r['first_checked_sentence_s'] or '—'} | "
            f"{r['raw_tokens_per_s']} | {r['drafted']} / {r['kept']} | {r['generator']} |"
        )
    return "\n".join(lines) + "\n"
