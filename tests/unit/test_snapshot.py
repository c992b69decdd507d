"""Pure parts of the snapshot: location-independent chunk ids, sentence vectors in metadata, the cache."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.schema import Chunk
from advisor.store.snapshot import (
    BadRows,
    chunk_key,
    chunk_metadata,
    decode_vectors,
    doc_key,
    encode_vectors,
    read_cache,
    snapshot_from_rows,
    write_cache,
)
from advisor.text import split_sentences


def chunk(source: str = "corpus/guides/a.md", text: str = "First point. Second point here.", position: int = 0):
    return Chunk(id="a:intro:0", source=source, title="A guide", section="Intro", text=text, position=position)


@pytest.mark.parametrize(("source", "key"), [("corpus/a.md", "a.md"), ("docs/sub/a.md", "sub/a.md"), ("a.md", "a.md")])
def test_doc_key_is_the_path_inside_the_corpus(source, key):
    assert doc_key(source) == key


def test_chunk_ids_do_not_depend_on_where_the_corpus_sits():
    assert chunk_key(chunk("corpus/guides/a.md")) == chunk_key(chunk("elsewhere/guides/a.md"))
    assert chunk_key(chunk("corpus/guides/a.md")) != chunk_key(chunk("corpus/other/a.md"))
    assert chunk_key(chunk(text="Changed.")) != chunk_key(chunk())
    assert chunk_key(chunk(position=1)) != chunk_key(chunk())


def test_sentence_vectors_survive_the_metadata_round_trip():
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    assert np.array_equal(decode_vectors(encode_vectors(vectors), 8), vectors)


def _row(c: Chunk, vectors: np.ndarray) -> tuple[str, dict]:
    meta = {**chunk_metadata(c), "sentence_vectors": encode_vectors(vectors), "dim": vectors.shape[1]}
    return c.embed_text, meta


def test_a_snapshot_is_rebuilt_from_rows_without_embedding():
    c = chunk()
    n = len(split_sentences(c.text, c.section))
    doc, meta = _row(c, np.eye(n, 4, dtype=np.float32))
    snap = snapshot_from_rows(["id1"], [doc], [meta], "stamp")
    assert snap.chunks == [c] and snap.uids == ["id1"] and snap.sentence_vectors.shape == (n, 4)
    assert snap.sentence_chunk.tolist() == [0] * n


def test_rows_whose_vectors_do_not_match_their_sentences_are_refused():
    doc, meta = _row(chunk(), np.zeros((7, 4), dtype=np.float32))
    with pytest.raises(BadRows, match="7 sentence vectors"):
        snapshot_from_rows(["id1"], [doc], [meta], "stamp")


def test_the_cache_is_used_only_for_its_own_version_and_names_a_damaged_file(tmp_path):
    c = chunk()
    n = len(split_sentences(c.text, c.section))
    doc, meta = _row(c, np.eye(n, 4, dtype=np.float32))
    write_cache(tmp_path, snapshot_from_rows(["id1"], [doc], [meta], "v1"))
    assert read_cache(tmp_path, "v1")[0].chunks == [c]
    snap, why = read_cache(tmp_path, "v2")
    assert snap is None and "another index version" in why
    (tmp_path / "sentences.npz").write_bytes(b"garbage")
    snap, why = read_cache(tmp_path, "v1")
    assert snap is None and "sentences.npz is damaged" in why
