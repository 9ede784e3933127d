"""What a person can cause is a TunesmithError (pages show its message), and every error class
lives in core/errors.py."""

from __future__ import annotations

import ast

import pytest

from core.errors import InvalidSettingError, TunesmithError
from core.generation.settings import SamplingSettings
from core.model.network import ModelConfig
from core.music.scales import parse_scale, parse_tonic
from core.tokens.config import EncodingConfig
from core.training.config import TrainingConfig
from core.transcription.params import TranscriptionParams
from tests.conftest import REPO


@pytest.mark.parametrize(
    "make",
    [
        lambda: SamplingSettings(temperature=-1.0),
        lambda: SamplingSettings(length_tokens=0),
        lambda: ModelConfig(units=0),
        lambda: EncodingConfig(steps_per_quarter=5),
        lambda: TrainingConfig(batch_size=0),
        lambda: TranscriptionParams(onset_threshold=1.5),
        lambda: parse_scale("dorian"),
        lambda: parse_tonic("H"),
    ],
)
def test_a_setting_out_of_range_is_a_tunesmith_error(make):
    with pytest.raises(InvalidSettingError) as refused:
        make()
    assert isinstance(refused.value, TunesmithError) and isinstance(refused.value, ValueError)
    assert str(refused.value)


def test_every_error_class_is_defined_in_core_errors():
    elsewhere = []
    for path in (REPO / "core").rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {ast.unparse(b) for b in node.bases}
                named_like_one = node.name.endswith(("Error", "Cancelled"))
                if named_like_one or bases & {"Exception", "ValueError"}:
                    elsewhere.append(f"{path.relative_to(REPO)}: {node.name}")
    assert elsewhere == []
