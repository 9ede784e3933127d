"""Generate page, "make it yours": key, scale and lock; keep the good bars; make it longer; a
piece shared (published, opened on the listen page, stopped; a recipe link made, opened,
tampered with); a recorded tune continued; an unusable recording."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import soundfile
from streamlit.testing.v1 import AppTest

from core.generation.continuation import steps_per_bar
from core.generation.share_links import PieceRecipe, _check, link_to_params, recipe_to_params
from core.music.scales import Scale, scale_pitch_classes
from tests.app.listen import listen_page
from tests.app.shown import shown, shown_all
from tests.conftest import REPO
from ui import generate_controls as controls
from ui import generation as gen
from ui import humming
from ui.text import plain

HUMMED_TUNE = REPO / "tests" / "fixtures" / "hummed_tune.wav"


def _app(isolated_data_dir, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    if params:
        at.query_params.update(params)
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    return at


@pytest.fixture
def page(isolated_data_dir) -> AppTest:
    return _app(isolated_data_dir)


def _generate(at: AppTest, *, seconds: int = 8, seed: int = 11) -> gen.GenerationView:
    at.slider(key=controls.LENGTH_KEY).set_value(seconds)
    at.toggle(key=controls.SAME_SEED_KEY).set_value(True).run()
    at.number_input(key=controls.SEED_KEY).set_value(seed)
    at.button(key="generate_go").click().run()
    assert not at.exception and not at.error, shown_all(at.error)
    return at.session_state[gen.HISTORY][0]


def test_a_locked_scale_in_a_chosen_key(page: AppTest) -> None:
    page.selectbox(key=controls.KEY_KEY).set_value("D")
    page.selectbox(key=controls.SCALE_KEY).set_value(Scale.MAJOR_PENTATONIC.value)
    page.toggle(key=controls.LOCK_KEY).set_value(True)
    result = _generate(page).result
    allowed = scale_pitch_classes(2, Scale.MAJOR_PENTATONIC)
    assert result.piece.notes and {n.pitch % 12 for n in result.piece.notes} <= allowed
    assert result.key_label == "D major pentatonic"
    assert any("D major pentatonic: 100% of the new notes in its scale, locked" in c
               for c in shown_all(page.caption))


def test_keep_the_good_bars_and_make_it_longer(page: AppTest) -> None:
    original = _generate(page, seconds=12)
    page.slider(key=f"generate_keep_{original.id}").set_value(2)
    page.number_input(key=f"generate_keepn_{original.id}").set_value(2)
    page.button(key=f"generate_keepgo_{original.id}").click().run()
    assert not page.exception and not page.error
    first, second = page.session_state[gen.HISTORY][:2]
    bar_end = 2 * steps_per_bar(original.result.piece.steps_per_quarter)

    def kept(view: gen.GenerationView) -> list:
        return [n for n in view.result.piece.notes if n.onset_step < bar_end]

    assert {first.label, second.label} == {f"{original.label}, new ending",
                                           f"{original.label}, new ending 2"}
    assert kept(first) == kept(second) == kept(original)
    assert first.result.midi_bytes != second.result.midi_bytes

    page.number_input(key=f"generate_longer_{original.id}").set_value(6)
    page.button(key=f"generate_longergo_{original.id}").click().run()
    assert not page.exception and not page.error
    longer = page.session_state[gen.HISTORY][0]
    assert longer.label == f"{original.label}, longer"
    assert gen.download_stem(longer) != gen.download_stem(original)  # never one file name
    assert longer.result.piece.duration_s >= original.result.piece.duration_s + 5
    assert longer.result.piece.notes[: len(original.result.piece.notes) // 2] == (
        original.result.piece.notes[: len(original.result.piece.notes) // 2]
    )


def test_a_recipe_link_plays_the_same_piece_on_the_listen_page(isolated_data_dir) -> None:
    at = _app(isolated_data_dir)
    view = _generate(at)
    params = recipe_to_params(PieceRecipe.of(view.result))
    shared = listen_page(params)
    assert shared.caption[0].value == "A piece shared with you"
    assert len(shared.get("audio")) == 1 and not shared.error
    assert shared.title[0].value == plain(view.label)  # titled from its seed, style and key
    # The media id of a download is the hash of its bytes and file name: the same MIDI.
    assert _midi_url(shared) == _midi_url(at)
    assert not any("retrained since" in shown(i) for i in shared.info)
    assert "Make one like it" in [b.label for b in shared.button]

    # A link made before the listen page (to /generate) opens it.
    old_page = _app(isolated_data_dir, params)
    assert old_page.title[0].value != "Generate" and not old_page.error
    assert old_page.caption[0].value == "A piece shared with you"

    # A link made with an earlier version of the model still plays, and says so.
    old = {k: v for k, v in params.items() if k != "check"} | {"mv": "0123abcd"}
    retrained = listen_page({**old, "check": _check(old)})
    assert any("retrained since this link was made" in shown(i) for i in retrained.info)
    assert not retrained.error and not retrained.exception

    tampered = listen_page({**params, "temperature": "0.1"})
    assert tampered.error and "cannot be played" in shown(tampered.error[0])
    assert not tampered.get("audio")
    garbage = listen_page(link_to_params("model=folk-tunes&seed=x&v=1"))
    assert garbage.error and "cannot be played" in shown(garbage.error[0])


def _midi_url(at: AppTest) -> str:
    """The media address of the first piece's MIDI download (the newest, or the shared one)."""
    return next(b.proto.url for b in at.get("download_button") if b.label == "MIDI")


def _player_rolls(at: AppTest) -> list[dict[str, Any]]:
    """What each player on the page draws (ui.player's picture), in page order."""
    return [json.loads(e.proto.json) for e in at.get("bidi_component")
            if e.proto.component_name == "tunesmith_player"]


def test_a_recorded_tune_is_heard_and_continued_at_once(page: AppTest) -> None:
    page.radio(key=controls.START_KEY).set_value(controls.START_HUM).run()
    page.get("file_uploader")[0].set_value(
        ("hummed.wav", HUMMED_TUNE.read_bytes(), "audio/wav")
    ).run()
    assert not page.exception and not page.error, shown_all(page.error)
    assert any("This is what I heard" in s for s in shown_all(page.markdown))
    (view,) = page.session_state[gen.HISTORY]
    result = view.result
    assert result.primer is not None and result.seam_step > 0
    assert result.key_label == "D major" and result.piece.duration_s > 10  # the tune's key
    # what it heard plays in its own player, as MP3, above the continuation's player
    digest = humming.Recording(HUMMED_TUNE.read_bytes(), "hummed.wav").digest
    (heard,) = [t for t in page.session_state[humming.HEARD].values()
                if not isinstance(t, str)]
    audios = page.get("audio")
    assert len(audios) == 2 and all(a.proto.url.endswith(".mp3") for a in audios)
    rolls = [r["container"] for r in _player_rolls(page)]
    assert rolls == [f"heard_{digest}_player", f"generate_play_{view.id}_player"]
    heard_roll = _player_rolls(page)[0]
    assert len(heard_roll["notes"]) == len(heard.piece.notes) > 5
    assert heard_roll["seam_s"] is None
    # its notes at the tune's own time; the audio (the x axis) holds them, and a note's fade
    last_end_s = max(end for _, end, _ in heard_roll["notes"])
    assert last_end_s == pytest.approx(heard.piece.duration_s, abs=1e-3)
    assert last_end_s <= heard_roll["total_s"] <= last_end_s + 2.0
    assert not page.get("plotly_chart")  # the player's picture is the only roll of the notes
    page.run()  # any later rerun does not continue the same recording again
    assert len(page.session_state[gen.HISTORY]) == 1


def test_a_recording_of_noise_gets_advice_and_no_piece(page: AppTest, tmp_path) -> None:
    noise = tmp_path / "noise.wav"
    rng = np.random.default_rng(0)
    soundfile.write(noise, 0.3 * rng.standard_normal(16_000 * 4), 16_000)
    page.radio(key=controls.START_KEY).set_value(controls.START_HUM).run()
    page.get("file_uploader")[0].set_value(("noise.wav", noise.read_bytes(), "audio/wav")).run()
    assert not page.exception
    assert page.error and "noise.wav" in shown(page.error[0])
    assert "noise" in shown(page.error[0]) or "no notes" in shown(page.error[0])
    assert not page.session_state[gen.HISTORY] if gen.HISTORY in page.session_state else True
    assert humming.HEARD in page.session_state


def _all_text(at: AppTest) -> str:
    """Every value and label the page holds, and its address."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    parts = [str(getattr(getattr(n, "proto", None), field, "")) for n in walk(at._tree)
             for field in ("body", "label", "url", "help")]
    parts += [str(getattr(n, "value", "")) for n in walk(at._tree)]
    return " ".join(parts) + " " + str(dict(at.query_params))


def test_a_piece_of_my_own_model_is_shared_by_a_link_that_gives_nothing_else_away(
    page: AppTest,
) -> None:
    import shutil

    from core.library.published import CHANGED, STOPPED
    from core.model.bundled import STYLES
    from core.storage.files import workspace_dir
    from ui import state

    ws = page.session_state[state.WORKSPACE_ID]
    shutil.copytree(STYLES["folk-tunes"].path, workspace_dir(ws) / "models" / "my tunes")
    page.run()
    label = next(o for o in page.selectbox(key=controls.MODEL_KEY).options if "my tunes" in o)
    page.selectbox(key=controls.MODEL_KEY).set_value(label).run()
    view = _generate(page)
    assert view.piece_id and view.result.model_name == "my tunes"
    assert "cannot travel by link" not in _all_text(page)
    page.button(key=f"generate_publish_{view.id}").click().run()
    assert not page.exception and not page.error
    (link,) = [c.value for c in page.get("code") if "/listen?p=" in c.value]
    assert ws not in link and "ws=" not in link

    friend = listen_page(link_to_params(link))
    assert friend.title[0].value == plain(view.label)
    assert len(friend.get("audio")) == 1 and not friend.error
    everything = _all_text(friend)
    assert ws not in everything and "ws" not in dict(friend.query_params)
    assert "my tunes" not in everything  # not even the model's name
    assert _midi_url(friend) != ""

    page.button(key=f"generate_unshare_{view.id}").click().run()
    assert not page.exception
    stopped = listen_page(link_to_params(link))
    assert [shown(e) for e in stopped.error] == [STOPPED]
    assert not stopped.get("audio")
    changed = listen_page({"p": link_to_params(link)["p"][:-2] + "xy"})
    assert [shown(e) for e in changed.error] == [CHANGED]
    assert [shown(e) for e in listen_page({"p": "../../workspaces"}).error] == [CHANGED]


def test_make_one_like_it_opens_generate_on_the_same_style(isolated_data_dir) -> None:
    at = _app(isolated_data_dir)
    at.selectbox(key=controls.MODEL_KEY).set_value("Irish folk tunes (bundled)").run()
    params = recipe_to_params(PieceRecipe.of(_generate(at).result))
    friend = listen_page(params)
    next(b for b in friend.button if b.label == "Make one like it").click().run()
    assert not friend.exception
    assert friend.title[0].value == "Generate"
    assert friend.selectbox(key=controls.MODEL_KEY).value == "Irish folk tunes (bundled)"
