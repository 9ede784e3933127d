"""The vocabulary (core.tokens.vocabulary): JSON round trip, min count, no gaps."""

import json

import pytest

from core.music.files import read_music
from core.tokens.config import EncodingConfig
from core.tokens.scheme import (
    piece_to_tokens,
)
from core.tokens.vocabulary import Vocabulary

CONFIG = EncodingConfig()


def test_config_and_vocabulary_round_trip_through_json(tmp_path, music_fixture):
    config = EncodingConfig(steps_per_quarter=12, normalize_key=True, transpose_semitones=3)
    config.save(tmp_path / "encoding.json")
    assert EncodingConfig.load(tmp_path / "encoding.json") == config

    tokens = piece_to_tokens(read_music(music_fixture("scale.mid"))[0], CONFIG)
    vocab = Vocabulary.build([tokens])
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(tmp_path / "vocab.json")
    assert loaded == vocab
    assert json.loads((tmp_path / "vocab.json").read_text())["PAD"] == 0
    assert loaded.decode(loaded.encode(tokens)) == tokens
    assert loaded.encode(["P127"]) == [loaded.unk_id]


def test_vocabulary_rejects_gaps_and_respects_min_count():
    with pytest.raises(ValueError):
        Vocabulary.from_dict({"PAD": 0, "UNK": 1, "BOS": 2, "EOS": 4})
    vocab = Vocabulary.build([["P60", "P60", "P62"]], min_count=2)
    assert "P60" in vocab and "P62" not in vocab
