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

from advisor.settings import Settings

log = logging.getLogger("advisor")


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="advisor: %(message)s", stream=sys.stderr)
    logging.getLogger("bm25s").setLevel(logging.ERROR)
    try:
        settings = Settings.from_env(k=getattr(args, "k", None), generator=getattr(args, "generator", None))
        return args.func(args, settings)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as exc:  # the one place a user-facing error becomes one line
        from advisor.advisor import InvalidQuestion
        from advisor.index import IndexUnavailable

        if isinstance(exc, UsageError | InvalidQuestion | IndexUnavailable | ValueError | OSError):
            print(f"advisor: error: {exc}", file=sys.stderr)
            return 2
        print(f"advisor: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="advisor", description="A cited career advisor for AI roles, offline.")
    sub = p.add_subparsers(dest="command", required=True)

    ix = sub.add_parser("index", help="index corpus/ incrementally (only changed files are embedded)")
    ix.add_argument("--full", action="store_true", help="rebuild the index from scratch")
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

    return p


# -- index -------------------------------------------------------------------------------------------
def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.index import CorpusIndex

    index = CorpusIndex(settings)
    report = index.update(full=args.full, progress=not args.json)
    _print_report(report, args.json)
    if args.watch:
        from watchfiles import watch

        print(f"watching {settings.corpus_dir} (Ctrl-C to stop)", file=sys.stderr)
        for _changes in watch(settings.corpus_dir, raise_interrupt=False):
            _print_report(index.update(progress=not args.json), args.json)
    return 0


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict()), flush=True)
        return
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(report.summary(), flush=True)


# -- ask / chat ----------------------------------------------------------------------------------------
def read_history(path: Path) -> list[dict]:
    """A `--history` file: a JSON array of {"role": "user"|"assistant", "content": str}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read history file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"history file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        for t in data
    ):
        raise UsageError(
            f'history file {path} must be a JSON array of {{"role": "user"|"assistant", "content": "..."}}'
        )
    return data


def format_answer(answer) -> str:
    """An answer for the terminal: notices, the text, then numbered sources."""
    lines = [f"note: {n}" for n in answer.notices]
    lines.append(answer.text)
    if answer.passages and not answer.refused:
        lines.append("\nSources:")
        for p in answer.passages:
            mark = "*" if p.rank in answer.cited else " "
            section = f" — {p.chunk.section}" if p.chunk.section else ""
            lines.append(f"{mark}[{p.rank}] {p.chunk.title}{section} ({p.chunk.source})")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.advisor import Advisor, clean_question

    history = read_history(args.history) if args.history else []
    clean_question(args.question)  # fail fast, before any index work
    answer = Advisor(settings).ask(args.question, history)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.advisor import Advisor, InvalidQuestion

    advisor = Advisor(settings)
    history: list[dict] = []
    print("Ask about careers in AI (engineer, architect, staff, principal). Empty line or Ctrl-D to quit.")
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


if __name__ == "__main__":
    sys.exit(main())
