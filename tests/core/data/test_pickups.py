"""core/data/pickups: the upbeat before a tune's first bar line, read from its file."""

from __future__ import annotations

import music21

from core.data.pickups import _named_scores
from core.music.files import score_pickup_quarters

JIG = """X:1
T:Upbeat Jig
M:6/8
L:1/8
K:D
A|dfa afd|e2f gfe|dfa afd|e3 d2||
"""
ON_THE_BAR = """X:1
T:On the Bar
M:4/4
L:1/8
K:G
GABc d2B2|c2A2 G4|GABc d2B2|c2A2 G4||
"""


def test_an_abc_tune_s_upbeat_is_its_pickup() -> None:
    assert score_pickup_quarters(music21.converter.parse(JIG, format="abc")) == 0.5
    assert score_pickup_quarters(music21.converter.parse(ON_THE_BAR, format="abc")) == 0.0


def test_the_scores_of_a_tune_book_are_named_as_read_music_names_them() -> None:
    from core.music.files import read_music

    text = JIG + "\n" + ON_THE_BAR.replace("X:1", "X:2")
    names = [name for name, _ in _named_scores(music21.converter.parse(text, format="abc"), "book")]
    assert names == ["book #1 Upbeat Jig", "book #2 On the Bar"]
    assert names == [p.name for p in read_music(text.encode(), name="book.abc")]
