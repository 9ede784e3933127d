"""Form plans: the sampler restates earlier bars as the plan says, within every rule."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from core.evaluation.form import form_profile
from core.generation.form import (
    FORM_FILE,
    FormKeeper,
    FormPlan,
    plan_from_runs,
    read_form_plan,
    write_form_plan,
)
from core.generation.generator import Generator
from core.generation.settings import SamplingSettings
from core.model.bundled import STYLES

BAR = ["P60", "D4", "T4", "P64", "D4", "T4", "P67", "D8", "T8"]  # 16 steps: one 4/4 bar


def test_a_plan_round_trips_and_refuses_what_is_no_plan(tmp_path) -> None:
    plan = FormPlan(start={1: 0.1, 8: 0.3}, go_on={8: 0.875}, quarters_per_bar=3.0)
    write_form_plan(tmp_path, plan)
    assert read_form_plan(tmp_path) == plan
    for bad in ('{"start": {"3": 0.5}}', '{"start": {"1": 2}}', "[1, 2]", "{not json"):
        (tmp_path / FORM_FILE).write_text(bad)
        assert read_form_plan(tmp_path) is None, bad
    assert read_form_plan(None) is None
    with pytest.raises(ValueError, match="quarters_per_bar"):
        FormPlan(start={}, go_on={}, quarters_per_bar=0.0)


def test_runs_and_shares_become_chances_that_reproduce_them() -> None:
    plan = plan_from_runs({1: 0.5, 8: 0.25}, {1: 2.0, 8: 8.0})
    assert plan.go_on[1] == pytest.approx(0.5) and plan.go_on[8] == pytest.approx(0.875)
    assert plan.start[1] == pytest.approx(0.5) and plan.start[8] == pytest.approx(1 / 24)
    assert plan.start[2] == 0.0 and plan.go_on[2] == 0.0  # nothing recurs there
    # a two-state chain with these chances spends `share` of its bars restating
    rng, restating, bars = np.random.default_rng(1), False, []
    for _ in range(200_000):
        chance = plan.go_on[8] if restating else plan.start[8]
        restating = bool(rng.random() < chance)
        bars.append(restating)
    assert np.mean(bars) == pytest.approx(0.25, abs=0.01)


def test_the_keeper_proposes_the_bar_it_restates_and_stops_when_refused() -> None:
    keeper = FormKeeper(FormPlan(start={1: 1.0}, go_on={1: 1.0}), 16, np.random.default_rng(0))
    assert keeper.proposal() is None  # bar 0: nothing to restate yet
    for token in BAR:
        keeper.add(token)
    proposed = []
    while keeper.proposal() is not None and len(proposed) < len(BAR):
        proposed.append(keeper.proposal())
        keeper.add(proposed[-1])
    assert proposed == BAR and keeper.restated_bars == 2  # bar 2 goes on restating bar 1
    keeper.refused()
    assert keeper.proposal() is None
    keeper.add("P72")  # the model writes on
    assert keeper.proposal() is None


def test_a_note_held_over_the_bar_line_leaves_that_bar_unrestated() -> None:
    keeper = FormKeeper(FormPlan(start={1: 1.0}, go_on={}), 16, np.random.default_rng(0))
    for token in ["P60", "D4", "T12", "P62", "D8", "T8"]:  # the last shift crosses the line
        keeper.add(token)
    assert keeper.marks == [0, None] and keeper.proposal() is None


def test_a_snippet_primes_the_keeper_from_its_upbeat_and_its_bars_return_later() -> None:
    plan = FormPlan(start={1: 1.0}, go_on={1: 0.0})
    with pytest.raises(ValueError, match="pickup"):
        FormKeeper(plan, 16, np.random.default_rng(0), pickup_steps=16)
    keeper = FormKeeper(plan, 16, np.random.default_rng(0), pickup_steps=4)
    keeper.prime(["P55", "D4", "T4", *BAR[:-1]])  # an upbeat of a quarter, then most of a bar
    assert keeper.marks == [None, 3] and keeper.proposal() is None  # nothing restates in it
    keeper.add("T8")  # the model's first token reaches the bar line: the bar before returns
    assert keeper.proposal() == "P60" and keeper.restated_bars == 1
    on_the_line = FormKeeper(plan, 16, np.random.default_rng(0), pickup_steps=4)
    on_the_line.prime(["P55", "D4", "T4", *BAR])  # a snippet that ends on a bar line
    assert on_the_line.marks == [None, 3, 12] and on_the_line.proposal() == "P60"
    upbeat_only = FormKeeper(plan, 16, np.random.default_rng(0), pickup_steps=4)
    upbeat_only.prime(["P55", "D4", "T4"])
    assert upbeat_only.proposal() is None  # the upbeat is no bar to restate


@pytest.fixture(scope="module")
def folk_folder(tmp_path_factory):
    """A copy of the bundled folk model without its form plan (its notes fall on bar lines,
    which a random tiny model's seldom do)."""
    folder = tmp_path_factory.mktemp("model") / "folk"
    shutil.copytree(STYLES["folk-tunes"].path, folder)
    (folder / FORM_FILE).unlink(missing_ok=True)
    return folder


def test_a_model_with_a_plan_returns_to_its_bars_and_free_form_is_unchanged(folk_folder) -> None:
    settings = SamplingSettings(length_tokens=600)
    before = Generator.from_folder(folk_folder).generate(settings, seed=5)
    write_form_plan(folk_folder, plan_from_runs({2: 0.4, 4: 0.3}, {2: 2.0, 4: 4.0}))
    try:
        generator = Generator.from_folder(folk_folder)
        free = generator.generate(SamplingSettings(length_tokens=600, form="free"), seed=5)
        planned = generator.generate(settings, seed=5)
        again = generator.generate(settings, seed=5)
    finally:
        (folk_folder / FORM_FILE).unlink()
    assert free.midi_bytes == before.midi_bytes  # free form: the piece it always was
    assert planned.midi_bytes == again.midi_bytes  # same seed, same piece
    free_profile, planned_profile = form_profile(free.piece), form_profile(planned.piece)
    assert (planned_profile[2] or 0) + (planned_profile[4] or 0) > (
        (free_profile[2] or 0) + (free_profile[4] or 0) + 0.2
    ), (free_profile, planned_profile)


def test_a_snippet_of_its_music_goes_on_in_its_form_and_a_users_tune_goes_its_own_way(
    folk_folder,
) -> None:
    from dataclasses import replace

    write_form_plan(folk_folder, plan_from_runs({2: 0.5, 4: 0.3}, {2: 2.0, 4: 4.0}))
    try:
        generator = Generator.from_folder(folk_folder)
        snippet = generator.excerpt_primer(np.random.default_rng(3))
        assert snippet is not None and snippet.from_training
        tune = replace(snippet, from_training=False)
        settings = SamplingSettings(length_tokens=600)
        free = SamplingSettings(length_tokens=600, form="free")
        planned = [generator.generate(settings, seed=s, primer=snippet) for s in range(4)]
        unplanned = [generator.generate(free, seed=s, primer=snippet) for s in range(4)]
        own = [generator.generate(settings, seed=s, primer=tune) for s in range(4)]
    finally:
        (folk_folder / FORM_FILE).unlink()
    assert [p.midi_bytes for p in own] == [p.midi_bytes for p in unplanned]

    def returns(results) -> float:
        profiles = [form_profile(r.piece) for r in results]
        return float(np.mean([(p[2] or 0) + (p[4] or 0) for p in profiles]))

    assert returns(planned) > returns(unplanned) + 0.2


def test_a_form_the_app_does_not_know_is_refused() -> None:
    from core.errors import InvalidSettingError

    with pytest.raises(InvalidSettingError, match="form"):
        SamplingSettings(form="rondo")


def test_a_link_carries_its_form_and_older_links_play_in_free_form() -> None:
    from core.generation.share_links import PieceRecipe, params_to_recipe, recipe_to_params

    for form in ("style", "free"):
        recipe = PieceRecipe("folk-tunes", 9, SamplingSettings(length_s=10.0, form=form))
        params = recipe_to_params(recipe)
        assert ("form" in params) == (form == "style")
        assert params_to_recipe(params).settings.form == form


def test_a_link_to_a_snippet_piece_keeps_it_in_form_and_older_links_play_free() -> None:
    from core.generation.primers import Primer
    from core.generation.share_links import PieceRecipe, params_to_recipe, recipe_to_params

    snippet = Primer(("T4", "P60", "D4"), meter="6/8", pickup_steps=2, from_training=True)
    params = recipe_to_params(PieceRecipe("folk-tunes", 9, SamplingSettings(), snippet))
    assert params["primer_snippet"] == "1"
    assert params_to_recipe(params).primer == snippet
    older = recipe_to_params(
        PieceRecipe("folk-tunes", 9, SamplingSettings(), Primer(("T4", "P60", "D4")))
    )
    assert "primer_snippet" not in older
    assert params_to_recipe(older).primer.from_training is False


def test_calibration_aims_only_where_the_music_brings_bars_back(folk_folder, monkeypatch) -> None:
    import core.evaluation.form_plan as form_plan
    from core.evaluation.form import MIN_JUDGED_SHARE, collection_form_profile, cut_to_beats
    from core.model.model_data import TRAINING_NOTES_FILE
    from core.model.training_notes import TrainingNotes

    # a distance the target hardly brings back (1 bar) neither counts as a miss nor moves
    assert form_plan._miss({1: 0.0, 4: 0.1}, {1: MIN_JUDGED_SHARE / 2, 4: 0.1}) == 0.0
    assert form_plan._miss({1: 0.01, 4: 0.05}, {1: 0.02, 4: 0.1}) == pytest.approx(np.log(2.0))

    training = TrainingNotes.load(folk_folder / TRAINING_NOTES_FILE).pieces()[:200]
    settings = form_plan.evaluation_settings()
    target = collection_form_profile(
        [cut_to_beats(p, settings.tempo_bpm / 60.0 * (settings.length_s or 0.0)) for p in training]
    )
    assert target[1] < MIN_JUDGED_SHARE <= target[4]  # real tunes: 4 bars on, not 1
    made: list[FormPlan] = []

    seeds: list[int] = []

    def profile_of(generator, plan, settings, pieces, *, first_seed):  # as if generated
        made.append(plan)
        seeds.append(first_seed)
        return {1: 0.0, 2: target[2], 4: target[4] / (4.0 if len(made) == 1 else 1.0), 8: target[8]}

    monkeypatch.setattr(form_plan, "_profile_of", profile_of)
    plan = FormPlan(start={1: 0.01, 2: 0.03, 4: 0.02, 8: 0.02}, go_on={4: 0.4})
    generator = Generator.from_folder(folk_folder)
    calibrated = form_plan.calibrate_form_plan(generator, plan, training, pieces=4, rounds=3)
    # 4 bars came back a quarter as often: its chance raised 4x, the rest left alone; 1 bar,
    # which real tunes hardly bring back, is not chased though the pieces never bring it back
    assert calibrated.start[4] == pytest.approx(0.08) and calibrated.start[1] == 0.01
    assert calibrated.start[2] == pytest.approx(0.03) and calibrated.go_on == plan.go_on
    assert len(made) == 2 and generator.form_plan == calibrated  # on target: it stops
    assert seeds[1] - seeds[0] == 4  # each round's pieces are new ones


def test_calibration_pools_its_rounds_and_moves_at_most_max_gain_a_round() -> None:
    import core.evaluation.form_plan as form_plan

    target = {1: 0.0, 2: 0.04, 4: 0.08, 8: 0.02}
    low = FormPlan(start={2: 0.01, 4: 0.04, 8: 0.01}, go_on={})
    high = FormPlan(start={2: 0.03, 4: 0.04, 8: 0.01}, go_on={})
    # 2 bars: 0.01 brought back 0.01, 0.03 brought back 0.05: pooled, 0.06 per 0.04 of chance;
    # 4 bars: never brought back, raised by the most a round allows; 8 bars: on target
    measured = [(low, {2: 0.01, 4: 0.0, 8: 0.02}), (high, {2: 0.05, 4: 0.0, 8: 0.02})]
    plan = form_plan._rescaled(high, measured, target)
    assert plan.start[2] == pytest.approx(0.04 * 0.04 / 0.06) and plan.start[4] == pytest.approx(
        0.16
    )
    assert plan.start[8] == pytest.approx(0.01)
    far = form_plan._rescaled(low, [(low, {2: 0.0001, 4: 0.08, 8: 0.02})], target)
    assert far.start[2] == pytest.approx(0.04)  # 400x wanted, 4x a round
