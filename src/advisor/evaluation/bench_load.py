"""Load benchmark (issue 9 "Load"): the real server answering 20 concurrent conversations x 5 questions
through the Gradio API while the corpus is reindexed by the CLI and by the UI's Reindex button.

`advisor bench --only load` records request latency p50/p95 idle (one conversation at a time), under
the same load without a reindex, and under load while reindexing, plus how many requests overlapped
an embedding run. `tests/test_under_load.py` drives the same functions and asserts that every
request was answered. Latencies are measured by the client, end to end (queue included).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from advisor.evaluation.servers import BIN, free_port, wait_for_port

CONVERSATIONS = 20
TURNS = 5
ROOT = Path(__file__).resolve().parents[3]
UI_ERRORS = ("Something went wrong", "cannot read my sources", "No answer came back")
HTTPX = {"timeout": 600}  # a slow answer is measured, not turned into a client-side error


@dataclass
class Request:
    """One question of one conversation: when it ran, how long it took, what came back."""

    conversation: int
    question: str
    start: float
    seconds: float
    answer: str = ""
    error: str | None = None


@dataclass
class Reindex:
    """One reindex run during the load: which path, when, and what it reported."""

    how: str
    start: float
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class LoadRun:
    requests: list[Request] = field(default_factory=list)
    reindexes: list[Reindex] = field(default_factory=list)


def golden_questions() -> list[str]:
    """Questions of the dev golden set, answerable and not, in file order."""
    lines = (ROOT / "evals" / "dev" / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def conversations(n: int = CONVERSATIONS, turns: int = TURNS) -> list[list[str]]:
    """`n` conversations of `turns` questions each, cycling through the golden questions."""
    qs = golden_questions()
    return [[qs[(c * turns + t) % len(qs)] for t in range(turns)] for c in range(n)]


def server_env(corpus: Path, data: Path) -> dict[str, str]:
    return {**os.environ, "ADVISOR_CORPUS_DIR": str(corpus), "ADVISOR_DATA_DIR": str(data)}


def start_server(corpus: Path, data: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`advisor serve` on a free loopback port over `corpus` and `data`; returns the process and URL."""

    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "advisor"), "serve", "--port", str(port)], env=server_env(corpus, data), stdout=out, stderr=out
        )
    if not wait_for_port(port, proc, timeout=600):
        proc.kill()
        raise RuntimeError("server did not start: " + log.read_text()[-2000:])
    return proc, f"http://127.0.0.1:{port}"


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def _text(content: object) -> str:
    """The text of a chat message's content (a string, a typed part, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    if isinstance(content, list):
        return "".join(_text(part) for part in content)
    return ""


def _messages(output: object) -> list:
    """The chat messages in one output of the `ask` endpoint (a plain list or a Chatbot update)."""
    value = output.get("value") if isinstance(output, dict) else output
    if isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value):
        return value
    return []


def _last_answer(chatbot: object) -> str:
    """The text of the last assistant message of a Gradio chatbot value."""
    for message in reversed(chatbot if isinstance(chatbot, list) else []):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return _text(message.get("content"))
    return ""


def converse(url: str, conversation: int, questions: Sequence[str], t0: float, pause: float) -> list[Request]:
    """One conversation through the `ask` endpoint, each question with the chat so far as history."""
    from gradio_client import Client

    client = Client(url, verbose=False, httpx_kwargs=HTTPX, download_files=False)  # the export: not needed
    chat: list = []
    out = []
    for q in questions:
        start = time.perf_counter()
        req = Request(conversation, q, start - t0, 0.0)
        try:
            result = client.predict(q, chat, 5, api_name="/ask")  # question, chat so far, k -> chat, ...
            chat = next((m for v in result if (m := _messages(v))), [])
            req.answer = _last_answer(chat)
            if not req.answer.strip() or any(e in req.answer for e in UI_ERRORS):
                req.error = f"no answer: {req.answer[:200]!r}"
        except Exception as exc:  # recorded, asserted by the test, counted by the benchmark
            req.error = f"{type(exc).__name__}: {exc}"
        req.seconds = time.perf_counter() - start
        out.append(req)
        time.sleep(pause)
    return out


def reindex_cli(corpus: Path, data: Path, t0: float, full: bool = False) -> Reindex:
    """`advisor index` (or `--full`) in its own process, against the data dir the server reads."""
    start = time.perf_counter()
    cmd = [str(BIN / "advisor"), "index", "--json", *(["--full"] if full else [])]
    done = subprocess.run(cmd, env=server_env(corpus, data), capture_output=True, text=True, timeout=900)
    detail = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else done.stderr
    how = "cli --full" if full else "cli"
    return Reindex(how, start - t0, time.perf_counter() - start, done.returncode == 0, detail[-500:])


def reindex_button(url: str, t0: float) -> Reindex:
    """The UI's "Reindex corpus" button, through its API endpoint."""
    from gradio_client import Client

    start = time.perf_counter()
    try:
        outputs = Client(url, verbose=False, httpx_kwargs=HTTPX, download_files=False).predict(api_name="/on_reindex")
        ok, detail = "documents" in str(outputs), str(outputs)
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Reindex("ui button", start - t0, time.perf_counter() - start, ok, detail[-500:])


def add_document(corpus: Path, name: str, copies: int = 2) -> None:
    """A new corpus file made of renamed editions of an existing one: real text that must be embedded."""
    source = sorted(corpus.glob("*.md"))[0].read_text(encoding="utf-8")
    front, _, body = source.partition("\n---\n")
    parts = [body.replace("# ", f"# {name} edition {i + 1}: ", 1) for i in range(copies)]
    (corpus / f"{name}.md").write_text(f"---\ntitle: {name}\nkind: article\n---\n" + "\n".join(parts), "utf-8")


def run_load(
    url: str,
    corpus: Path,
    data: Path,
    reindex: bool = True,
    full: bool = False,
    n: int = CONVERSATIONS,
    turns: int = TURNS,
    pause: float = 0.5,
) -> LoadRun:
    """`n` concurrent conversations; with `reindex`, a CLI index after adding a file, then the UI button
    after adding another, both while the conversations run."""
    run = LoadRun()
    t0 = time.perf_counter()
    convs = conversations(n, turns)

    def reindexing() -> None:
        add_document(corpus, "load-test-cli")
        run.reindexes.append(reindex_cli(corpus, data, t0, full=full))
        add_document(corpus, "load-test-button")
        button = reindex_button(url, t0)
        if "Cannot find a function" in button.detail:  # the UI keeps its Reindex button off the API
            button = reindex_cli(corpus, data, t0, full=full)
            button.how += " (button not exposed through the API)"
        run.reindexes.append(button)

    worker = threading.Thread(target=reindexing) if reindex else None
    if worker:
        worker.start()
    with ThreadPoolExecutor(max_workers=n) as pool:
        for requests in pool.map(lambda c: converse(url, c, convs[c], t0, pause), range(n)):
            run.requests += requests
    if worker:
        worker.join()
    return run


def overlapping(run: LoadRun) -> list[Request]:
    """Requests that were in flight while a reindex ran."""
    spans = [(r.start, r.start + r.seconds) for r in run.reindexes]
    return [q for q in run.requests if any(q.start < end and q.start + q.seconds > start for start, end in spans)]


def _stats(requests: Sequence[Request]) -> dict:
    from advisor.evaluation.bench import p

    ms = [r.seconds * 1000 for r in requests]
    return {
        "requests": len(requests),
        "errors": sum(r.error is not None for r in requests),
        "p50_ms": p(ms, 50),
        "p95_ms": p(ms, 95),
        "max_ms": round(max(ms), 1) if ms else 0.0,
    }


def run(work: Path, log: Callable[[str], None]) -> dict:
    """Idle, loaded and loaded-while-reindexing latency of the real server on a copy of the corpus."""
    from advisor.indexing import CorpusIndex
    from advisor.settings import Settings

    corpus, data = work / "corpus", work / "index"
    shutil.copytree(Settings.from_env().corpus_dir, corpus)
    log("load: building the index of a copy of the corpus")
    CorpusIndex(Settings.from_env({}, corpus_dir=corpus, data_dir=data)).update(progress=False)
    results: dict = {"conversations": CONVERSATIONS, "turns": TURNS, "cores": os.cpu_count()}
    proc, url = start_server(corpus, data, work / "server.log")
    try:
        log("load: idle (one conversation at a time)")
        idle = LoadRun()
        t0 = time.perf_counter()
        for c, questions in enumerate(conversations()):
            idle.requests += converse(url, c, questions, t0, pause=0.0)
        results["idle"] = _stats(idle.requests)
        log("load: 20 concurrent conversations, no reindex")
        results["loaded"] = _stats(run_load(url, corpus, data, reindex=False).requests)
        for name, full in (("reindex", False), ("reindex_full", True)):
            log(f"load: 20 concurrent conversations while reindexing ({'cli --full' if full else 'cli'} + ui button)")
            loaded = run_load(url, corpus, data, reindex=True, full=full)
            stats = _stats(loaded.requests)
            stats["during_reindex"] = _stats(overlapping(loaded))
            stats["reindexes"] = [
                {"how": r.how, "seconds": round(r.seconds, 2), "ok": r.ok, "detail": r.detail} for r in loaded.reindexes
            ]
            results[name] = stats
            for path in corpus.glob("load-test-*.md"):
                path.unlink()
    finally:
        stop_server(proc)
    results["load_average"] = round(os.getloadavg()[0], 1)  # other work on the machine skews every number
    idle_p95 = results["idle"]["p95_ms"] or 1.0
    for name in ("loaded", "reindex", "reindex_full"):
        results[name]["p95_over_idle_p95"] = round(results[name]["p95_ms"] / idle_p95, 2)
    return results


def markdown(results: dict) -> str:
    """The `load` section of benchmarks/results.md."""
    rows = [
        ("idle: one conversation at a time", results["idle"]),
        (f"{results['conversations']} concurrent conversations, no reindex", results["loaded"]),
        ("same, while `advisor index` + the Reindex button run", results["reindex"]),
        ("  requests in flight during those reindexes", results["reindex"]["during_reindex"]),
        ("same, while `advisor index --full` + the Reindex button run", results["reindex_full"]),
        ("  requests in flight during those reindexes", results["reindex_full"]["during_reindex"]),
    ]
    lines = [
        "",
        f"## Load: {results['conversations']} conversations x {results['turns']} questions through the Gradio API",
        "",
        "| run | requests | errors | p50 ms | p95 ms | max ms | p95 / idle p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, s in rows:
        ratio = s.get("p95_over_idle_p95", "")
        lines.append(
            f"| {label} | {s['requests']} | {s['errors']} | {s['p50_ms']} | {s['p95_ms']} | {s['max_ms']} | {ratio} |"
        )
    lines += ["", "| reindex during load | seconds | ok |", "|---|---|---|"]
    for name in ("reindex", "reindex_full"):
        for r in results[name]["reindexes"]:
            lines.append(f"| {r['how']} | {r['seconds']} | {r['ok']} |")
    if "load_average" in results:
        lines += ["", f"Load average at the end: {results['load_average']} on {results['cores']} cores."]
    lines += ["", "Goal: p95 under load ≤ 10x idle p95; no request waits for an embedding run.", ""]
    return "\n".join(lines)
