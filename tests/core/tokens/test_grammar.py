"""The token grammar (core.tokens.grammar): encoded pieces obey it; broken ones are refused."""

import pytest

from core.music.files import read_music
from core.tokens.config import EncodingConfig
from core.tokens.grammar import GrammarState
from core.tokens.scheme import (
    BOS,
    EOS,
    piece_to_tokens,
)

CONFIG = EncodingConfig()


def test_every_encoded_sequence_obeys_the_grammar(music_fixture):
    tokens = piece_to_tokens(read_music(music_fixture("tunes.abc"))[1], CONFIG)
    state = GrammarState.after(tokens)
    assert state.finished


@pytest.mark.parametrize(
    "prefix, bad",
    [
        ([BOS, "P60"], "P62"),  # a pitch needs its duration first
        ([BOS], "D4"),  # a duration needs a pitch
        ([BOS, "P64", "D4"], "P60"),  # a chord is written in ascending pitch
        ([BOS, "T4"], EOS),  # a piece ends after a whole note
        ([BOS], "PAD"),
    ],
)
def test_grammar_refuses_broken_sequences(prefix, bad):
    state = GrammarState.after(prefix)
    assert not state.allows(bad)
    with pytest.raises(ValueError):
        state.advance(bad)
