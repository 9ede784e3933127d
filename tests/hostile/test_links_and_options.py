"""Issue 29, findings 5 and 10 replayed: hand-made share links, and command-line numbers out of
bounds. Each is refused with one sentence before it costs anything; old links still play."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest

from core.cli import command_parser, main
from core.errors import InvalidLinkError
from core.generation.generator import Generator
from core.generation.settings import SamplingSettings
from core.generation.share_links import (
    MAX_LINK_LENGTH_S,
    MAX_LINK_TOKENS,
    PieceRecipe,
    _check,
    link_to_params,
    params_to_recipe,
    recipe_to_params,
    recipe_to_result,
)
from tests.core.generation.test_share_links import OLD_LINK, OLD_LINK_SETTINGS
from tests.hostile.conftest import REQUEST_CPU_S, within

FORGED_TOKENS = 20_000  # the probe's link: 69 s of CPU before links were signed and capped


@pytest.fixture(scope="module")
def folk() -> Generator:
    return Generator.from_folder("folk-tunes")  # the page keeps it loaded (st.cache_resource)


def _real_params() -> dict[str, str]:
    return recipe_to_params(PieceRecipe("folk-tunes", 7, SamplingSettings(length_tokens=60)))


def _unkeyed(params: dict[str, str]) -> dict[str, str]:
    """The checksum links carried before they were signed: anyone could compute it."""
    params = {k: v for k, v in params.items() if k != "check"}
    canonical = urlencode(sorted(params.items())).encode()
    return {**params, "check": hashlib.sha256(canonical).hexdigest()[:10]}


def _play(params: dict[str, str], generator: Generator) -> bytes:
    return recipe_to_result(params_to_recipe(params), generator=generator).midi_bytes


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_forged_long_link_is_refused_cheaply(folk: Generator, isolated_data_dir,
                                               version: str) -> None:
    forged = _unkeyed({**_real_params(), "v": version, "tokens": str(FORGED_TOKENS)})
    with within(cpu_s=1), pytest.raises(InvalidLinkError) as refused:
        _play(forged, folk)
    # Version 2 is signed with the server's key; version 1's checksum is right, its length not.
    reason = "changed after it was made" if version == "2" else f"at most {MAX_LINK_TOKENS}"
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_three_forged_links_at_once_cost_nothing(folk: Generator, isolated_data_dir) -> None:
    forged = _unkeyed({**_real_params(), "tokens": str(FORGED_TOKENS)})
    with within(cpu_s=1):
        for _ in range(3):
            with pytest.raises(InvalidLinkError):
                _play(forged, folk)


@pytest.mark.parametrize(
    "length", [{"tokens": str(FORGED_TOKENS)}, {"seconds": "600.0"}], ids=["tokens", "seconds"]
)
def test_a_signed_link_asking_for_more_than_the_page_offers_is_refused(
    folk: Generator, isolated_data_dir, length: dict[str, str]
) -> None:
    params = {k: v for k, v in _real_params().items() if k not in ("tokens", "check")}
    params = {**params, **length}
    signed = {**params, "check": _check(params)}  # as if the server itself had signed it
    with within(cpu_s=1), pytest.raises(InvalidLinkError, match="too long a piece"):
        _play(signed, folk)


def test_an_old_bundled_link_still_plays(folk: Generator, isolated_data_dir) -> None:
    with within():
        played = _play(link_to_params(OLD_LINK), folk)
    assert played == folk.generate(OLD_LINK_SETTINGS, seed=2025).midi_bytes


def test_the_link_cap_is_the_generate_pages_longest_piece() -> None:
    from ui.generate_controls import MAX_LENGTH_S

    assert MAX_LINK_LENGTH_S == MAX_LENGTH_S


def test_forged_links_opened_one_after_another_are_each_refused_in_a_sentence(
    isolated_data_dir,
) -> None:
    """Link after link on the listen page, each forged: each gets its sentence at once, and
    nothing of them is kept (played recipes are cached, bounded: `st.cache_data(max_entries)`;
    refused ones never reach it)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/listen.py")
    with within(cpu_s=REQUEST_CPU_S * 2):  # six page runs, the first imports the page
        for seed in range(6):
            at.query_params.clear()
            at.query_params.update(_unkeyed({**_real_params(), "seed": str(seed)}))
            at.run()
            assert not at.exception and at.error


# ---------------------------------------------------------------- command-line numbers

REQUIRED = {
    "train": ["--data", "bach-chorales", "--out", "never-written"],
    "dataset": ["--preset", "bach-chorales"],
    "render": ["in.mid", "--out", "out.wav"],
    "transcribe": ["in.wav", "--out-dir", "never-written"],
}


@pytest.mark.parametrize(
    ("command", "option", "value", "said"),
    [
        ("train", "--sequence-length", "100000", "--sequence-length: must be a whole number"),
        ("train", "--sequence-length", "4096", "would take about 4,"),  # within its range
        ("train", "--limit", "-1", "--limit: must be a whole number from 1"),
        ("dataset", "--valid-fraction", "1", "--valid-fraction: must be a number above 0"),
        ("render", "--sample-rate", "1", "--sample-rate: must be a whole number from 8000"),
        ("transcribe", "--max-minutes", "nan", "--max-minutes: must be a number above 0"),
    ],
)
def test_a_number_out_of_bounds_is_one_sentence_and_exit_2(
    capsys, isolated_data_dir, tmp_path, monkeypatch, command: str, option: str, value: str,
    said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    command_parser(command)  # the command's imports, which the CLI pays once at start
    if command == "train":
        import core.training.fine_tuning  # noqa: F401
    with within(cpu_s=1):
        try:
            code = main([command, *REQUIRED[command], option, value])
        except SystemExit as exit_info:  # argparse's refusal
            code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "never-written").exists()
