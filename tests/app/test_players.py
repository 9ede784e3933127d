"""Every piece Generate and the listen page play goes through the one player (ui.player): MP3
audio, which Safari and iPhones play, in Streamlit's <audio>, with the player's piano roll (the
page draws no second roll), a continuation's seam, and the MP3 offered beside the MIDI, WAV,
OGG and MusicXML downloads."""

from __future__ import annotations

import io
import json
from typing import Any

import soundfile
from streamlit.testing.v1 import AppTest

from core.generation.share_links import PieceRecipe, link_to_params, recipe_to_params
from core.library.pieces import AUDIO_FILE, PIECES_DIR
from core.library.published import AUDIO_FILE as COPY_AUDIO_FILE
from core.library.published import DAMAGED, PUBLISHED_DIR
from core.storage.files import data_dir, workspace_dir
from tests.app.listen import listen_page
from tests.app.shown import shown, shown_all
from tests.conftest import REPO
from ui import generate_controls as controls
from ui import generation as gen
from ui import state

DOWNLOADS = ["MP3", "MIDI", "WAV", "OGG", "MusicXML"]


def _app(params: dict[str, str] | None = None) -> AppTest:
    """The Generate page of a browser session (of workspace `ws`, where params name one)."""
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params.update(params or {})
    at.run()
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    return at


def _rolls(at: AppTest) -> list[dict[str, Any]]:
    return [
        json.loads(e.proto.json)
        for e in at.get("bidi_component")
        if e.proto.component_name == "tunesmith_player"
    ]


def _downloads(at: AppTest) -> list[tuple[str, str]]:
    """(label, media address) of every download button, in page order."""
    return [(b.label, b.proto.url) for b in at.get("download_button")]


def _generate(at: AppTest, *, count: int = 1) -> list[gen.GenerationView]:
    at.slider(key=controls.LENGTH_KEY).set_value(5)
    at.slider(key=controls.VARIATIONS_KEY).set_value(count)
    at.button(key="generate_go").click().run()
    assert not at.exception and not at.error, shown_all(at.error)
    return at.session_state[gen.HISTORY][:count]


def test_generated_pieces_play_mp3_each_in_its_own_player(isolated_data_dir) -> None:
    at = _app()
    views = _generate(at, count=2)
    audios = at.get("audio")
    assert len(audios) == 2
    assert all(a.proto.url.endswith(".mp3") for a in audios)  # served as audio/mpeg
    rolls = {r["container"]: r for r in _rolls(at)}
    assert len(rolls) == 2  # each player's key is its own
    for view in views:  # each roll draws its own piece's notes
        roll = rolls[f"generate_play_{view.id}_player"]
        assert len(roll["notes"]) == len(view.result.piece.notes)
        assert roll["seam_s"] is None and roll["autoplay"] is False
    assert not at.get("plotly_chart") and not at.get("imgs")  # the roll is not drawn twice
    downloads = _downloads(at)
    assert [label for label, _ in downloads] == DOWNLOADS * 2
    assert all(url.endswith(".mp3") for label, url in downloads if label == "MP3")


def test_the_mp3_played_is_the_piece_rendered(isolated_data_dir) -> None:
    from ui.player import view_mp3

    at = _app()
    (view,) = _generate(at)
    decoded, rate = soundfile.read(io.BytesIO(view_mp3(view)), dtype="float32")
    original, original_rate = soundfile.read(io.BytesIO(view.ogg_bytes), dtype="float32")
    assert rate == original_rate and len(decoded) == len(original)


def test_a_continuation_shows_its_seam_in_the_player(isolated_data_dir) -> None:
    at = _app()
    at.radio(key=controls.START_KEY).set_value(controls.START_EXCERPT)
    (view,) = _generate(at)
    assert view.result.primer is not None and view.result.seam_s > 0
    (roll,) = _rolls(at)
    assert roll["seam_s"] == view.result.seam_s
    assert roll["seam_label"] == "continuation starts"
    assert 0 < roll["seam_s"] < roll["total_s"]


def test_a_shared_copy_plays_mp3_with_its_roll_and_downloads(isolated_data_dir) -> None:
    at = _app()
    (view,) = _generate(at)
    at.button(key=f"generate_publish_{view.id}").click().run()
    (link,) = [c.value for c in at.get("code") if "/listen?p=" in c.value]
    friend = listen_page(link_to_params(link))
    assert friend.title[0].value and not friend.error
    (audio,) = friend.get("audio")
    assert audio.proto.url.endswith(".mp3")
    (roll,) = _rolls(friend)
    assert len(roll["notes"]) == len(view.result.piece.notes)
    assert not friend.get("imgs") and not friend.get("plotly_chart")  # one roll, the player's
    assert [label for label, _ in _downloads(friend)] == DOWNLOADS
    # a copy whose audio file is damaged says so in a sentence
    published_id = link_to_params(link)["p"]
    (data_dir() / PUBLISHED_DIR / published_id / COPY_AUDIO_FILE).write_bytes(b"not audio")
    damaged = listen_page(link_to_params(link))
    assert [shown(e) for e in damaged.error] == [DAMAGED]
    assert not damaged.get("audio")


def test_a_recipe_link_plays_mp3_in_the_player(isolated_data_dir) -> None:
    at = _app()
    at.radio(key=controls.START_KEY).set_value(controls.START_EXCERPT)
    (view,) = _generate(at)
    friend = listen_page(recipe_to_params(PieceRecipe.of(view.result)))
    assert not friend.error
    (audio,) = friend.get("audio")
    assert audio.proto.url.endswith(".mp3")
    (roll,) = _rolls(friend)
    assert roll["seam_s"] == view.result.seam_s  # the page knows where the new music starts
    assert [label for label, _ in _downloads(friend)] == DOWNLOADS


def test_a_kept_piece_whose_audio_is_damaged_says_so(isolated_data_dir) -> None:
    at = _app()
    (view,) = _generate(at)
    ws = at.session_state[state.WORKSPACE_ID]
    (workspace_dir(ws) / PIECES_DIR / view.piece_id / AUDIO_FILE).write_bytes(b"not audio")
    later = _app(params={"ws": ws})
    assert any("cannot be played" in w for w in shown_all(later.warning))
    later.button(key=f"generate_del_{view.id}").click().run()
    assert not later.exception


def _odd_key_player() -> None:
    from core.music.piece import Note, Piece
    from ui.player import player

    piece = Piece(name="one note", notes=(Note(onset_step=0, pitch=60, duration_steps=4),))
    player(piece, b"not audio", key="a piece.1", audio_format="audio/mpeg")


def test_the_picture_finds_its_container_whatever_the_key() -> None:
    at = AppTest.from_function(_odd_key_player)
    at.run()
    assert not at.exception
    (roll,) = _rolls(at)
    # Streamlit names the container's CSS class after the key, odd characters made "-"
    assert roll["container"] == "a-piece-1_player"
