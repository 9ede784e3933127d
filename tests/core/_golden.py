"""Readable generation goldens: the tokens a bundled model generates for a fixed recipe, checked
in as tests/fixtures/golden/<name>.json (one token a line, so a change reads as a diff).

Re-record, only when a change is meant to change the music (the bundled models, the sampler's
defaults): `.venv/bin/python scripts/record_goldens.py [NAME...]`, then read
`git diff tests/fixtures/golden/` before committing it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.generation.generator import Generator
from core.generation.result import GenerationResult
from core.generation.settings import SamplingSettings

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
# name -> what is generated: a bundled model, the settings given (the rest are the defaults,
# which the golden therefore pins too) and the seed.
RECIPES: dict[str, dict[str, Any]] = {
    "bach_chorales_seed5": {
        "model": "bach-chorales",
        "settings": {"length_tokens": 200},
        "seed": 5,
    },
}
CONTEXT_TOKENS = 6  # shown either side of the first difference


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


def generate(name: str, generator: Generator | None = None) -> GenerationResult:
    """The recipe's piece, from `generator` (the recipe's model, loaded unless given)."""
    recipe = RECIPES[name]
    generator = generator or Generator.from_folder(recipe["model"])
    return generator.generate(SamplingSettings(**recipe["settings"]), seed=recipe["seed"])


def record(name: str) -> Path:
    """Write the recipe's golden from the current code."""
    result = generate(name)
    path = golden_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    golden = {
        "recipe": RECIPES[name],
        "token_count": len(result.tokens),
        "tokens": list(result.tokens),
        "midi_sha256": hashlib.sha256(result.midi_bytes).hexdigest(),
    }
    path.write_text(json.dumps(golden, indent=1) + "\n")
    return path


def load(name: str) -> dict[str, Any]:
    golden: dict[str, Any] = json.loads(golden_path(name).read_text())
    return golden


def token_difference(name: str, golden: list[str], tokens: list[str]) -> str | None:
    """None when the tokens are the golden's; otherwise where they part, in words."""
    if tokens == golden:
        return None
    first = next(
        (i for i, (a, b) in enumerate(zip(golden, tokens, strict=False)) if a != b),
        min(len(golden), len(tokens)),
    )
    lo = max(0, first - CONTEXT_TOKENS)

    def around(seq: list[str]) -> str:
        window = seq[lo : first + CONTEXT_TOKENS + 1]
        shown = [f"[{t}]" if lo + i == first else t for i, t in enumerate(window)]
        return " ".join([*shown, "[end]"] if first >= len(seq) else shown)

    return (
        f"{name}: {len(tokens)} tokens against the golden's {len(golden)}; they part at token "
        f"{first}:\n  golden: ... {around(golden)}\n  now:    ... {around(tokens)}\n"
        f"If the music is meant to change, re-record: .venv/bin/python scripts/record_goldens.py "
        f"{name} (and read the diff of {golden_path(name).relative_to(GOLDEN_DIR.parents[2])})"
    )
