"""The corpora the tests read, and settings over a private copy of one."""

from __future__ import annotations

import shutil
from pathlib import Path

from advisor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
OTHER_CAREERS = ROOT / "evals" / "corpora" / "other-careers"
SUBSET = ("ai-architect-career-ladder.md", "ai-engineering-architect-career-guide.md")  # two documents: small indexes


def make_settings(tmp: Path, corpus: Path | None = None, **overrides) -> Settings:
    """Settings with the corpus copied into `tmp` and the index under `tmp/index`."""
    target = tmp / "corpus"
    if not target.exists():
        shutil.copytree(corpus or CORPUS, target)
    return Settings.from_env({}, corpus_dir=target, data_dir=tmp / "index", **overrides)


def small_corpus(folder: Path) -> Path:
    """`folder` made and filled with the two documents of SUBSET (for a small, quick index); returns it."""
    folder.mkdir()
    for name in SUBSET:
        shutil.copy(CORPUS / name, folder / name)
    return folder


def copy_index(settings: Settings, tmp: Path) -> Settings:
    """Settings over a copy of `settings`' corpus and index in `tmp` (a test's own, to serve, ask or change)."""
    shutil.copytree(settings.corpus_dir, tmp / "corpus")
    shutil.copytree(settings.data_dir, tmp / "index")
    return make_settings(tmp)
