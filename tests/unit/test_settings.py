from pathlib import Path

import pytest

from advisor.settings import Settings


def test_defaults_work_out_of_the_box():
    s = Settings.from_env({})
    assert s.corpus_dir.name == "corpus" and s.data_dir.name == "index"
    assert s.chroma_url is None and s.k == 5 and s.generator == "extractive"


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ({"ADVISOR_K": "7"}, "k", 7),
        ({"ADVISOR_CHROMA_URL": "http://127.0.0.1:8000"}, "chroma_url", "http://127.0.0.1:8000"),
        ({"ADVISOR_DATA_DIR": "/tmp/x"}, "data_dir", Path("/tmp/x")),
        ({"ADVISOR_CHUNK_TOKENS": "150"}, "chunk_tokens", 150),
        ({"ADVISOR_K": ""}, "k", 5),
    ],
)
def test_environment_overrides(env, field, expected):
    assert getattr(Settings.from_env(env), field) == expected


def test_bad_integer_is_one_clear_error():
    with pytest.raises(ValueError, match="ADVISOR_K must be an integer"):
        Settings.from_env({"ADVISOR_K": "many"})


def test_bad_number_is_one_clear_error():
    with pytest.raises(ValueError, match="ADVISOR_LLM_TIMEOUT must be a number"):
        Settings.from_env({"ADVISOR_LLM_TIMEOUT": "soon"})


@pytest.mark.parametrize(
    "env, overrides, generator",
    [
        ({"ADVISOR_LLM": "local:smollm2-135m"}, {}, "llm"),  # ADVISOR_LLM alone turns LLM answers on
        ({"ADVISOR_LLM": "local:smollm2-135m", "ADVISOR_GENERATOR": "extractive"}, {}, "extractive"),
        ({"ADVISOR_LLM": "local:smollm2-135m"}, {"generator": "extractive"}, "extractive"),  # --generator wins
        ({}, {}, "extractive"),
    ],
)
def test_generator_follows_advisor_llm_unless_chosen(env, overrides, generator):
    assert Settings.from_env(env, **overrides).generator == generator


def test_models_dir_defaults_under_the_data_dir(tmp_path):
    assert Settings.from_env({}, data_dir=tmp_path).models_path == tmp_path / "models"
    assert Settings.from_env({"ADVISOR_MODELS_DIR": str(tmp_path / "m")}).models_path == tmp_path / "m"


def test_fingerprint_tracks_what_vectors_depend_on():
    a = Settings.from_env({})
    assert a.fingerprint() == a.with_(k=9).fingerprint()
    assert a.fingerprint() != a.with_(chunk_tokens=100).fingerprint()
    assert a.fingerprint() != a.with_(embedding_backend="hash").fingerprint()


def test_the_extra_model_is_on_by_default_and_part_of_what_the_index_depends_on():
    on, off = Settings.from_env({}), Settings.from_env({"ADVISOR_EXTRA_EMBEDDING_MODEL": "off"})
    assert Settings.from_env({"ADVISOR_EXTRA_EMBEDDING_MODEL": "None"}).extra_embedding_model == ""
    assert on.extra_embedding_model == "multilingual-e5-small" and off.extra_embedding_model == ""
    assert on.fingerprint() != off.fingerprint()  # turning it on or off rebuilds: its vectors live in the chunks
    # an index built before the model was stored keeps its key when the model is off: no rebuild
    assert set(off.fingerprint()) == {"embedding_model", "chunk_tokens", "chunk_overlap", "chunker_version"}


def test_readme_configuration_table_lists_every_setting_and_nothing_else():
    """The README's table and `Settings` agree: no undocumented setting, no documented dead one."""
    import re
    from dataclasses import fields

    from support.corpus import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Configuration") :]
    documented = {m.lower() for m in re.findall(r"^\|[^|\n]*?`ADVISOR_(\w+)`", table, re.M)}
    documented |= {m.lower() for m in re.findall(r"^\|[^|\n]*/ `ADVISOR_(\w+)`", table, re.M)}
    assert documented == {f.name for f in fields(Settings)}


def test_a_chroma_url_without_a_corpus_makes_a_read_only_reader():
    url = {"ADVISOR_CHROMA_URL": "http://chroma:8000"}
    assert Settings.from_env(url).read_only
    assert not Settings.from_env({**url, "ADVISOR_CORPUS_DIR": "/srv/corpus"}).read_only
    assert not Settings.from_env({**url, "ADVISOR_READ_ONLY": "0"}).read_only
    assert not Settings.from_env({}).read_only and Settings.from_env({}, read_only=True).read_only
