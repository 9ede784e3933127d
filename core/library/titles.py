"""Short readable titles a person can tell apart ("Misty Reel in D major"), and the file names
downloads get from them.

A title is a pure function of the piece's seed, its style, its key and its meter, so the same
piece gets the same title wherever it is made again (a share link opened by a friend, "play it
again the same way"). Two pieces of one library never share a title: `unique_title` numbers
the second ("Misty Reel in D major 2"); titles are compared as their file names are, so their
downloads never collide either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from core.errors import InvalidSettingError

# 64 words: with 8 nouns a style, 512 titles before the key, so two pieces of one style and
# key share a title about once in 500 (and `unique_title` numbers them apart then).
ADJECTIVES = (
    "Amber", "Autumn", "Blue", "Bright", "Brisk", "Calm", "Candle", "Cedar",
    "Clear", "Cloud", "Copper", "Coral", "Crimson", "Dawn", "Distant", "Dusk",
    "Early", "Echoing", "Evening", "Far", "Feather", "Gentle", "Glad", "Golden",
    "Green", "Harbour", "Hidden", "Hollow", "Honey", "Ivory", "Lantern", "Late",
    "Light", "Linen", "Little", "Lonely", "Lucky", "Meadow", "Midnight", "Misty",
    "Morning", "Moss", "Northern", "Old", "Open", "Paper", "Quiet", "Rain",
    "River", "Rose", "Rowan", "Silver", "Slow", "Snow", "Spring", "Star",
    "Stone", "Summer", "Swift", "Velvet", "Wander", "Willow", "Winter", "Young",
)  # fmt: skip
STYLE_NOUNS: dict[str, tuple[str, ...]] = {
    "bach-chorales": (
        "Chorale", "Hymn", "Prayer", "Psalm", "Anthem", "Carol", "Canticle", "Vesper",
    ),
    "folk-tunes": ("Reel", "Jig", "Air", "Hornpipe", "Dance", "Polka", "Ballad", "Slide"),
}  # fmt: skip
# A dance is in its meter: a piece of a stated meter is never named for a dance of another (a
# jig in 4/4 read wrong to anyone who knows one), and a meter with a dance of its own adds it.
# Nouns not listed here (Air, Ballad, Dance, Chorale...) fit any meter. A piece that states no
# meter (a blank page) is named as before, so the titles of older links stay as they were.
NOUN_METERS: dict[str, frozenset[str]] = {
    "Reel": frozenset({"4/4", "2/2"}),
    "Hornpipe": frozenset({"4/4", "2/2"}),
    "Jig": frozenset({"6/8"}),
    "Polka": frozenset({"2/4"}),
    "Slide": frozenset({"12/8"}),
}
METER_NOUNS: dict[str, tuple[str, ...]] = {
    "3/4": ("Waltz", "Mazurka"),
    "9/8": ("Slip Jig",),
    "2/4": ("March",),
}
OWN_MODEL_NOUNS = ("Tune", "Song", "Melody", "Theme", "Sketch", "Study", "Refrain", "Air")
MAX_TITLE_CHARS = 80  # a line on a phone; names people type are cut there
MAX_STEM_CHARS = 80  # file names stay short on every system
STEM_TAIL_CHARS = 12  # a long name is cut in its middle, so its number (" 2") is kept


def spoken_key(key: str) -> str:
    """A key as people say it: "A natural minor" → "A minor"."""
    return key.replace(" natural minor", " minor")


def piece_title(*, seed: int, style: str, key: str = "", meter: str = "") -> str:
    """ "Misty Reel in D major": a word from the seed, a noun of the style (a bundled style's
    name, or anything else for a model of one's own) that fits the piece's `meter` when it
    states one, and the key when it is known."""
    nouns = STYLE_NOUNS.get(style, OWN_MODEL_NOUNS)
    if meter:
        fitting = tuple(n for n in nouns if meter in NOUN_METERS.get(n, (meter,)))
        if fitting != nouns:  # a style with dances: its meter's own join them
            fitting += METER_NOUNS.get(meter, ())
        nouns = fitting or nouns
    adjective = ADJECTIVES[seed % len(ADJECTIVES)]
    noun = nouns[(seed // len(ADJECTIVES)) % len(nouns)]
    return f"{adjective} {noun}" + (f" in {spoken_key(key)}" if key else "")


def clean_title(text: str) -> str:
    """A name a person typed, fit to show: control characters and runs of spaces gone, at most
    `MAX_TITLE_CHARS`.

    Raises:
        InvalidSettingError: nothing readable is left.
    """
    printable = "".join(
        " " if unicodedata.category(c)[0] in "CZ" else c for c in unicodedata.normalize("NFC", text)
    )
    title = " ".join(printable.split())[:MAX_TITLE_CHARS].strip()
    if not any(c.isalnum() for c in title):
        raise InvalidSettingError("a name needs at least one letter or digit")
    return title


def title_to_stem(title: str) -> str:
    """The file name a download of the piece gets, without its extension:
    "Misty Reel in D major" → "misty-reel-in-d-major"."""
    ascii_text = unicodedata.normalize("NFKD", title.replace("#", " sharp "))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(stem) > MAX_STEM_CHARS:  # the end stays: it holds the number `unique_title` adds
        head = stem[: MAX_STEM_CHARS - STEM_TAIL_CHARS - 1].rstrip("-")
        stem = f"{head}-{stem[-STEM_TAIL_CHARS:]}"
    return stem.strip("-") or "tunesmith-piece"


def unique_title(title: str, taken: Iterable[str]) -> str:
    """`title`, numbered ("… 2", "… 3") when a title in `taken` would give the same file name."""
    stems = {title_to_stem(t) for t in taken}
    if title_to_stem(title) not in stems:
        return title
    number = 2
    while True:
        suffix = f" {number}"
        candidate = title[: MAX_TITLE_CHARS - len(suffix)].rstrip() + suffix
        if title_to_stem(candidate) not in stems:
            return candidate
        number += 1
