"""Share links: parameters → piece → parameters gives identical MIDI; bad links are refused by
name before anything is generated; links are signed with the server's key, and no link asks for
a longer piece than the Generate page offers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.errors import InvalidLinkError, NotShareableError
from core.generation import share_links
from core.generation.generator import Generator
from core.generation.primers import piece_to_primer
from core.generation.settings import SamplingSettings
from core.generation.share_links import (
    MAX_LINK_LENGTH_S,
    MAX_LINK_PRIMER_CHARS,
    MAX_LINK_TOKENS,
    SHARE_KEY_PATH,
    PieceRecipe,
    _check,
    link_to_params,
    model_changed,
    params_to_recipe,
    recipe_to_link,
    recipe_to_params,
    recipe_to_result,
    share_key,
)
from core.music.piece import Note, Piece

BASE = "https://tunes.example/generate"
# A link made by the app before links were signed (version 1: an unkeyed checksum), and the
# settings of its piece.
OLD_LINK = (
    "https://tunes.example/generate?v=1&model=folk-tunes&seed=2025&mv=94c078d6&temperature=1.0"
    "&top_k=0&top_p=0.95&seconds=6.0&bpm=100.0&program=0&key=D&scale=major&pace=1&original=1"
    "&check=481cd2c6a9"
)
OLD_LINK_SETTINGS = SamplingSettings(  # made before phrases returned: free form
    length_tokens=None, length_s=6.0, tempo_bpm=100.0, key=2, scale="major", form="free"
)


@pytest.fixture(scope="module")
def folk() -> Generator:
    return Generator.from_folder("folk-tunes")


def _signed(params: dict[str, str]) -> dict[str, str]:
    """Parameters changed on purpose and given a valid check, to reach the field checks."""
    params = {k: v for k, v in params.items() if k != "check"}
    return {**params, "check": _check(params)}


def _round_trip(result):
    link = recipe_to_link(PieceRecipe.of(result), BASE)
    recipe = params_to_recipe(link_to_params(link))
    again = recipe_to_result(recipe)
    assert recipe_to_params(recipe) == link_to_params(link)
    return link, again


def test_a_link_regenerates_the_same_midi_with_key_scale_and_lock(folk: Generator) -> None:
    settings = SamplingSettings(
        temperature=0.915,
        top_p=0.9525,
        length_tokens=None,
        length_s=12.5,
        tempo_bpm=97.0,
        program=73,
        key=2,
        scale="major pentatonic",
        lock_scale=True,
    )
    result = folk.generate(settings, seed=123_456)
    link, again = _round_trip(result)
    assert link.startswith(BASE + "?v=2&model=folk-tunes&seed=123456")
    assert again.midi_bytes == result.midi_bytes


def test_a_link_carries_a_small_primer(folk: Generator) -> None:
    tune = Piece("my tune", tuple(Note(4 * i, p, 4) for i, p in enumerate([62, 64, 66, 67, 69])))
    primer = piece_to_primer(tune, folk.encoding)
    result = folk.generate(SamplingSettings(length_tokens=120), seed=9, primer=primer)
    link, again = _round_trip(result)
    assert "primer=" in link
    assert again.midi_bytes == result.midi_bytes
    snippet = folk.excerpt_primer(np.random.default_rng(3))
    result = folk.generate(SamplingSettings(length_tokens=80), seed=3, primer=snippet)
    assert _round_trip(result)[1].midi_bytes == result.midi_bytes


def test_other_parameters_in_the_url_are_ignored(folk: Generator) -> None:
    result = folk.generate(SamplingSettings(length_tokens=40), seed=1)
    params = link_to_params(recipe_to_link(PieceRecipe.of(result), BASE) + "&ws=abc&job=x")
    assert recipe_to_result(params_to_recipe(params)).midi_bytes == result.midi_bytes


def test_a_piece_from_an_own_model_cannot_travel(folk: Generator) -> None:
    result = replace(folk.generate(SamplingSettings(length_tokens=20), seed=1), model_name="mine")
    with pytest.raises(NotShareableError, match="your own model"):
        PieceRecipe.of(result)


def test_a_long_primer_does_not_fit_in_a_link(folk: Generator) -> None:
    rng = np.random.default_rng(0)
    onsets = np.cumsum(rng.integers(1, 16, 700))
    notes = tuple(
        Note(int(o), int(rng.integers(30, 100)), int(rng.integers(1, 16))) for o in onsets
    )
    primer = piece_to_primer(Piece("long", notes), folk.encoding)
    recipe = PieceRecipe("folk-tunes", 1, SamplingSettings(length_tokens=10), primer)
    with pytest.raises(NotShareableError, match=str(MAX_LINK_PRIMER_CHARS)):
        recipe_to_params(recipe)


def _good_params(folk: Generator) -> dict[str, str]:
    tune = Piece("t", tuple(Note(4 * i, p, 4) for i, p in enumerate([60, 62, 64])))
    primer = piece_to_primer(tune, folk.encoding)
    result = folk.generate(SamplingSettings(length_tokens=30, key=7), seed=5, primer=primer)
    return recipe_to_params(PieceRecipe.of(result))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": "6"}, "changed after it was made"),
        ({"check": ""}, "changed after it was made"),
    ],
)
def test_a_tampered_or_cut_link_is_refused(folk: Generator, change, message) -> None:
    params = {**_good_params(folk), **change}
    with pytest.raises(InvalidLinkError, match=message):
        params_to_recipe(params)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": "3"}, "version 3"),
        ({"model": "../../etc"}, "not a bundled model"),
        ({"seed": "abc"}, "seed .* not a whole number"),
        ({"seed": "-1"}, "seed .* within"),
        ({"temperature": "nan"}, "temperature .* not a number"),
        ({"temperature": "99"}, "settings cannot be used: temperature"),
        ({"bpm": "5"}, "tempo_bpm"),
        ({"program": "300"}, "program .* within 0..127"),
        ({"key": "H"}, "key is not a key name"),
        ({"scale": "dorian"}, "scale must be one of"),
        ({"primer": "%%%not-base64"}, "tune .* cannot be read"),
        ({"primer_shift": "40"}, "transposition"),
        ({"tokens": ""}, "no tokens"),
        ({"mv": "../x"}, "mv .* not a version"),
    ],
)
def test_each_bad_parameter_is_named(folk: Generator, change, message) -> None:
    params = _signed({**_good_params(folk), **change})
    with pytest.raises(InvalidLinkError, match=message):
        recipe = params_to_recipe(params)
        recipe_to_result(recipe, generator=folk)


def test_a_primer_of_unknown_tokens_is_refused_before_generating(folk: Generator) -> None:
    from core.generation.share_links import encode_primer_tokens

    for tokens, message in (
        (("T4", "P60", "Dzz"), "does not know"),
        (("D4", "P60"), "not valid music"),
        (("P60", "D4", "EOS"), "ends the piece"),
    ):
        params = _signed({**_good_params(folk), "primer": encode_primer_tokens(tokens)})
        with pytest.raises(InvalidLinkError, match=message):
            recipe_to_result(params_to_recipe(params), generator=folk)


def test_kept_bars_and_a_hummed_tune_travel_by_link_too(folk: Generator) -> None:
    from core.generation.continuation import keep_bars
    from core.transcription.humming import recording_to_heard_tune
    from core.transcription.model import load_model
    from tests.conftest import REPO

    original = folk.generate(
        SamplingSettings(length_tokens=None, length_s=12.0, key=7, lock_scale=True), seed=2
    )
    for variation in keep_bars(folk, original, 2, seed=40, count=2):
        assert _round_trip(variation)[1].midi_bytes == variation.midi_bytes
    tune = recording_to_heard_tune(
        REPO / "tests/fixtures/hummed_tune.wav", model=load_model()
    ).piece
    hummed = folk.generate(
        SamplingSettings(length_tokens=None, length_s=8.0, tempo_bpm=tune.tempo_bpm),
        seed=5,
        primer=piece_to_primer(tune, folk.encoding),
    )
    link, again = _round_trip(hummed)
    assert "primer_key=D" in link and again.midi_bytes == hummed.midi_bytes


def test_a_link_knows_when_its_model_was_retrained_since(folk: Generator) -> None:
    from core.model.bundled import STYLES, model_version

    params = _good_params(folk)
    assert params["mv"] == model_version(STYLES["folk-tunes"].path)
    assert not model_changed(params_to_recipe(params))
    older = params_to_recipe(_signed({**params, "mv": "0123abcd"}))
    assert model_changed(older)
    # It still plays: the same recipe on today's model, and the link keeps its version.
    assert (
        recipe_to_result(older, generator=folk).midi_bytes
        == recipe_to_result(params_to_recipe(params), generator=folk).midi_bytes
    )
    assert recipe_to_params(older)["mv"] == "0123abcd"
    # A link made before versions existed plays with no claim either way.
    unversioned = _signed({k: v for k, v in params.items() if k != "mv"})
    assert not model_changed(params_to_recipe(unversioned))


@pytest.mark.parametrize(
    ("param", "setting"), [("pace", "keep_pace"), ("original", "avoid_copies")]
)
def test_a_link_made_before_a_sampler_setting_existed_plays_the_piece_it_shared(
    folk: Generator, param: str, setting: str
) -> None:
    settings = SamplingSettings(length_tokens=None, length_s=20.0)
    params = recipe_to_params(PieceRecipe.of(folk.generate(settings, seed=11)))
    assert params[param] == "1" and getattr(params_to_recipe(params).settings, setting)
    older = params_to_recipe(_signed({k: v for k, v in params.items() if k != param}))
    assert not getattr(older.settings, setting)
    without = replace(settings, **{setting: False})
    assert recipe_to_result(older, generator=folk).midi_bytes == (
        folk.generate(without, seed=11).midi_bytes
    )
    assert param not in recipe_to_params(older)


def _unkeyed(params: dict[str, str]) -> dict[str, str]:
    """`params` with the checksum anyone can compute (version 1's), whatever their version."""
    import hashlib
    from urllib.parse import urlencode

    params = {k: v for k, v in params.items() if k != "check"}
    canonical = urlencode(sorted(params.items())).encode()
    return {**params, "check": hashlib.sha256(canonical).hexdigest()[:10]}


def test_a_link_made_up_with_the_unkeyed_checksum_is_refused(folk: Generator) -> None:
    params = {**_good_params(folk), "seed": "6"}
    with pytest.raises(InvalidLinkError, match="changed after it was made"):
        params_to_recipe(_unkeyed(params))


def test_a_link_signed_by_another_server_is_refused(folk: Generator, isolated_data_dir,
                                                    tmp_path, monkeypatch) -> None:
    params = _good_params(folk)
    assert params_to_recipe(params).seed == 5
    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(tmp_path / "another-server"))
    with pytest.raises(InvalidLinkError, match="changed after it was made"):
        params_to_recipe(params)


def test_the_key_is_made_once_per_data_directory_and_kept_private(isolated_data_dir,
                                                                  monkeypatch) -> None:
    key = share_key()
    path = isolated_data_dir / SHARE_KEY_PATH
    assert path.stat().st_mode & 0o777 == 0o600
    assert bytes.fromhex(path.read_text()) == key and len(key) == 32
    monkeypatch.setattr(share_links, "_keys", {})  # a restart reads the same key
    assert share_key() == key
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no candidate left behind


def test_a_second_replica_keeps_the_first_key(isolated_data_dir, monkeypatch) -> None:
    path = isolated_data_dir / SHARE_KEY_PATH
    path.parent.mkdir(parents=True)
    share_links._write_key(path, replace=False)
    first = path.read_bytes()
    share_links._write_key(path, replace=False)  # a replica that saw no key a moment before
    assert path.read_bytes() == first


def test_a_damaged_key_is_replaced(isolated_data_dir, monkeypatch) -> None:
    path = isolated_data_dir / SHARE_KEY_PATH
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    key = share_key()
    assert len(key) == 32 and bytes.fromhex(path.read_text()) == key


def test_a_data_directory_that_cannot_hold_the_key_still_signs(folk: Generator,
                                                               isolated_data_dir,
                                                               monkeypatch) -> None:
    def full(path, data) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(share_links, "atomic_write_bytes", full)
    params = _good_params(folk)
    assert params_to_recipe(params).seed == 5  # valid until the server restarts
    assert not (isolated_data_dir / SHARE_KEY_PATH).exists()


def test_a_link_made_before_links_were_signed_still_plays(folk: Generator) -> None:
    recipe = params_to_recipe(link_to_params(OLD_LINK))
    assert recipe.seed == 2025 and recipe.settings == OLD_LINK_SETTINGS
    played = recipe_to_result(recipe, generator=folk)
    assert played.midi_bytes == folk.generate(OLD_LINK_SETTINGS, seed=2025).midi_bytes
    assert recipe_to_params(recipe)["v"] == "2"  # shared again, it is signed
    changed = link_to_params(OLD_LINK.replace("seed=2025", "seed=2026"))
    with pytest.raises(InvalidLinkError, match="changed after it was made"):
        params_to_recipe(changed)


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize(
    ("length", "message"),
    [
        ({"tokens": str(MAX_LINK_TOKENS + 1)}, f"at most {MAX_LINK_TOKENS}"),
        ({"tokens": "20000"}, f"at most {MAX_LINK_TOKENS}"),
        ({"seconds": "600.0"}, f"at most {MAX_LINK_LENGTH_S:g}"),
        ({"seconds": "120.5"}, f"at most {MAX_LINK_LENGTH_S:g}"),
    ],
)
def test_no_link_asks_for_a_longer_piece_than_the_page_offers(folk: Generator, version: str,
                                                             length, message) -> None:
    params = {k: v for k, v in _good_params(folk).items() if k not in ("tokens", "seconds")}
    params = _signed({**params, "v": version, **length})
    with pytest.raises(InvalidLinkError, match=f"too long a piece .*{message}"):
        params_to_recipe(params)


def test_the_longest_piece_the_page_offers_has_a_link(folk: Generator) -> None:
    for settings in (
        SamplingSettings(length_tokens=None, length_s=MAX_LINK_LENGTH_S, tempo_bpm=400.0),
        SamplingSettings(length_tokens=MAX_LINK_TOKENS),
    ):
        params = recipe_to_params(PieceRecipe("folk-tunes", 1, settings))
        assert params_to_recipe(params).settings == settings


@pytest.mark.parametrize(
    "settings",
    [
        SamplingSettings(length_tokens=None, length_s=MAX_LINK_LENGTH_S + 1),
        SamplingSettings(length_tokens=MAX_LINK_TOKENS + 1),
    ],
)
def test_a_piece_longer_than_a_link_may_ask_for_gets_no_link(settings) -> None:
    with pytest.raises(NotShareableError, match=r"too long for a link .* at most"):
        recipe_to_params(PieceRecipe("folk-tunes", 1, settings))


def test_a_link_keeps_the_piece_s_meter(folk: Generator) -> None:
    snippet = folk.excerpt_primer(np.random.default_rng(3))
    assert snippet is not None and snippet.meter  # the bundled openings state their meters
    result = folk.generate(SamplingSettings(length_tokens=80), seed=3, primer=snippet)
    link, again = _round_trip(result)
    assert f"primer_meter={snippet.meter.replace('/', '%2F')}" in link
    assert (again.piece.meter, again.piece.pickup_steps) == (
        result.piece.meter,
        result.piece.pickup_steps,
    )
    chosen = folk.generate(SamplingSettings(length_tokens=40, meter="3/4"), seed=1)
    link, again = _round_trip(chosen)
    assert "meter=3%2F4" in link and again.piece.meter == "3/4"


def test_a_link_from_before_meters_plays_as_it_did(folk: Generator) -> None:
    snippet = folk.excerpt_primer(np.random.default_rng(3))
    assert snippet is not None
    old = replace(snippet, meter="", pickup_steps=0)  # what a link made before carried
    result = folk.generate(SamplingSettings(length_tokens=80), seed=3, primer=old)
    params = recipe_to_params(PieceRecipe.of(result))
    assert "primer_meter" not in params and "meter" not in params
    again = recipe_to_result(params_to_recipe(params))
    assert again.piece.meter == "" and again.midi_bytes == result.midi_bytes


def test_a_link_s_meter_must_be_a_meter(folk: Generator) -> None:
    snippet = folk.excerpt_primer(np.random.default_rng(3))
    result = folk.generate(SamplingSettings(length_tokens=20), seed=3, primer=snippet)
    params = recipe_to_params(PieceRecipe.of(result))
    params["primer_meter"] = "7/7"
    params["check"] = share_links._check(params)
    with pytest.raises(InvalidLinkError, match="primer_meter"):
        params_to_recipe(params)
