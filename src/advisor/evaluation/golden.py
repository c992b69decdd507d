"""The eval harness: golden Q&A (CONTRACTS.md section 2) through `Advisor.ask`, metrics, attribution.

Metrics are plain functions of one item's answer (`score_item`) aggregated by `summarize`; the
runner replays `history` turns first; failures are attributed to a step (`attribute`). The reports
(`evaluation/reports.py`, `write_reports`) show a run and its ablations side by side.
"""

from __future__ import annotations

import hashlib
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
from advisor.text import MARKER, NUMBER, lead_text, markers_valid

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


GOLDEN_FILE = "_golden_file"  # the file an item was read from (load_golden); grouping only, never written


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
STEPS = ("condensing", "retrieval", "refusal", "composition", "error")

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
            item[GOLDEN_FILE] = str(path)
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

    The corpora are copied into `scratch/corpus` (afresh, so a document deleted since an earlier run is
    gone) and indexed into `scratch/index` with embedded Chroma, so the user's own index and Chroma server
    are never written. An index left in `scratch` by an earlier run is updated incrementally. Installed
    models are read where the user has them; exported model files of the user's data dir are copied rather
    than exported again.
    """
    if (scratch / "corpus").exists():
        shutil.rmtree(scratch / "corpus")
    combined = combine_corpora(corpora, scratch / "corpus")
    data_dir = scratch / "index"
    (data_dir / "models").mkdir(parents=True, exist_ok=True)
    exported = settings.data_dir / "models"
    for path in exported.iterdir() if exported.is_dir() else ():
        if path.is_file() and not (data_dir / "models" / path.name).exists():
            shutil.copy2(path, data_dir / "models" / path.name)
    return settings.with_(corpus_dir=combined, data_dir=data_dir, chroma_url=None, models_dir=settings.models_path)


def eval_index_dir(settings: Settings, corpora: Sequence[Path]) -> Path:
    """Where `advisor eval --corpus` keeps the index of these corpora between runs: one folder per set of
    corpus directories under `<data_dir>/eval-indexes`, so a second run only indexes what changed."""
    names = "\n".join(sorted(str(Path(c).resolve()) for c in corpora))
    return settings.data_dir / "eval-indexes" / hashlib.sha256(names.encode()).hexdigest()[:16]


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

    def _summary_of(self, idx: Sequence[int]) -> dict:
        return summarize(
            [self.items[k] for k in idx],
            [self.scores[k] for k in idx],
            [self.results[k]["timings_ms"] for k in idx],
            [self.results[k]["failure"] for k in idx],
        )

    def per_tag(self) -> dict[str, dict]:
        tags = sorted({t for i in self.items for t in i.get("tags", [])})
        return {
            tag: self._summary_of([k for k, i in enumerate(self.items) if tag in i.get("tags", [])]) for tag in tags
        }

    def per_file(self) -> dict[str, dict]:
        """The summary of each golden file's items, in the order the files were given (one file: empty)."""
        files = list(dict.fromkeys(i[GOLDEN_FILE] for i in self.items if GOLDEN_FILE in i))
        if len(files) < 2:
            return {}
        return {f: self._summary_of([k for k, i in enumerate(self.items) if i.get(GOLDEN_FILE) == f]) for f in files}


def no_answer(question: str) -> dict:
    """The answer record of an item whose question raised an error: nothing answered, nothing cited (pure)."""
    return {
        "question": question,
        "standalone_question": question,
        "answer": "",
        "refused": False,
        "cited": [],
        "passages": [],
        "generator": "",
        "timings_ms": {},
        "notices": [],
    }


def run_golden(
    ask: Callable[[str, list[dict]], dict],
    items: Sequence[dict],
    label: str = "default",
    progress: bool = True,
    documents: Sequence[SourceDocument] = (),
) -> Run:
    """Every item through `ask(question, history) -> answer dict`, history turns replayed first. An item whose
    `ask` raises is recorded as failing at step "error" with the exception's message, and the run goes on.

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
        try:
            for turn in item.get("history") or []:
                answer = ask(turn, history)
                turns.append(answer)
                history += [{"role": "user", "content": turn}, {"role": "assistant", "content": answer["answer"]}]
            answer = ask(item["question"], history)
        except Exception as exc:  # one item's fault is that item's failure: the run goes on and says so
            answer = no_answer(item["question"])
            scores = score_item(item, answer)
            step, reason = "error", f"{type(exc).__name__}: {exc}"
        else:
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
