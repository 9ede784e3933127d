"""One door to both harmonizers: a melody and a style in, a harmonization out."""

from __future__ import annotations

from core.harmonize.melody import Melody
from core.harmonize.result import Harmonization, HarmonyStyle


def harmonize(melody: Melody, *, style: HarmonyStyle | str, seed: int = 0) -> Harmonization:
    """The melody harmonized in `style`; the same seed gives the same harmonization.

    Raises:
        InvalidModelError: the chorale harmonizer's model folder cannot be used.
        ValueError: `style` names no style.
    """
    style = HarmonyStyle(style)
    if style is HarmonyStyle.CHORALE:
        from core.harmonize.chorale import load_chorale_harmonizer

        return load_chorale_harmonizer().harmonize(melody, seed=seed)
    from core.harmonize.chords import harmonize_with_chords

    return harmonize_with_chords(melody, seed=seed)
