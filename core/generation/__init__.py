"""New music from a model: sampling settings, the generator, primers, pace, the copy guard,
continuations and share links."""

from core.generation.continuation import bar_count, keep_bars, make_longer
from core.generation.generator import DEFAULT_MODEL_DIR, Generator
from core.generation.primers import Primer, music_to_primer, piece_to_primer
from core.generation.result import GenerationResult
from core.generation.settings import (
    CREATIVITY_LEVELS,
    DEFAULT_CREATIVITY,
    PAGE_TEMPO_BPM,
    SamplingSettings,
    creativity_to_settings,
    new_seed,
)
from core.generation.share_links import (
    GENERATE_PAGE_PATH,
    LINK_KEYS,
    PieceRecipe,
    is_share_link,
    model_changed,
    params_to_recipe,
    recipe_to_link,
    recipe_to_result,
)

__all__ = [
    "CREATIVITY_LEVELS",
    "DEFAULT_CREATIVITY",
    "DEFAULT_MODEL_DIR",
    "GENERATE_PAGE_PATH",
    "LINK_KEYS",
    "PAGE_TEMPO_BPM",
    "GenerationResult",
    "Generator",
    "PieceRecipe",
    "Primer",
    "SamplingSettings",
    "bar_count",
    "creativity_to_settings",
    "is_share_link",
    "keep_bars",
    "make_longer",
    "model_changed",
    "music_to_primer",
    "new_seed",
    "params_to_recipe",
    "piece_to_primer",
    "recipe_to_link",
    "recipe_to_result",
]
