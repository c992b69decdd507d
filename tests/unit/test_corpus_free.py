"""The corpus is data: no module under src/ names the careers of a bundled corpus (its role nouns, as its own
profile derives them) or its pay vocabulary; what the pipeline knows of a domain comes from the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.corpus import CORPUS, OTHER_CAREERS, ROOT

from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import load_corpus
from advisor.ingest.profile import derive_profile

SRC = ROOT / "src"


def role_nouns(corpus: Path) -> set[str]:
    """The head noun of every subject the corpus's profile derives ("AI architect" -> "architect"), 6+ letters
    (shorter heads are everyday words: "job", "pay")."""
    docs, _ = load_corpus(corpus)
    profile = derive_profile(docs, [c for d in docs for c in chunk_document(d)])
    return {s.split()[-1].lower() for s in profile.subjects if len(s.split()[-1]) >= 6}


def test_the_bundled_corpora_have_role_nouns():  # else the test below would check nothing
    assert {"architect", "engineer"} <= role_nouns(CORPUS)
    assert {"actuary", "electrician", "designer"} <= role_nouns(OTHER_CAREERS / "corpus")


@pytest.mark.parametrize("corpus", [CORPUS, OTHER_CAREERS / "corpus"], ids=["corpus", "other-careers"])
def test_no_module_under_src_names_a_bundled_corpus_role_or_its_pay_words(corpus):
    words = role_nouns(corpus) | {"salary", "salaries"}
    pattern = re.compile(rf"\b(?:{'|'.join(sorted(words))})", re.I)
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
        for path in sorted(SRC.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)
