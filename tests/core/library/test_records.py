"""core/library/records: a generated piece goes to JSON and back equal, and anything else read
back is one ValueError."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.library.records import MAX_STORED_TOKENS, dict_to_result, result_to_dict
from tests.core.library.conftest import make_piece


def test_a_piece_round_trips_through_json_unchanged(folk) -> None:
    result = make_piece(folk, 3)
    data = json.loads(json.dumps(result_to_dict(result)))
    assert dict_to_result(data, result.midi_bytes) == result


def test_a_continued_piece_keeps_its_primer(folk) -> None:
    primer = folk.excerpt_primer(np.random.default_rng(1))
    result = folk.generate(make_piece(folk, 1).settings, seed=1, primer=primer)
    back = dict_to_result(json.loads(json.dumps(result_to_dict(result))), result.midi_bytes)
    assert back.primer == primer and back.seam_s == result.seam_s


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("format", 99),
        ("tokens", "T4 P60"),
        ("tokens", ["T4"] * (MAX_STORED_TOKENS + 1)),
        ("tokens", [42]),
        ("primer_length", -1),
        ("seed", True),
        ("settings", {"temperature": -3}),
        ("piece", {"notes": [[0, 999, 1]]}),
        ("tonic", 12),
        ("pitch_limits", [1]),
        ("one_line", "yes"),
        ("primer", {"tokens": ["T4"], "transpose_semitones": "up"}),
    ],
)
def test_a_damaged_record_is_one_value_error(folk, field, value) -> None:
    result = make_piece(folk, 3)
    data = result_to_dict(result) | {field: value}
    with pytest.raises(ValueError):
        dict_to_result(data, result.midi_bytes)


def test_a_piece_keeps_its_meter_and_bar_lines_through_the_library(folk) -> None:
    primer = folk.excerpt_primer(np.random.default_rng(1))
    result = folk.generate(make_piece(folk, 1).settings, seed=1, primer=primer)
    assert result.piece.meter and result.primer is not None and result.primer.meter
    back = dict_to_result(json.loads(json.dumps(result_to_dict(result))), result.midi_bytes)
    assert back == result
    assert (back.piece.meter, back.piece.pickup_steps) == (
        result.piece.meter,
        result.piece.pickup_steps,
    )


def test_a_record_from_before_meters_reads_as_before(folk) -> None:
    primer = folk.excerpt_primer(np.random.default_rng(1))
    result = folk.generate(make_piece(folk, 1).settings, seed=1, primer=primer)
    data = json.loads(json.dumps(result_to_dict(result)))
    for key in ("meter", "pickup_steps"):
        del data["primer"][key]
        data["piece"].pop(key, None)
    del data["settings"]["meter"]
    back = dict_to_result(data, result.midi_bytes)
    assert back.primer is not None and (back.primer.meter, back.primer.pickup_steps) == ("", 0)
    assert back.piece.meter == "" and back.settings.meter == ""
