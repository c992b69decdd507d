"""Load (issue 9): the real server answers 20 concurrent conversations x 5 questions through the Gradio
API while the corpus is reindexed by `advisor index` and by the UI's Reindex button; every request is
answered, none fails. (Latency is the benchmark's business: `advisor bench --only load`.)
"""

from __future__ import annotations

import shutil
import tempfile

import pytest

from advisor.evaluation.bench_load import CONVERSATIONS, TURNS, overlapping, run_load, start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(built, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load")
    shutil.copytree(built.corpus_dir, tmp / "corpus")
    shutil.copytree(built.data_dir, tmp / "index")
    proc, url = start_server(tmp / "corpus", tmp / "index", tmp / "server.log")
    yield {"url": url, "corpus": tmp / "corpus", "data": tmp / "index", "log": tmp / "server.log"}
    stop_server(proc)


def test_every_request_is_answered_while_the_cli_and_the_button_reindex(served, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the temp dir of this process, for the clients
    run = run_load(served["url"], served["corpus"], served["data"], reindex=True)
    # gradio_client downloaded each answer's export, leaving an empty folder per request in the temp dir
    assert list(tmp_path.iterdir()) == []

    assert len(run.requests) == CONVERSATIONS * TURNS
    failed = [(r.conversation, r.question, r.error) for r in run.requests if r.error]
    assert not failed, failed
    assert all(r.answer.strip() and r.answer.strip() != "Error" for r in run.requests)

    assert len(run.reindexes) == 2 and run.reindexes[0].how == "cli"
    for r in run.reindexes:
        assert r.ok, (r.how, r.detail)
        assert '"added": 0' not in r.detail and "added 0" not in r.detail  # each really embedded a new file
    assert overlapping(run), "no request ran while a reindex did: the test proved nothing"
    assert "Traceback" not in served["log"].read_text()
