"""Share a piece by link: the recipe that regenerates it (a bundled model, the seed, the
settings, the length, and the primer when it is small), as URL query parameters.

A piece is a pure function of its recipe (`Generator.generate` is deterministic), so opening a
link in a fresh browser, with no workspace, gives byte-identical MIDI. Only bundled models can
travel this way: a user's own model lives in one workspace on one server.

    recipe = PieceRecipe.of(result)                 # from a generated piece
    params = recipe_to_params(recipe)               # {"v": "2", "model": ..., "check": ...}
    link = recipe_to_link(recipe, base_url)         # https://host/generate?v=2&model=...
    recipe = params_to_recipe(query)                # raises InvalidLinkError naming the field

Links are signed with the server's secret (HMAC-SHA256 of their own parameters, `check`), so a
link cut short by a chat app, changed by hand or made up is refused with one sentence rather than
played as a different piece; and whatever a link says, it asks for no longer a piece than the
Generate page offers, so opening one costs the server at most one click on Generate. They also
carry the model's version (`mv`, a fingerprint of its weights): when a bundled model has been
retrained since, the link still plays, and `model_changed` says the piece is not the one shared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from core.errors import InvalidLinkError, NotShareableError
from core.generation.form import FORM_FREE
from core.generation.generator import Generator
from core.generation.primers import MAX_PRIMER_TOKENS, Primer
from core.generation.result import GenerationResult
from core.generation.settings import SEED_LIMIT, SamplingSettings
from core.model.bundled import MODEL_VERSION_CHARS, STYLES, model_version
from core.music.meter import parse_meter
from core.music.scales import Scale, parse_scale, parse_tonic, tonic_name
from core.storage.files import atomic_write_bytes, data_dir

log = logging.getLogger(__name__)

PUBLIC_URL_ENV = "TUNESMITH_PUBLIC_URL"  # where the app is served, for links the CLI prints
DEFAULT_PUBLIC_URL = "http://localhost:8501"
GENERATE_PAGE_PATH = "generate"  # the page that plays a shared piece
# Version 2 links are signed with the server's key. Version 1 links (made before 2026-12-02)
# carry an unkeyed checksum that anyone can compute, so a made-up one is as good as a real one;
# they keep playing (issue 25: "Bundled-model recipe links keep working") because every link,
# signed or not, is held to the Generate page's lengths (MAX_LINK_LENGTH_S, MAX_LINK_TOKENS):
# a made-up version 1 link costs no more than a click on Generate, which anyone may make.
LINK_VERSION = "2"
UNSIGNED_LINK_VERSION = "1"
MAX_LINK_PRIMER_CHARS = 1_500  # the encoded primer; longer tunes do not travel by URL
MAX_PRIMER_TEXT_BYTES = 64_000  # decompressed primer text, checked while decompressing
CHECK_CHARS = 10  # version 1's checksum
# 64 bits of HMAC-SHA256: guessing one means about 2**63 requests, each refused at once.
SIGNATURE_CHARS = 16
SHARE_KEY_BYTES = 32  # the secret behind the signatures (256 bits, as HMAC-SHA256's output)
SHARE_KEY_PATH = Path("secrets") / "share_key"  # under the data directory, shared by replicas
# The longest piece a link may ask for: the Generate page's length slider ends at 120 s
# (ui/generate_controls.MAX_LENGTH_S; a test checks they agree), at a tempo of at most 400 BPM
# (SamplingSettings; the page reaches it when it continues a fast tune at its own tempo).
MAX_LINK_LENGTH_S = 120.0
# Links in tokens come from the CLI (`generate --tokens`, 400 by default); the page's longest
# piece at its slider's top tempo (120 s at 200 BPM) is 2,100 tokens of folk tunes and 3,600 of
# Bach chorales (measured 2026-12-02), so a link in tokens costs no more than one of those.
# Without a cap, `tokens=20000` took 69 s of CPU (folk tunes, 2 cores).
MAX_LINK_TOKENS = 4_000
# The parameters a link owns; anything else in a URL (the workspace id, a tracker) is ignored.
LINK_KEYS = (
    "v",
    "model",
    "mv",
    "seed",
    "temperature",
    "top_k",
    "top_p",
    "seconds",
    "tokens",
    "bpm",
    "program",
    "key",
    "scale",
    "lock",
    "loop_guard",
    "pace",
    "original",
    "form",
    "meter",
    "primer",
    "primer_shift",
    "primer_key",
    "primer_scale",
    "primer_meter",
    "primer_pickup",
    "primer_snippet",
    "check",
)


@dataclass(frozen=True)
class PieceRecipe:
    """Everything that regenerates a piece with a bundled model."""

    model: str  # a bundled style's name, e.g. "folk-tunes"
    seed: int
    settings: SamplingSettings
    primer: Primer | None = None
    model_version: str | None = None  # the weights' fingerprint; None: the model as it is now

    @classmethod
    def of(cls, result: GenerationResult) -> PieceRecipe:
        """The recipe of a generated piece.

        Raises:
            NotShareableError: the piece comes from a model that is not bundled.
        """
        if result.model_name not in STYLES:
            raise NotShareableError(
                f"{result.model_name}: a piece from your own model cannot travel as a recipe "
                "(the model lives in your workspace); publish it from your pieces for a "
                "listen link, or download it"
            )
        return cls(result.model_name, result.seed, result.settings, result.primer)


# ---------------------------------------------------------------- the server's key

_keys: dict[Path, bytes] = {}  # data directory's key file → the key, read once per process
PROCESS_KEY = Path("(this process)")  # where `_keys` holds a key no data directory could


def _read_key(path: Path) -> bytes | None:
    """The key in `path`; None when there is none, or what is there is not a key this module
    wrote. Raises OSError when the file is there but cannot be read."""
    try:
        text = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return key if len(key) == SHARE_KEY_BYTES else None


def _write_key(path: Path, *, replace: bool) -> None:
    """A new key in `path` (mode 0600: mkstemp's), written whole, and never over another
    replica's: the first one written wins, and everyone reads it back."""
    candidate = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    atomic_write_bytes(candidate, secrets.token_bytes(SHARE_KEY_BYTES).hex().encode("ascii"))
    try:
        os.chmod(candidate, 0o600)
        if replace:
            os.replace(candidate, path)
            return
        try:
            os.link(candidate, path)  # fails when another replica has written one meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: the last writer wins instead
            os.replace(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)


def share_key() -> bytes:
    """The secret that signs share links: made once per data directory (`SHARE_KEY_PATH`), so
    links outlive restarts and every replica on a shared data directory signs alike.

    When the data directory cannot hold it (read-only, full), a key for this process only:
    links then play until the server restarts.
    """
    try:
        path = data_dir() / SHARE_KEY_PATH
        if path not in _keys:
            _keys[path] = _stored_key(path)
        return _keys[path]
    except OSError as error:
        log.warning("share links are signed with a key for this process only: %s", error)
        return _keys.setdefault(PROCESS_KEY, secrets.token_bytes(SHARE_KEY_BYTES))


def _stored_key(path: Path) -> bytes:
    """The key in `path`, written first when there is none (or a damaged one: it signs nothing).

    Raises:
        OSError: the data directory cannot hold it.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = _read_key(path)
    if key is None:
        _write_key(path, replace=path.exists())
        key = _read_key(path)
    if key is None:
        raise OSError(f"{path.name} cannot be read back")
    return key


def _check(params: Mapping[str, str]) -> str:
    """The check a link of `params`' version carries: the server's signature (version 2), or
    the unkeyed checksum of version 1."""
    canonical = urlencode(sorted((k, v) for k, v in params.items() if k != "check")).encode()
    if params.get("v") == UNSIGNED_LINK_VERSION:
        return hashlib.sha256(canonical).hexdigest()[:CHECK_CHARS]
    return hmac.new(share_key(), canonical, hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]


def _too_long(settings: SamplingSettings) -> str | None:
    """Why a piece of these settings is longer than a link may ask for; None when it is not."""
    if settings.length_s is not None and settings.length_s > MAX_LINK_LENGTH_S:
        return (
            f"{settings.length_s:g} seconds of new music, and a link may ask for at most "
            f"{MAX_LINK_LENGTH_S:g}"
        )
    if settings.length_s is None and (settings.length_tokens or 0) > MAX_LINK_TOKENS:
        return (
            f"{settings.length_tokens} new tokens, and a link may ask for at most {MAX_LINK_TOKENS}"
        )
    return None


def _number(value: float) -> str:
    return repr(float(value))  # the shortest text that reads back as the same float


def encode_primer_tokens(tokens: tuple[str, ...]) -> str:
    packed = zlib.compress(" ".join(tokens).encode("ascii"), 9)
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_primer_tokens(text: str) -> tuple[str, ...]:
    """Raises InvalidLinkError when the text is not a primer this module wrote."""
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_PRIMER_TEXT_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError("too long or cut short")
        return tuple(raw.decode("ascii").split())
    except (binascii.Error, ValueError, zlib.error) as error:
        raise InvalidLinkError(f"this link's tune (primer) cannot be read ({error})") from error


def recipe_to_params(recipe: PieceRecipe) -> dict[str, str]:
    """The recipe as query parameters, signature last.

    Raises:
        NotShareableError: the primer is too long for a URL, or the piece is longer than a
            link may ask for.
    """
    s = recipe.settings
    too_long = _too_long(s)
    if too_long:
        raise NotShareableError(
            f"this piece is too long for a link ({too_long}); download the piece instead"
        )
    params: dict[str, str] = {"v": LINK_VERSION, "model": recipe.model, "seed": str(recipe.seed)}
    params["mv"] = recipe.model_version or model_version(STYLES[recipe.model].path)
    params["temperature"] = _number(s.temperature)
    params["top_k"] = str(s.top_k)
    params["top_p"] = _number(s.top_p)
    if s.length_s is not None:
        params["seconds"] = _number(s.length_s)
    else:
        params["tokens"] = str(s.length_tokens)
    params["bpm"] = _number(s.tempo_bpm)
    params["program"] = str(s.program)
    if s.key is not None:
        params["key"] = tonic_name(s.key)
    if s.scale is not None:
        params["scale"] = s.scale
    if s.lock_scale:
        params["lock"] = "1"
    if not s.loop_guard:
        params["loop_guard"] = "0"
    if s.keep_pace:
        params["pace"] = "1"
    if s.avoid_copies:
        params["original"] = "1"
    if s.form != FORM_FREE:
        params["form"] = s.form
    if s.meter:
        params["meter"] = s.meter
    primer = recipe.primer
    if primer is not None:
        encoded = encode_primer_tokens(primer.tokens)
        if len(encoded) > MAX_LINK_PRIMER_CHARS:
            raise NotShareableError(
                f"the tune this piece continues is too long for a link ({len(encoded)} "
                f"characters, at most {MAX_LINK_PRIMER_CHARS}); download the piece instead"
            )
        params["primer"] = encoded
        params["primer_shift"] = str(primer.transpose_semitones)
        if primer.tonic is not None:
            params["primer_key"] = tonic_name(primer.tonic)
        if primer.scale is not None:
            params["primer_scale"] = primer.scale
        if primer.meter:
            params["primer_meter"] = primer.meter
        if primer.pickup_steps:
            params["primer_pickup"] = str(primer.pickup_steps)
        if primer.from_training:  # a snippet of the model's music: it goes on in the form
            params["primer_snippet"] = "1"
    params["check"] = _check(params)
    return params


def public_base_url() -> str:
    """The Generate page's address under `TUNESMITH_PUBLIC_URL` (the pages know their own)."""
    root = os.environ.get(PUBLIC_URL_ENV, "").strip() or DEFAULT_PUBLIC_URL
    return f"{root.rstrip('/')}/{GENERATE_PAGE_PATH}"


def recipe_to_link(recipe: PieceRecipe, base_url: str) -> str:
    """`base_url` (the Generate page's address) with the recipe as its query."""
    base = base_url.split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(recipe_to_params(recipe))}"


# ---------------------------------------------------------------- reading a link


def link_to_params(link: str) -> dict[str, str]:
    """The query parameters of a whole link (or of a bare query string)."""
    query = urlsplit(link).query if "?" in link or "://" in link else link
    return dict(parse_qsl(query, keep_blank_values=True))


def is_share_link(params: Mapping[str, str]) -> bool:
    """Whether a page's query parameters hold a piece (the page then plays it)."""
    return "model" in params and "seed" in params


def _field(params: Mapping[str, str], key: str, meaning: str) -> str:
    value = params.get(key)
    if value is None or value == "":
        raise InvalidLinkError(f"this link has no {key} ({meaning}); it may have been cut short")
    return value


def _int(params: Mapping[str, str], key: str, meaning: str, low: int, high: int) -> int:
    text = _field(params, key, meaning)
    try:
        value = int(text)
    except ValueError:
        raise InvalidLinkError(f"this link's {key} ({meaning}) is not a whole number") from None
    if not low <= value <= high:
        raise InvalidLinkError(f"this link's {key} ({meaning}) must lie within {low}..{high}")
    return value


def _float(params: Mapping[str, str], key: str, meaning: str) -> float:
    text = _field(params, key, meaning)
    try:
        value = float(text)
    except ValueError:
        raise InvalidLinkError(f"this link's {key} ({meaning}) is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidLinkError(f"this link's {key} ({meaning}) is not a number")
    return value


def _optional(params: Mapping[str, str], key: str) -> str | None:
    value = params.get(key)
    return value if value else None


def _scale(params: Mapping[str, str], key: str) -> str | None:
    text = _optional(params, key)
    if text is None:
        return None
    try:
        return parse_scale(text).value
    except ValueError:
        names = ", ".join(s.value for s in Scale)
        raise InvalidLinkError(f"this link's {key} must be one of: {names}") from None


def _tonic(params: Mapping[str, str], key: str) -> int | None:
    text = _optional(params, key)
    if text is None:
        return None
    try:
        return parse_tonic(text)
    except ValueError:
        raise InvalidLinkError(f"this link's {key} is not a key name (C, C#, D … B)") from None


def _meter(params: Mapping[str, str], key: str) -> str:
    text = _optional(params, key)
    if text is None:
        return ""
    try:
        return str(parse_meter(text))
    except ValueError:
        raise InvalidLinkError(f"this link's {key} is not a meter (such as 6/8)") from None


def params_to_recipe(params: Mapping[str, str]) -> PieceRecipe:
    """A recipe from a link's query parameters, each checked before anything is generated.

    Raises:
        InvalidLinkError: a parameter is missing, malformed, out of range, or the link was
            changed after it was made; the message names the parameter.
    """
    params = {k: v for k, v in params.items() if k in LINK_KEYS}
    version = _field(params, "v", "the link's version")
    if version not in (LINK_VERSION, UNSIGNED_LINK_VERSION):
        raise InvalidLinkError(
            f"this link is of version {version[:12]}; this app reads versions "
            f"{UNSIGNED_LINK_VERSION} and {LINK_VERSION}"
        )
    if not hmac.compare_digest(params.get("check", "").encode(), _check(params).encode()):
        raise InvalidLinkError(
            "this link is incomplete or was changed after it was made (its check does not "
            "match); ask for the link again"
        )
    model = _field(params, "model", "which bundled model")
    if model not in STYLES:
        raise InvalidLinkError(
            f"this link's model {model[:40]!r} is not a bundled model ({', '.join(STYLES)})"
        )
    version_of_model = _optional(params, "mv")  # links made before 2026-11-26 have none
    if version_of_model is not None and not (
        len(version_of_model) == MODEL_VERSION_CHARS
        and all(c in "0123456789abcdef" for c in version_of_model)
    ):
        raise InvalidLinkError(
            "this link's mv (the model's version) is not a version this app writes"
        )
    seed = _int(params, "seed", "the piece's seed", 0, SEED_LIMIT - 1)
    seconds = "seconds" in params
    try:
        settings = SamplingSettings(
            temperature=_float(params, "temperature", "how adventurous"),
            top_k=_int(params, "top_k", "top-k", 0, 100_000),
            top_p=_float(params, "top_p", "top-p"),
            length_s=_float(params, "seconds", "the length") if seconds else None,
            length_tokens=None if seconds else _int(params, "tokens", "the length", 1, 10**9),
            tempo_bpm=_float(params, "bpm", "the tempo"),
            program=_int(params, "program", "the instrument", 0, 127),
            key=_tonic(params, "key"),
            scale=_scale(params, "scale"),
            lock_scale=params.get("lock", "0") == "1",
            loop_guard=params.get("loop_guard", "1") != "0",
            # Links made before the sampler kept a piece's pace (2026-11-26) have no "pace":
            # they still play the piece that was shared.
            keep_pace=params.get("pace", "0") == "1",
            # Nor those made before it stopped copies of 2 training bars (the same day).
            avoid_copies=params.get("original", "0") == "1",
            # Nor those made before phrases returned (issue 27): they play in free form.
            form=params.get("form", FORM_FREE),
            # Nor those made before pieces had meters: their pieces take the tune's (none).
            meter=params.get("meter", ""),
        )
    except ValueError as error:
        if isinstance(error, InvalidLinkError):
            raise
        raise InvalidLinkError(f"this link's settings cannot be used: {error}") from error
    too_long = _too_long(settings)
    if too_long:
        raise InvalidLinkError(f"this link asks for too long a piece ({too_long})")
    primer = None
    if "primer" in params:
        tokens = decode_primer_tokens(params["primer"])
        if not tokens or len(tokens) > MAX_PRIMER_TOKENS:
            raise InvalidLinkError(
                f"this link's tune (primer) must hold 1..{MAX_PRIMER_TOKENS} tokens"
            )
        primer = Primer(
            tokens,
            transpose_semitones=_int(params, "primer_shift", "the tune's transposition", -11, 11),
            tonic=_tonic(params, "primer_key"),
            scale=_scale(params, "primer_scale"),
            meter=_meter(params, "primer_meter"),
            pickup_steps=(
                _int(params, "primer_pickup", "where the tune's first bar line falls", 0, 10**4)
                if "primer_pickup" in params
                else 0
            ),
            # links made before snippets went on in the style's form play free, as they did
            from_training=params.get("primer_snippet", "0") == "1",
        )
    return PieceRecipe(model, seed, settings, primer, version_of_model)


def model_changed(recipe: PieceRecipe) -> bool:
    """Whether the link's bundled model has been retrained since the link was made (so the
    piece it plays is not the one shared). Unknown for links that carry no version: False."""
    return recipe.model_version is not None and recipe.model_version != model_version(
        STYLES[recipe.model].path
    )


def check_primer_fits(primer: Primer, generator_tokens: frozenset[str] | set[str]) -> None:
    """Raises InvalidLinkError when the link's tune holds tokens the model does not know, or
    is not music in the model's grammar (so generating from it could only fail later)."""
    from core.tokens.grammar import GrammarState

    unknown = [t for t in primer.tokens if t not in generator_tokens]
    if unknown:
        raise InvalidLinkError(
            f"this link's tune (primer) holds tokens the model does not know ({unknown[0][:12]})"
        )
    try:
        grammar = GrammarState.after(list(primer.tokens))
    except ValueError as error:
        raise InvalidLinkError(f"this link's tune (primer) is not valid music ({error})") from None
    if grammar.finished:
        raise InvalidLinkError("this link's tune (primer) ends the piece")


def recipe_to_result(
    recipe: PieceRecipe, *, generator: Generator | None = None
) -> GenerationResult:
    """Regenerate the piece a recipe names (`generator`: the loaded bundled model, if at hand).

    Raises:
        InvalidLinkError: the recipe's tune does not fit the model.
    """
    generator = generator or Generator.from_folder(recipe.model)
    if recipe.primer is not None:
        check_primer_fits(recipe.primer, frozenset(generator.vocab.tokens))
    return generator.generate(recipe.settings, seed=recipe.seed, primer=recipe.primer)
