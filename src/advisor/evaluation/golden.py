"""The eval harness: golden Q&A (CONTRACTS.md section 2) through `Advisor.ask`, metrics, reports.

Metrics are plain functions of one item's answer (`score_item`) aggregated by `summarize`; the
runner replays `history` turns first; `write_reports` writes results.jsonl, summary.json, report.md
and report.html (with PNG plots). Ablations run the same set under several options side by side.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.schema import SourceDocument
from advisor.settings import Settings
from advisor.text import MARKER, NUMBER, markers_valid

ANSWER_METRICS = (  # per answerable item, averaged
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr",
    "evidence_recall@5",
    "answer_includes_recall",
    "lead",
    "citation_hit",
    "citation_valid",
    "numbers_grounded",
)
MAIN_METRICS = (*ANSWER_METRICS, "refusal_recall", "false_refusal_rate")
STAGES = ("condense", "retrieve", "generate", "total")


class GoldenFormatError(ValueError):
    """A golden file line that does not follow CONTRACTS.md section 2."""


class CorporaError(ValueError):
    """Corpus directories that cannot be indexed together (empty, or a file name in two of them)."""


# -- normalisation and matching (CONTRACTS.md section 2) ------------------------------------------------
_TRANSLATE = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    """NFKC, lower case, en/em dashes as '-', curly quotes straight, whitespace runs as one space."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSLATE)
    return re.sub(r"\s+", " ", text).strip()


def contains(haystack: str, needle: str) -> bool:
    return normalize(needle) in normalize(haystack)


def includes_entry(answer: str, entry: str) -> bool:
    """An `answer_includes` entry: `a|b` accepts either alternative."""
    return any(contains(answer, alt) for alt in entry.split("|") if alt)


def numbers_in(text: str) -> set[str]:
    """Numeric atoms of a text ("$1,200K" -> "1200"), citation markers excluded."""
    text = MARKER.sub(" ", normalize(text))
    return {m.group(0).replace(",", "") for m in NUMBER.finditer(text)}


# -- per-item scores ------------------------------------------------------------------------------------------
_CITED_UNIT = re.compile(r".*?\[\d+\](?:\[\d+\])*[.!?:]?")
_ITEM_LINE = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
LEAD_UNITS = 2


def lead_text(answer: str, n: int = LEAD_UNITS) -> str:
    """The first `n` cited lines of an answer: what a reader sees first (pure).

    A cited line is a sentence ending with markers (a paragraph holding several counts as several);
    a cited line ending with ":" introduces a list quoted under that one marker, and its items (and
    the unmarked labels continuing it, "using tools such as:") count as part of it. Framing lines
    without a marker are not counted.
    """
    units: list[str] = []
    lines = answer.splitlines()
    for i, line in enumerate(lines):
        if len(units) >= n:
            break
        for piece in _CITED_UNIT.findall(line.strip()):
            if len(units) >= n:
                break
            if piece.endswith(":"):
                items = []
                for nxt in lines[i + 1 :]:
                    if MARKER.search(nxt):
                        break
                    if _ITEM_LINE.match(nxt) or nxt.strip().endswith(":"):
                        items.append(nxt.strip())
                    elif nxt.strip():
                        break
                piece = "\n".join([piece, *items])
            units.append(piece)
    return "\n".join(units)


def first_hit_rank(passage_texts: Sequence[str], evidence: Sequence[str]) -> int | None:
    """Rank (1-based) of the first passage holding any evidence phrase."""
    for rank, text in enumerate(passage_texts, start=1):
        if any(contains(text, e) for e in evidence):
            return rank
    return None


def score_item(item: dict, answer: dict) -> dict[str, float]:
    """Every metric of one golden item against one answer object (the `ask --json` shape)."""
    texts = [p["text"] for p in answer["passages"]]
    refused = bool(answer["refused"])
    if not item.get("answerable", True):
        return {"refused": float(refused)}
    evidence = item.get("evidence", [])
    rank = first_hit_rank(texts, evidence)
    includes = item.get("answer_includes", [])
    cited_texts = [texts[n - 1] for n in answer["cited"] if 1 <= n <= len(texts)]
    cited_numbers = set().union(*(numbers_in(t) for t in cited_texts)) if cited_texts else set()
    return {
        "hit@1": float(rank is not None and rank <= 1),
        "hit@3": float(rank is not None and rank <= 3),
        "hit@5": float(rank is not None and rank <= 5),
        "mrr": 1.0 / rank if rank else 0.0,
        "evidence_recall@5": (
            sum(any(contains(t, e) for t in texts[:5]) for e in evidence) / len(evidence) if evidence else 1.0
        ),
        "answer_includes_recall": (
            sum(includes_entry(answer["answer"], e) for e in includes) / len(includes) if includes else 1.0
        ),
        "lead": (
            sum(includes_entry(lead_text(answer["answer"]), e) for e in includes) / len(includes) if includes else 1.0
        ),
        "citation_hit": float(any(any(contains(t, e) for e in evidence) for t in cited_texts)),
        "citation_valid": float(markers_valid(answer["answer"], len(texts))),
        "numbers_grounded": float(numbers_in(answer["answer"]) <= cited_numbers),
        "refused": float(refused),
    }


# -- failure attribution -------------------------------------------------------------------------------------
STEPS = ("condensing", "retrieval", "refusal", "composition")

# Function words and question words of English: what a question says about its subject is the rest.
_STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be been before being between both but by can
    could did do does doing done each else even ever for from get gets got had has have having he her here
    hers him his how i if in into is it its itself just know let like may me might more most much must my
    no nor not now of off on once one ones only or other our ours out over please shall she should so some
    still such tell than that the their theirs them then there these they this those through to too under
    up very want was we were what when where which while who whom whose why will with would yes yet you
    your yours""".split()
)
_WORD = re.compile(r"[^\W\d_]+")


def _stem(word: str) -> str:
    """A light plural folding, so 'teachers' and 'teacher' meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """The stemmed content words of a text (letters only, two or more, function words dropped)."""
    words = _WORD.findall(normalize(text))
    return {_stem(w) for w in words if len(w) >= 2 and w not in _STOPWORDS}


def condensing_fault(item: dict, standalone: str, titles: Sequence[str] = ()) -> str | None:
    """Why the standalone question of a follow-up lost its subject, or None if it did not.

    Only for answerable items with `history`; words are `content_words`. *Carried* words are those
    of the earlier user turns that the question as asked lacks: what only the conversation can
    supply. *Expected* words are those of the item's evidence phrases and answer_includes entries;
    *titles* are the titles of the documents holding the evidence. The subject is lost when:

    1. the standalone question lacks a carried word that the expected words hold ("Which one pays
       more?" after a comparison must keep both sides); else, when no carried word is expected,
    2. the question shares no word with the expected words and titles (it leans on the conversation
       for its subject) and the standalone question kept no carried word (left as is); or
    3. the question shares a word with them (it names its own subject) and the standalone question
       added carried words, none of which the expected words or titles hold (an older subject was
       given to a question that named its own: "What about X?" becoming "What about X for Y?").
    """
    history = item.get("history") or []
    if not history or not item.get("answerable", True):
        return None
    asked = content_words(item["question"])
    carried = set().union(*(content_words(t) for t in history)) - asked
    expected = content_words(" ".join([*item.get("evidence", []), *item.get("answer_includes", [])]).replace("|", " "))
    around = expected | content_words(" ".join(titles))
    kept = content_words(standalone) & carried
    needed = carried & expected
    if needed:
        missing = needed - kept
        return f"the standalone question lost {', '.join(sorted(missing))}" if missing else None
    if not asked & around:
        return None if kept else "the follow-up was left without the subject of the conversation"
    if kept and not kept & around:
        return f"an older subject ({', '.join(sorted(kept))}) was added to a question naming its own"
    return None


def evidence_titles(item: dict, documents: Sequence[tuple[str, str]]) -> list[str]:
    """Titles of the documents, given as (title, normalized text) pairs, holding an evidence phrase."""
    phrases = [normalize(e) for e in item.get("evidence", [])]
    return [title for title, text in documents if any(p in text for p in phrases)]


def attribute(
    item: dict, scores: dict[str, float], standalone: str | None = None, titles: Sequence[str] = ()
) -> tuple[str | None, str]:
    """The pipeline step a failing item fails at, and why; (None, "") for a success.

    Steps are checked in pipeline order and the earliest failing one is blamed: an unanswerable
    item that was answered is `refusal`; for answerable items, `condensing` when the item has
    history, fails downstream and `condensing_fault` says the standalone question lost the subject;
    `retrieval` when no evidence phrase is in the top 5 passages; `refusal` when it was refused
    although evidence was retrieved; `composition` when the answer misses an answer_includes entry,
    cites no evidence passage, or holds an invalid marker or an ungrounded number.
    """
    if not item.get("answerable", True):
        return (None, "") if scores["refused"] == 1.0 else ("refusal", "answered a question the corpus does not answer")
    problems = []
    if scores["hit@5"] < 1.0:
        problems.append(("retrieval", "no evidence phrase in the top 5 passages"))
    if scores["refused"] == 1.0:
        problems.append(("refusal", "refused although the corpus answers it"))
    composed = [
        label
        for key, label in (
            ("answer_includes_recall", "lacks an answer_includes entry"),
            ("citation_hit", "cites no passage holding evidence"),
            ("citation_valid", "has a marker without a passage"),
            ("numbers_grounded", "states a number no cited passage holds"),
        )
        if scores[key] < 1.0
    ]
    if composed and scores["refused"] == 0.0:
        problems.append(("composition", "the answer " + "; ".join(composed)))
    if not problems:
        return None, ""
    fault = condensing_fault(item, standalone, titles) if standalone is not None else None
    if fault:
        return "condensing", fault
    return problems[0]


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def summarize(
    items: Sequence[dict],
    scores: Sequence[dict],
    timings: Sequence[dict],
    failures: Sequence[str | None] | None = None,
) -> dict:
    """Aggregate metrics: answerable-item means, refusal rates, latency p50/p95 per stage, and
    (given each item's failing step) the number of failures per step."""
    answerable = [s for i, s in zip(items, scores, strict=True) if i.get("answerable", True)]
    unanswerable = [s for i, s in zip(items, scores, strict=True) if not i.get("answerable", True)]
    out: dict[str, float | int | None] = {"items": len(items), "answerable": len(answerable)}
    for m in ANSWER_METRICS:
        out[m] = round(float(np.mean([s[m] for s in answerable])), 4) if answerable else None
    out["refusal_recall"] = round(float(np.mean([s["refused"] for s in unanswerable])), 4) if unanswerable else None
    out["false_refusal_rate"] = round(float(np.mean([s["refused"] for s in answerable])), 4) if answerable else None
    for stage in STAGES:
        vals = [t[stage] for t in timings if stage in t]
        out[f"latency_{stage}_p50_ms"] = round(percentile(vals, 50), 2)
        out[f"latency_{stage}_p95_ms"] = round(percentile(vals, 95), 2)
    if failures is not None:
        out["failures"] = {step: sum(1 for f in failures if f == step) for step in STEPS}
    return out


# -- golden files -------------------------------------------------------------------------------------------
def load_golden(paths: Iterable[Path]) -> list[dict]:
    """Items of one or more golden files; a malformed line is a one-line error naming file and line."""
    items: list[dict] = []
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise GoldenFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise GoldenFormatError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(item, dict) or not isinstance(item.get("question"), str) or "id" not in item:
                raise GoldenFormatError(f"{path}:{n}: needs at least 'id' and 'question'")
            item.setdefault("evidence", [])
            item.setdefault("answer_includes", [])
            item.setdefault("answerable", True)
            item.setdefault("tags", [])
            items.append(item)
    if not items:
        raise GoldenFormatError("the golden files hold no items")
    return items


def corpus_documents(corpus_dir: Path) -> list[SourceDocument]:
    """The documents of a corpus folder, loaded as indexing loads them (for the per-document scores)."""
    from advisor.ingest.load import load_corpus

    return load_corpus(corpus_dir)[0]


# -- several corpora ----------------------------------------------------------------------------------------
def combine_corpora(corpora: Sequence[Path], target: Path) -> Path:
    """Copy the documents of several corpus directories into one new directory `target`.

    Relative paths are kept; a path found in two corpora is an error (neither copy would win
    silently). The originals are only read.
    """
    from advisor.ingest.load import corpus_files

    target.mkdir(parents=True)
    origin: dict[Path, Path] = {}
    for corpus in corpora:
        corpus = Path(corpus)
        files = corpus_files(corpus)
        if not files:
            raise CorporaError(f"no documents in {corpus} (supported: .md .txt .html .pdf)")
        for path in files:
            rel = path.relative_to(corpus)
            if rel in origin:
                raise CorporaError(f"{rel} is in both {origin[rel]} and {corpus}: rename one of them")
            origin[rel] = corpus
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / rel)
    return target


def scratch_settings(settings: Settings, corpora: Sequence[Path], scratch: Path) -> Settings:
    """Settings for an index of several corpora together, all of it under `scratch`.

    The corpora are copied into `scratch/corpus` and indexed into `scratch/index` with embedded
    Chroma, so the user's own data dir, index and Chroma server are never written. Installed models
    are read where the user has them; exported model files of the user's data dir are copied rather
    than exported again.
    """
    combined = combine_corpora(corpora, scratch / "corpus")
    data_dir = scratch / "index"
    (data_dir / "models").mkdir(parents=True)
    exported = settings.data_dir / "models"
    for path in exported.iterdir() if exported.is_dir() else ():
        if path.is_file():
            shutil.copy2(path, data_dir / "models" / path.name)
    return settings.with_(corpus_dir=combined, data_dir=data_dir, chroma_url=None, models_dir=settings.models_path)


# -- running ---------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """One pass of the golden set under one configuration."""

    label: str
    items: list[dict]
    results: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)

    @property
    def summary(self) -> dict:
        return summarize(
            self.items, self.scores, [r["timings_ms"] for r in self.results], [r["failure"] for r in self.results]
        )

    def per_tag(self) -> dict[str, dict]:
        tags = sorted({t for i in self.items for t in i.get("tags", [])})
        out = {}
        for tag in tags:
            idx = [k for k, i in enumerate(self.items) if tag in i.get("tags", [])]
            out[tag] = summarize(
                [self.items[k] for k in idx],
                [self.scores[k] for k in idx],
                [self.results[k]["timings_ms"] for k in idx],
                [self.results[k]["failure"] for k in idx],
            )
        return out


def run_golden(
    ask: Callable[[str, list[dict]], dict],
    items: Sequence[dict],
    label: str = "default",
    progress: bool = True,
    documents: Sequence[SourceDocument] = (),
) -> Run:
    """Every item through `ask(question, history) -> answer dict`, history turns replayed first.

    `documents` (the corpus) let failure attribution see the titles of the documents holding each
    item's evidence; without them it works from the item alone.
    """
    run = Run(label, list(items))
    docs = [(d.title, normalize(d.text)) for d in documents]
    iterator: Iterable[dict] = items
    if progress:
        from tqdm import tqdm

        iterator = tqdm(items, desc=f"eval {label}", unit="item", leave=False)
    for item in iterator:
        history: list[dict] = []
        turns = []
        for turn in item.get("history") or []:
            answer = ask(turn, history)
            turns.append(answer)
            history += [{"role": "user", "content": turn}, {"role": "assistant", "content": answer["answer"]}]
        answer = ask(item["question"], history)
        scores = score_item(item, answer)
        step, reason = attribute(item, scores, answer["standalone_question"], evidence_titles(item, docs))
        run.results.append(
            {
                "id": item["id"],
                "turns": turns,
                **answer,
                "scores": scores,
                "passed": step is None,
                "failure": step,
                "failure_reason": reason or None,
            }
        )
        run.scores.append(scores)
    return run


# -- reports -------------------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if v <= 1.0 else f"{v:.1f}"
    return str(v)


def comparison_table(runs: Sequence[Run]) -> list[list[str]]:
    """Rows of main metrics and latency, one column per run."""
    summaries = [r.summary for r in runs]
    rows = [["metric", *[r.label for r in runs]]]
    for m in (*MAIN_METRICS, "latency_total_p50_ms", "latency_total_p95_ms"):
        rows.append([m, *[_fmt(s.get(m)) for s in summaries]])
    return rows


def baseline_changes(run: Run, baseline_dir: Path) -> tuple[list[list[str]], list[str]]:
    """Metric deltas against an earlier run's summary, and items whose pass/fail flipped."""
    try:
        old_summary = json.loads((baseline_dir / "summary.json").read_text())["overall"]
        old_results = {
            r["id"]: r for r in map(json.loads, (baseline_dir / "results.jsonl").read_text().splitlines()) if r
        }
    except (OSError, ValueError, KeyError) as exc:
        raise GoldenFormatError(f"cannot read baseline {baseline_dir}: {exc}") from None
    new = run.summary
    rows = [["metric", "baseline", "now", "change"]]
    for m in MAIN_METRICS:
        a, b = old_summary.get(m), new.get(m)
        delta = "–" if a is None or b is None else f"{b - a:+.3f}"
        rows.append([m, _fmt(a), _fmt(b), delta])
    flips = []
    for r in run.results:
        old = old_results.get(r["id"])
        if old is not None and old.get("passed") != r["passed"]:
            flips.append(f"{r['id']}: {'fixed' if r['passed'] else 'now failing'}")
    return rows, flips


def _md_table(rows: list[list[str]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def _html_table(rows: list[list[str]]) -> str:
    head, *body = rows
    out = ["<table><thead><tr>", *[f"<th>{html.escape(h)}</th>" for h in head], "</tr></thead><tbody>"]
    for r in body:
        out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def plot_metrics_per_tag(run: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_tag = run.per_tag()
    tags = [t for t, s in per_tag.items() if s["answerable"]]
    metrics = ("hit@5", "answer_includes_recall", "citation_hit")
    fig, ax = plt.subplots(figsize=(max(8, len(tags) * 0.6), 4))
    width = 0.8 / len(metrics)
    x = np.arange(len(tags))
    for i, m in enumerate(metrics):
        ax.bar(x + i * width, [per_tag[t][m] or 0 for t in tags], width, label=m)
    ax.set_xticks(x + width, tags, rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics per tag (answerable items)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(run: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = ("condense", "retrieve", "generate", "total")
    data = [[r["timings_ms"].get(s, 0.0) for r in run.results] for s in stages]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.boxplot(data, tick_labels=stages, showfliers=False)
    ax.set_ylabel("ms")
    ax.set_title("Latency per stage (warm)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(
    run: Run,
    out: Path,
    settings: dict,
    ablations: Sequence[Run] = (),
    baseline: Path | None = None,
) -> dict:
    """results.jsonl, summary.json, report.md, report.html and plots under `out`; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for r in run.results:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    summary = {
        "overall": run.summary,
        "per_tag": run.per_tag(),
        "settings": settings,
        "ablations": {r.label: r.summary for r in ablations},
    }
    base_rows, flips = baseline_changes(run, baseline) if baseline else (None, [])
    if base_rows:
        summary["baseline"] = {"dir": str(baseline), "flips": flips}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    plot_metrics_per_tag(run, out / "metrics_per_tag.png")
    plot_latency(run, out / "latency.png")

    overall_rows = [["metric", "value"], *[[m, _fmt(run.summary.get(m))] for m in MAIN_METRICS]]
    for stage in STAGES:
        overall_rows.append(
            [
                f"latency {stage} p50 / p95 ms",
                f"{run.summary[f'latency_{stage}_p50_ms']:.1f} / {run.summary[f'latency_{stage}_p95_ms']:.1f}",
            ]
        )
    tag_rows = [["tag", "items", "hit@5", "mrr", "answer_includes_recall", "citation_hit", "refusal_recall"]]
    for tag, s in summary["per_tag"].items():
        tag_rows.append(
            [
                tag,
                str(s["items"]),
                _fmt(s["hit@5"]),
                _fmt(s["mrr"]),
                _fmt(s["answer_includes_recall"]),
                _fmt(s["citation_hit"]),
                _fmt(s["refusal_recall"]),
            ]
        )
    step_rows = failure_table(summary["overall"], summary["per_tag"])
    failures = [(i, r) for i, r in zip(run.items, run.results, strict=True) if not r["passed"]]

    md = [f"# Eval report: {run.label}", "", f"{len(run.items)} items, {len(failures)} failing.", ""]
    md += ["## Overall", "", _md_table(overall_rows), "", "## Per tag", "", _md_table(tag_rows), ""]
    md += ["## Failures by step", "", FAILURE_NOTE, "", _md_table(step_rows), ""]
    md += ["![metrics per tag](metrics_per_tag.png)", "", "![latency](latency.png)", ""]
    if ablations:
        md += ["## Ablations", "", _md_table(comparison_table(ablations)), ""]
    if base_rows:
        md += [f"## Against baseline `{baseline}`", "", _md_table(base_rows), ""]
        md += [f"- {f}" for f in flips] or ["No item changed pass/fail."]
        md.append("")
    md += ["## Failing items", ""]
    for item, r in failures:
        md += _failure_md(item, r)
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    (out / "report.html").write_text(
        _html_report(run, overall_rows, tag_rows, step_rows, failures, ablations, base_rows, flips, out),
        encoding="utf-8",
    )
    return summary


FAILURE_NOTE = (
    "Each failing item is blamed on the earliest step that fails: condensing (the standalone question "
    "lost the subject), retrieval (no evidence in the top 5), refusal (wrongly refused or answered), "
    "composition (evidence retrieved, but the answer misses an expected entry or cites no evidence)."
)


def failure_table(overall: dict, per_tag: dict[str, dict]) -> list[list[str]]:
    """Rows of failures per step: overall first, then each tag."""
    rows = [["", "items", *STEPS, "passed"]]
    for name, s in [("all", overall), *per_tag.items()]:
        counts = s.get("failures", {})
        rows.append([name, str(s["items"]), *[str(counts.get(step, 0)) for step in STEPS]])
        rows[-1].append(str(s["items"] - sum(counts.values())))
    return rows


def _failure_facts(item: dict, r: dict) -> list[tuple[str, str]]:
    """What a person needs to see why an item failed, as (label, text) pairs."""
    facts = []
    if item.get("history"):
        facts.append(("history", " / ".join(item["history"])))
    facts.append(("standalone", r["standalone_question"]))
    if item.get("answerable", True):
        facts.append(("expected evidence", "; ".join(item["evidence"])))
        facts.append(("expected in answer", "; ".join(item["answer_includes"])))
    else:
        facts.append(("expected", "a refusal"))
    if r.get("failure"):
        facts.append(("failing step", f"{r['failure']}: {r['failure_reason']}"))
    failed = [k for k, v in r["scores"].items() if k not in ("refused", "mrr") and v < 1.0]
    facts.append(("failed checks", ", ".join(failed) or ("refused" if r["refused"] else "answered")))
    return facts


def _failure_md(item: dict, r: dict) -> list[str]:
    lines = [f"### {item['id']}: {item['question']}", ""]
    lines += [f"- {label}: {text}" for label, text in _failure_facts(item, r)]
    lines += ["", "Answer:", "", *["> " + ln for ln in r["answer"].splitlines()], "", "Top passages:", ""]
    for p in r["passages"][:3]:
        lines.append(f"{p['rank']}. *{p['title']} — {p['section']}*: {p['text'][:240]}")
    lines.append("")
    return lines


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _html_report(run, overall_rows, tag_rows, step_rows, failures, ablations, base_rows, flips, out: Path) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>advisor eval</title><style>",
        "body{font:14px system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#1f2937}",
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d1d5db;padding:4px 8px;text-align:left}",
        "th{background:#f3f4f6}.fail{border-left:4px solid #dc2626;padding-left:1em;margin:1.5em 0}",
        "blockquote{background:#f9fafb;margin:0;padding:.5em 1em;white-space:pre-wrap}img{max-width:100%}",
        "</style></head><body>",
        f"<h1>Eval report: {e(run.label)}</h1><p>{len(run.items)} items, {len(failures)} failing.</p>",
        "<h2>Overall</h2>",
        _html_table(overall_rows),
        "<h2>Per tag</h2>",
        _html_table(tag_rows),
        _img(out / "metrics_per_tag.png"),
        _img(out / "latency.png"),
        "<h2>Failures by step</h2>",
        f"<p>{e(FAILURE_NOTE)}</p>",
        _html_table(step_rows),
    ]
    if ablations:
        parts += ["<h2>Ablations</h2>", _html_table(comparison_table(ablations))]
    if base_rows:
        parts += ["<h2>Against baseline</h2>", _html_table(base_rows), "<ul>"]
        parts += [f"<li>{e(f)}</li>" for f in flips] + ["</ul>"]
    parts.append("<h2>Failing items</h2>")
    for item, r in failures:
        parts.append(f"<div class='fail'><h3>{e(item['id'])}: {e(item['question'])}</h3><ul>")
        parts += [f"<li>{e(label)}: {e(text)}</li>" for label, text in _failure_facts(item, r)]
        parts.append(f"</ul><blockquote>{e(r['answer'])}</blockquote><ol>")
        for p in r["passages"][:3]:
            parts.append(f"<li><b>{e(p['title'])} — {e(str(p['section']))}</b>: {e(p['text'][:240])}</li>")
        parts.append("</ol></div>")
    parts.append("</body></html>")
    return "".join(parts)
