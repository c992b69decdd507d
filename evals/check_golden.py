#!/usr/bin/env python3
"""Check a golden Q&A file (CONTRACTS.md section 2) against one or more corpus directories.

Usage:
    python3 evals/check_golden.py GOLDEN.jsonl CORPUS_DIR [CORPUS_DIR ...]

Standalone, standard library only. It checks that:
  - every non-blank line is a JSON object with the contract's fields and types
    (id, question, evidence, answer_includes, answerable, tags; history optional);
  - ids are unique;
  - answerable items have at least one evidence phrase and every phrase occurs, normalized,
    in the text of some corpus document (YAML front matter excluded);
  - every answer_includes entry of an answerable item has an alternative (split on '|') that
    occurs in at least one document holding one of the item's evidence phrases, so the
    expectation is reachable from the sources;
  - unanswerable items have empty evidence and answer_includes.
It warns (without failing) about evidence holding Markdown syntax, very short or very long
evidence phrases, and answerable items with no answer_includes.

Normalization as in the contract: Unicode NFKC, lower case, U+2013/U+2014 read as '-',
curly quotes as straight ones, every run of whitespace as one space.
Exit status 0 when clean, 1 when any error was found, 2 on bad usage.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

REQUIRED = {
    "id": str,
    "question": str,
    "evidence": list,
    "answer_includes": list,
    "answerable": bool,
    "tags": list,
}
OPTIONAL = {"history": list}

_TRANSLATE = str.maketrans({
    "\u2013": "-", "\u2014": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
})
_WS = re.compile(r"\s+")
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSLATE)
    return _WS.sub(" ", text).strip()


def load_corpus(dirs: list[str]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            raise SystemExit(f"not a directory: {d}")
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".md", ".markdown", ".txt"))
        for p in files:
            raw = p.read_text(encoding="utf-8")
            docs[str(p)] = normalize(_FRONT_MATTER.sub("", raw, count=1))
    if not docs:
        raise SystemExit(f"no documents found under {dirs}")
    return docs


def check(golden: str, corpus_dirs: list[str]) -> int:
    docs = load_corpus(corpus_dirs)
    errors: list[str] = []
    warnings: list[str] = []
    seen: Counter[str] = Counter()
    n_items = n_answerable = n_unanswerable = n_multi = 0
    tag_counts: Counter[str] = Counter()

    lines = Path(golden).read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {lineno}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: not JSON ({exc})")
            continue
        if not isinstance(item, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        n_items += 1
        if isinstance(item.get("id"), str):
            where = f"line {lineno} [{item['id']}]"
            seen[item["id"]] += 1

        bad_shape = False
        for key, typ in REQUIRED.items():
            if key not in item:
                errors.append(f"{where}: missing field {key!r}")
                bad_shape = True
            elif not isinstance(item[key], typ):
                errors.append(f"{where}: {key!r} must be {typ.__name__}")
                bad_shape = True
        for key, typ in OPTIONAL.items():
            if key in item and not isinstance(item[key], typ):
                errors.append(f"{where}: {key!r} must be {typ.__name__}")
                bad_shape = True
        for key in item:
            if key not in REQUIRED and key not in OPTIONAL:
                warnings.append(f"{where}: field {key!r} is not in the contract")
        if bad_shape:
            continue
        for key in ("evidence", "answer_includes", "tags", "history"):
            values = item.get(key, [])
            if any(not isinstance(v, str) or not v.strip() for v in values):
                errors.append(f"{where}: {key!r} must hold non-empty strings")
                bad_shape = True
        if not item["id"].strip() or not item["question"].strip():
            errors.append(f"{where}: empty id or question")
        if bad_shape:
            continue
        if item.get("history"):
            n_multi += 1
        tag_counts.update(item["tags"])

        if not item["answerable"]:
            n_unanswerable += 1
            if item["evidence"] or item["answer_includes"]:
                errors.append(f"{where}: unanswerable item must have empty evidence and answer_includes")
            continue

        n_answerable += 1
        if not item["evidence"]:
            errors.append(f"{where}: answerable item without evidence")
            continue
        if not item["answer_includes"]:
            warnings.append(f"{where}: answerable item without answer_includes")
        holding: set[str] = set()
        for phrase in item["evidence"]:
            if any(s in phrase for s in ("**", "|", "#")):
                warnings.append(f"{where}: evidence holds Markdown syntax: {phrase!r}")
            words = len(phrase.split())
            if words > 15:
                warnings.append(f"{where}: evidence phrase has {words} words: {phrase!r}")
            needle = normalize(phrase)
            found = [name for name, text in docs.items() if needle in text]
            if not found:
                errors.append(f"{where}: evidence not in corpus: {phrase!r}")
            holding.update(found)
        if not holding:
            continue
        for entry in item["answer_includes"]:
            alternatives = [normalize(a) for a in entry.split("|") if a.strip()]
            if not alternatives:
                errors.append(f"{where}: empty answer_includes entry {entry!r}")
            elif not any(a in docs[name] for a in alternatives for name in holding):
                errors.append(f"{where}: answer_includes {entry!r} occurs in no evidence-bearing document")

    for dup, count in seen.items():
        if count > 1:
            errors.append(f"duplicate id {dup!r} ({count} times)")

    for w in warnings:
        print(f"WARN  {w}")
    for e in errors:
        print(f"ERROR {e}")
    print(f"{golden}: {n_items} items ({n_answerable} answerable, {n_unanswerable} unanswerable, "
          f"{n_multi} with history) against {len(docs)} documents; "
          f"{len(errors)} errors, {len(warnings)} warnings")
    print("tags: " + ", ".join(f"{t}={c}" for t, c in sorted(tag_counts.items())))
    return 1 if errors else 0


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    return check(argv[1], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
