"""The reports of a golden run (`advisor eval --out DIR`): results.jsonl, summary.json, report.md,
report.html and the plots, with ablations side by side, changes against a baseline run and the failed
items attributed to a step. Scoring and attribution are `evaluation/golden.py`'s."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from advisor.evaluation.golden import MAIN_METRICS, STAGES, STEPS, GoldenFormatError, Run


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
    per_file = run.per_file()
    if per_file:
        summary["per_file"] = per_file
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
    file_rows = file_table(per_file)
    step_rows = failure_table(summary["overall"], summary["per_tag"])
    failures = [(i, r) for i, r in zip(run.items, run.results, strict=True) if not r["passed"]]

    md = [f"# Eval report: {run.label}", "", f"{len(run.items)} items, {len(failures)} failing.", ""]
    md += ["## Overall", "", _md_table(overall_rows), ""]
    if file_rows:
        md += ["## Per golden file", "", _md_table(file_rows), ""]
    md += ["## Per tag", "", _md_table(tag_rows), ""]
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
        _html_report(run, overall_rows, file_rows, tag_rows, step_rows, failures, ablations, base_rows, flips, out),
        encoding="utf-8",
    )
    return summary


FAILURE_NOTE = (
    "Each failing item is blamed on the earliest step that fails: condensing (the standalone question "
    "lost the subject), retrieval (no evidence in the top 5), refusal (wrongly refused or answered), "
    "composition (evidence retrieved, but the answer misses an expected entry or cites no evidence)."
)


FILE_COLUMNS = (
    "hit@5",
    "mrr",
    "answer_includes_recall",
    "lead",
    "citation_hit",
    "refusal_recall",
    "false_refusal_rate",
)


SUMMARY_LINE = (  # what `advisor eval` prints of a whole run; FILE_COLUMNS: of each golden file
    "hit@5",
    "mrr",
    "answer_includes_recall",
    "lead",
    "citation_valid",
    "numbers_grounded",
    "refusal_recall",
    "false_refusal_rate",
)


def metrics_line(summary: dict, metrics: Sequence[str]) -> str:
    """ "N items: hit@5 0.900, ..." for a summary; a metric with no items to measure it on reads "–" (pure)."""
    values = ", ".join(f"{m} {'–' if summary[m] is None else format(summary[m], '.3f')}" for m in metrics)
    return f"{summary['items']} items: {values}"


def file_table(per_file: dict[str, dict]) -> list[list[str]]:
    """Rows of the main metrics per golden file (none for a single file)."""
    if not per_file:
        return []
    rows = [["golden file", "items", *FILE_COLUMNS]]
    rows += [[name, str(s["items"]), *[_fmt(s[m]) for m in FILE_COLUMNS]] for name, s in per_file.items()]
    return rows


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


def _html_report(
    run, overall_rows, file_rows, tag_rows, step_rows, failures, ablations, base_rows, flips, out: Path
) -> str:
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
        *(["<h2>Per golden file</h2>", _html_table(file_rows)] if file_rows else []),
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
