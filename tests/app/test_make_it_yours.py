"""Generate page, "make it yours": key, scale and lock; keep the good bars; make it longer; a
share link (made, opened, tampered with); a recorded tune continued; an unusable recording."""

from __future__ import annotations

import html

import numpy as np
import pytest
import soundfile
from streamlit.testing.v1 import AppTest

from core.generation.continuation import steps_per_bar
from core.generation.share_links import PieceRecipe, _check, link_to_params, recipe_to_params
from core.music.scales import Scale, scale_pitch_classes
from tests.app.shown import shown, shown_all
from tests.conftest import REPO
from ui import generate_controls as controls
from ui import generation as gen
from ui import humming

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

    assert f"bars 1–2 of seed {original.result.seed}" in first.label
    assert kept(first) == kept(second) == kept(original)
    assert first.result.midi_bytes != second.result.midi_bytes

    page.number_input(key=f"generate_longer_{original.id}").set_value(6)
    page.button(key=f"generate_longergo_{original.id}").click().run()
    longer = page.session_state[gen.HISTORY][0]
    assert "6 s longer" in longer.label and longer.label.count("seed") == 2
    assert longer.result.piece.duration_s >= original.result.piece.duration_s + 5
    assert longer.result.piece.notes[: len(original.result.piece.notes) // 2] == (
        original.result.piece.notes[: len(original.result.piece.notes) // 2]
    )


def test_a_piece_of_a_bundled_model_has_a_link_that_plays_it_again(isolated_data_dir) -> None:
    at = _app(isolated_data_dir)
    view = _generate(at)
    codes = [c.value for c in at.get("code")]
    assert any("seed=11" in code and "ws=" not in code for code in codes)
    buttons = [h.proto.body for h in at.get("html")]  # the one-click "Copy link"
    (link,) = [c for c in codes if "seed=11" in c]
    assert any(f'data-link="{html.escape(link, quote=True)}"' in b for b in buttons)
    params = recipe_to_params(PieceRecipe.of(view.result))
    shared = _app(isolated_data_dir, params)
    assert any("A piece shared with you" in s for s in shown_all(shared.subheader))
    (shared_view,) = shared.session_state["generate_shared"].values()
    assert shared_view.result.midi_bytes == view.result.midi_bytes
    assert not any("retrained since" in shown(i) for i in shared.info)

    # A link made with an earlier version of the model still plays, and says so.
    old = {k: v for k, v in params.items() if k != "check"} | {"mv": "0123abcd"}
    retrained = _app(isolated_data_dir, {**old, "check": _check(old)})
    assert any("retrained since this link was made" in shown(i) for i in retrained.info)
    assert not retrained.error and not retrained.exception

    tampered = _app(isolated_data_dir, {**params, "temperature": "0.1"})
    assert tampered.error and "cannot be played" in shown(tampered.error[0])
    assert not tampered.exception
    garbage = _app(isolated_data_dir, link_to_params("model=folk-tunes&seed=x&v=1"))
    assert garbage.error and "cannot be played" in shown(garbage.error[0])


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


def test_a_piece_of_my_own_model_offers_the_workspace_link_instead(page: AppTest) -> None:
    from dataclasses import replace

    from ui import state

    view = _generate(page)
    mine = replace(view, result=replace(view.result, model_name="my-tunes"), id="mine")
    page.session_state[gen.HISTORY] = [mine]
    page.run()
    infos = shown_all(page.info)
    assert any(i.startswith("A piece from your own model cannot travel by link") for i in infos)
    codes = [c.value for c in page.get("code")]
    assert codes == [f"http://localhost:8501/generate?ws={page.session_state[state.WORKSPACE_ID]}"]


def test_a_shared_piece_can_be_kept_and_closed(isolated_data_dir) -> None:
    at = _app(isolated_data_dir)
    params = recipe_to_params(PieceRecipe.of(_generate(at).result))
    shared = _app(isolated_data_dir, params)
    (view,) = shared.session_state["generate_shared"].values()
    shared.button(key=f"shared_keep_{view.id}").click().run()
    assert shared.session_state[gen.HISTORY][0].result.midi_bytes == view.result.midi_bytes
    shared.button(key="shared_close").click().run()
    assert "seed" not in shared.query_params and "model" not in shared.query_params
    assert not any(s.startswith("🎁") for s in shown_all(shared.subheader))  # only the kept copy
