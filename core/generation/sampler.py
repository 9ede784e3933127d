"""New music from a trained model, one token at a time, with the LSTM state carried along
(the network runs in numpy: `core.model.step_model`; how a piece starts: `core.generation.primers`).

Every step is constrained: tokens the grammar forbids at this point (`GrammarState`), PAD, UNK
and BOS are never chosen, and EOS only once the requested length is reached, so the output is
always valid music. A loop guard masks the token that would continue a short cycle repeated
many times over (the same pitch thirty times, the same bar again and again).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import Config
from core.errors import EvaluationError, InvalidModelError
from core.generation.copy_guard import CopyGuard
from core.generation.pace import PaceKeeper
from core.generation.primers import (
    DEFAULT_PRIMER_EXCERPT_TOKENS,
    Primer,
    excerpt_primer,
    read_primers,
)
from core.model.bundled import DEFAULT_STYLE, STYLES, resolve_model_dir

# core.model imports TensorFlow only where a network is built or loaded (a test checks), so the
# fast load path here can take the folder's file names from it.
from core.model.folder import METRICS_FILE, MODEL_FILE, REQUIRED_FILES, read_encoding_and_vocab
from core.model.step_model import StepModel
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import DEFAULT_TEMPO_BPM, Piece, seconds_to_steps, transpose_piece
from core.music.scales import (
    PITCH_CLASSES,
    KeyPlan,
    check_tonic,
    key_label,
    parse_scale,
    plan_key,
    tonic_name,
)
from core.progress import ProgressCallback
from core.tokens.config import EncodingConfig
from core.tokens.grammar import GrammarState
from core.tokens.scheme import (
    BOS,
    EOS,
    PAD,
    UNK,
    TokenKind,
    token_kind,
    token_value,
    tokens_to_piece,
)
from core.tokens.vocabulary import Vocabulary

if TYPE_CHECKING:
    from core.model.folder import TrainedModel

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = STYLES[DEFAULT_STYLE].path  # what `--model default` and the pages start on

DEFAULT_TEMPERATURE = 1.0
# The tempo the pages play new pieces at (Generate's default, Home's tune, Evaluate's pieces);
# `SamplingSettings` and the CLI keep a piece's own default, `core.music.piece.DEFAULT_TEMPO_BPM`.
PAGE_TEMPO_BPM = 100.0
DEFAULT_TOP_K = 0  # 0: off
DEFAULT_TOP_P = 0.95
DEFAULT_LENGTH_TOKENS = 400
MAX_LENGTH_TOKENS = 20_000
MAX_LENGTH_S = 600.0
GREEDY_TEMPERATURE = 1e-6  # at or below this, sampling is argmax
# Loop guard: a cycle of up to MAX_LOOP_PERIOD_TOKENS tokens seen MIN_LOOP_REPEATS times in a
# row (and covering at least MIN_LOOP_TOKENS tokens) may not go on: its next token is masked.
FINAL_CHORD_TOKENS = 32  # past the length, the last chord may take this many tokens more
MAX_LOOP_PERIOD_TOKENS = 24
MIN_LOOP_REPEATS = 4
MIN_LOOP_TOKENS = 24
MAX_SAME_PITCH_RUN = 8  # after this many notes of one pitch in a row, that pitch is masked
PROGRESS_EVERY_TOKENS = 100
# The nucleus (top-p) cut applies to what comes next (time shifts, pitches, the end); a note's
# length is drawn from the model's whole distribution at the temperature. Top-p dropped the
# rare long notes (a chorale's fermatas, a tune's held ends), so the music came out busier than
# what the model learned. Measured 2026-11-26 (`bench bundled_style`, 90 pieces per model, OA
# as a share of real-vs-real): folk tunes' note lengths 0.905 -> 0.955 and time between notes
# 0.92 -> 0.944; chorales' note lengths 0.87 -> 0.896 and time between notes 0.891 -> 0.894.
DURATION_TOP_P = 1.0
# The same for how far time moves: the nucleus decides whether time moves on at all (so a
# chord's size, the polyphony, is as before), and the shift, once chosen, is drawn again from
# the model's whole distribution of shifts at the temperature. The cut had dropped rare long
# gaps after a held chord. Measured 2026-11-26 (the same bench): the chorales' mean time
# between onsets 0.68 -> 0.713 beats (real 0.71), their time between notes 0.894 -> 0.909 and
# note lengths 0.896 -> 0.902; folk tunes' features all stay >= 0.9 in every seed range.
SHIFT_TOP_P = 1.0
SEED_LIMIT = 2**31  # seeds shown to people stay short


# ---------------------------------------------------------------- settings and results


@dataclass(frozen=True)
class SamplingSettings(Config):
    """How to sample. Length is in new tokens, or in seconds of new music at `tempo_bpm`."""

    temperature: float = DEFAULT_TEMPERATURE
    top_k: int = DEFAULT_TOP_K
    top_p: float = DEFAULT_TOP_P
    length_tokens: int | None = DEFAULT_LENGTH_TOKENS
    length_s: float | None = None  # when set, wins over length_tokens
    tempo_bpm: float = DEFAULT_TEMPO_BPM
    program: int = 0  # General MIDI instrument written into the MIDI file
    loop_guard: bool = True
    keep_pace: bool = True  # the piece keeps its opening's pace and chord size (`pace`)
    avoid_copies: bool = True  # no 2 bars copied from the training music (`copy_guard`)
    _: KW_ONLY
    key: int | None = None  # tonic (0 = C .. 11 = B) of the output; None: the tune's / model's
    scale: str | None = None  # a core.music.scales.Scale value; None: the tune's / model's mode
    lock_scale: bool = False  # new notes only on the scale's pitch classes

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 10.0:
            raise ValueError("temperature must be within 0..10")
        if self.top_k < 0:
            raise ValueError("top_k must be 0 (off) or positive")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError("top_p must be within (0, 1]")
        if self.length_s is None and self.length_tokens is None:
            raise ValueError("give a length in tokens or in seconds")
        if self.length_tokens is not None and not 1 <= self.length_tokens <= MAX_LENGTH_TOKENS:
            raise ValueError(f"length_tokens must be within 1..{MAX_LENGTH_TOKENS}")
        if self.length_s is not None and not 0.0 < self.length_s <= MAX_LENGTH_S:
            raise ValueError(f"length_s must be within (0, {MAX_LENGTH_S:g}]")
        if not 20.0 <= self.tempo_bpm <= 400.0:
            raise ValueError("tempo_bpm must be within 20..400")
        if not 0 <= self.program <= 127:
            raise ValueError("program must be a General MIDI program 0..127")
        if self.key is not None:
            object.__setattr__(self, "key", check_tonic(self.key, name="key"))
        if self.scale is not None:  # "minor", "natural-minor", a Scale: stored as its value
            object.__setattr__(self, "scale", parse_scale(self.scale).value)


# The plain-language levels the pages offer; "Balanced" is the default everywhere (the Generate
# page, Home's "Play me a new tune", and the pieces an evaluation generates).
CREATIVITY_LEVELS: dict[str, float] = {
    "Calm": 0.15,
    "Balanced": 0.5,
    "Adventurous": 0.75,
    "Wild": 1.0,
}
DEFAULT_CREATIVITY = "Balanced"
# Creativity 0 / 0.5 / 1 → (temperature, top-p), straight lines between. The middle is the
# model's own distribution without its least likely 5% (SamplingSettings' defaults, so the CLI
# and the pages agree): measured on the bundled models (`bench bundled_style`, 90 pieces each)
# it is closer to the real held-out music than the earlier T 0.915 / top-p 0.917 on scale
# consistency, pitch-class entropy, copying, and the folk tunes' note lengths and rhythm.
CREATIVITY_POINTS = (0.0, 0.5, 1.0)
CREATIVITY_TEMPERATURES = (0.6, DEFAULT_TEMPERATURE, 1.3)
CREATIVITY_TOP_PS = (0.85, DEFAULT_TOP_P, 1.0)


def creativity_to_settings(creativity: float, **overrides: Any) -> SamplingSettings:
    """Plain-language "creativity" 0..1 → temperature 0.6..1.3 and top-p 0.85..1.0."""
    level = min(max(float(creativity), 0.0), 1.0)
    temperature = round(float(np.interp(level, CREATIVITY_POINTS, CREATIVITY_TEMPERATURES)), 3)
    top_p = round(float(np.interp(level, CREATIVITY_POINTS, CREATIVITY_TOP_PS)), 3)
    return SamplingSettings(temperature=temperature, top_p=top_p, **overrides)


@dataclass(frozen=True)
class GenerationResult:
    """A generated piece: its tokens (BOS, primer, new tokens, EOS), the decoded piece and MIDI.

    Tokens are in the model's key; the piece and MIDI are moved by `transpose_semitones` into the
    key heard (`tonic`, `scale`: what was asked for or the tune's key; None when neither).
    """

    tokens: tuple[str, ...]
    primer_length: int  # tokens after BOS that came from the primer
    piece: Piece
    midi_bytes: bytes
    seed: int
    settings: SamplingSettings
    model_name: str = ""
    primer: Primer | None = None
    transpose_semitones: int = 0  # output pitch = token pitch + this
    tonic: int | None = None
    scale: str | None = None

    @property
    def new_tokens(self) -> tuple[str, ...]:
        return tuple(t for t in self.tokens[1 + self.primer_length :] if t != EOS)

    @property
    def seam_step(self) -> int:
        """The time step where the new music starts (0 without a primer)."""
        primer = self.tokens[1 : 1 + self.primer_length]
        return sum(token_value(t) for t in primer if token_kind(t) is TokenKind.SHIFT)

    @property
    def seam_s(self) -> float:
        """`seam_step` in seconds at the piece's tempo."""
        return self.seam_step / self.piece.steps_per_quarter * 60.0 / self.piece.tempo_bpm

    @property
    def key_label(self) -> str:
        """The key heard, e.g. "D major" or "F# blues"; "" when it is unknown."""
        if self.tonic is None:
            return ""
        return key_label(self.tonic, self.scale) if self.scale else tonic_name(self.tonic)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "seed": self.seed,
            "tokens": len(self.tokens),
            "primer_tokens": self.primer_length,
            "new_tokens": len(self.new_tokens),
            "notes": len(self.piece.notes),
            "duration_s": round(self.piece.duration_s, 3),
            "key": self.key_label,
            "scale_locked": self.settings.lock_scale,
            "transpose_semitones": self.transpose_semitones,
            "settings": self.settings.to_dict(),
        }


def new_seed() -> int:
    """A fresh random seed ("surprise me"), small enough to read aloud."""
    return secrets.randbelow(SEED_LIMIT)


# ---------------------------------------------------------------- grammar masks


class _TokenTable:
    """Per-token facts as arrays, so a grammar state becomes a boolean mask in microseconds."""

    def __init__(self, vocab: Vocabulary, encoding: EncodingConfig) -> None:
        from core.tokens.scheme import is_valid_token

        n = len(vocab)
        self.kinds = np.full(n, -1, dtype=np.int8)  # -1: never sampled
        self.values = np.zeros(n, dtype=np.int32)
        for index, token in enumerate(vocab.tokens):
            if token in (PAD, UNK, BOS) or not is_valid_token(token, encoding):
                continue
            kind = token_kind(token)
            self.kinds[index] = _KIND_CODES[kind]
            if kind is not TokenKind.SPECIAL:
                self.values[index] = token_value(token)
        self.eos_id = vocab.eos_id
        self.kind_masks = {kind: self.kinds == code for kind, code in _KIND_CODES.items()}

    def scale_mask(self, plan: KeyPlan) -> np.ndarray | None:
        """False for the pitch tokens outside the locked scale, as heard; None without a lock."""
        pitch_classes = plan.allowed_pitch_classes()
        if pitch_classes is None:
            return None
        heard = (self.values + plan.transpose_semitones) % PITCH_CLASSES
        return ~self.kind_masks[TokenKind.PITCH] | np.isin(heard, sorted(pitch_classes))

    def opening_masks(self, plan: KeyPlan) -> tuple[np.ndarray, np.ndarray] | None:
        """Masks for the first chord, as heard: its lowest note on the planned key's tonic, the
        others on the tonic chord (False for the pitch tokens outside them)."""
        if plan.tonic is None or plan.scale is None:
            return None
        chord = sorted({(plan.tonic + i) % PITCH_CLASSES for i in plan.scale.tonic_triad})
        heard = (self.values + plan.transpose_semitones) % PITCH_CLASSES
        others = ~self.kind_masks[TokenKind.PITCH]
        return others | (heard == plan.tonic), others | np.isin(heard, chord)

    def mask(self, state: GrammarState, *, allow_eos: bool) -> np.ndarray:
        allowed = np.zeros(len(self.kinds), dtype=bool)
        for kind in state.allowed_kinds():
            allowed |= self.kind_masks[kind]
        if state.last_pitch_in_chord >= 0:
            allowed &= ~(
                self.kind_masks[TokenKind.PITCH] & (self.values <= state.last_pitch_in_chord)
            )
        if not allow_eos:
            allowed[self.eos_id] = False
        return allowed

    def mask_copies(
        self, allowed: np.ndarray, guard: CopyGuard, *, after: TokenKind | None
    ) -> None:
        """Mask the pitches (or, after a pitch, the lengths) that would copy 2 training bars,
        if anything else is allowed: the model then takes its next choice."""
        if after is TokenKind.PITCH:
            longest = guard.max_length()
            if longest is None:
                return
            banned = self.kind_masks[TokenKind.DURATION] & (self.values > longest)
        else:
            pitches = guard.blocked_pitches()
            if not pitches:
                return
            banned = self.kind_masks[TokenKind.PITCH] & np.isin(self.values, sorted(pitches))
        if (allowed & ~banned).any():
            allowed &= ~banned


_KIND_CODES: dict[TokenKind, int] = {
    TokenKind.SPECIAL: 0,
    TokenKind.SHIFT: 1,
    TokenKind.PITCH: 2,
    TokenKind.DURATION: 3,
}


def _loop_continuation(history: Sequence[int]) -> int | None:
    """The token that would continue a cycle repeated too often at the end of `history`."""
    n = len(history)
    for period in range(1, MAX_LOOP_PERIOD_TOKENS + 1):
        span = max(period * MIN_LOOP_REPEATS, MIN_LOOP_TOKENS)
        if span > n:
            break
        if history[-1] != history[-1 - period]:
            continue
        tail = history[n - span :]
        if tail[period:] == tail[:-period]:
            return history[-period]
    return None


def _follow(token: str, watchers: Sequence[PaceKeeper | CopyGuard]) -> None:
    """Tell what watches the piece grow (its pace, its copies) that time moved or a note began."""
    kind = token_kind(token)
    if kind is TokenKind.SHIFT:
        for watcher in watchers:
            watcher.advance(token_value(token))
    elif kind is TokenKind.PITCH:
        for watcher in watchers:
            watcher.note(token_value(token))


# ---------------------------------------------------------------- sampling one token


def sample_from_logits(
    logits: np.ndarray,
    allowed: np.ndarray,
    rng: np.random.Generator,
    *,
    temperature: float,
    top_k: int = 0,
    top_p: float = 1.0,
) -> int:
    """One token id among `allowed`, by temperature, then top-k, then nucleus (top-p)."""
    candidates = np.flatnonzero(allowed)
    if candidates.size == 0:
        raise ValueError("no token is allowed here")
    scores = logits[candidates].astype(np.float64)
    if temperature <= GREEDY_TEMPERATURE or candidates.size == 1:
        return int(candidates[int(np.argmax(scores))])
    order = np.argsort(-scores, kind="stable")
    if top_k > 0:
        order = order[:top_k]
    scores = scores[order] / temperature
    probs = np.exp(scores - scores[0])
    probs /= probs.sum()
    if top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(probs), top_p)) + 1
        probs = probs[:keep] / probs[:keep].sum()
    choice = int(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum(), side="right"))
    return int(candidates[order[min(choice, len(probs) - 1)]])


# ---------------------------------------------------------------- the generator


class Generator:
    """A loaded model ready to generate: its numpy step model, vocabulary and grammar masks."""

    def __init__(
        self,
        step_model: StepModel,
        *,
        encoding: EncodingConfig,
        vocab: Vocabulary,
        name: str = "model",
        path: Path | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        if step_model.vocab_size != len(vocab):
            raise InvalidModelError(f"{name}: the network does not match its vocabulary")
        self.step_model = step_model
        self.encoding = encoding
        self.vocab = vocab
        self.name = name
        self.path = path
        self.metrics = metrics or {}
        self._table = _TokenTable(self.vocab, self.encoding)
        self.primers = read_primers(path) if path else ()

    @classmethod
    def from_trained(cls, trained: TrainedModel, *, name: str = "") -> Generator:
        """A generator from a model loaded with Keras (`core.model.load_model_folder`)."""
        return cls(
            StepModel.from_keras(trained.keras_model),
            encoding=trained.encoding,
            vocab=trained.vocab,
            name=name or (trained.path.name if trained.path else "model"),
            path=trained.path,
            metrics=trained.metrics,
        )

    @classmethod
    def from_folder(cls, path: Path | str) -> Generator:
        """Load a model folder (or "default") into a generator.

        The weights are read straight from `model.keras` when it has the standard layout (no
        TensorFlow import: milliseconds), else through Keras with `safe_mode=True`.

        Raises:
            InvalidModelError: the folder is not a usable model.
        """
        folder = resolve_model_dir(path)
        name = folder.name  # a bundled model's folder is its name ("bach-chorales", ...)
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            raise InvalidModelError(
                f"{folder.name}: not a model folder (missing {', '.join(missing)})"
            )
        step_model = StepModel.from_keras_file(folder / MODEL_FILE)
        if step_model is None:
            from core.model.folder import load_model_folder

            return cls.from_trained(load_model_folder(folder), name=name)
        encoding, vocab = read_encoding_and_vocab(folder)
        try:
            metrics_path = folder / METRICS_FILE
            metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
        except (OSError, ValueError) as error:
            raise InvalidModelError(f"{folder.name}: corrupt {METRICS_FILE} ({error})") from error
        return cls(
            step_model, encoding=encoding, vocab=vocab, name=name, path=folder, metrics=metrics
        )

    def generate(
        self,
        settings: SamplingSettings,
        *,
        seed: int,
        primer: Primer | None = None,
        on_progress: ProgressCallback[str] | None = None,
    ) -> GenerationResult:
        """A new piece. The same model, settings, primer and seed give the same piece."""
        rng = np.random.default_rng(seed)
        table = self._table
        plan = self.plan_key(settings, primer)
        scale_mask = table.scale_mask(plan)  # new notes only; the primer's stay as they are
        # A scale asked for without a tune: the first chord stands on that key's tonic. A
        # key-normalized model writes C major and A minor alike (the same notes), so the mode
        # was the model's whim. Measured (keys D, F, G, Bb x 10 seeds, 300 tokens; pieces in
        # the mode asked, without -> with it): chorales major 24 -> 32 of 40, minor 12 -> 16;
        # folk tunes major 32 -> 40, minor 8 -> 8; with SHIFT_TOP_P's redraw (with it) 28, 20,
        # 36 and 24 of 40. A nudge, not a guarantee (docs/generation.md, "Key and scale").
        opening = table.opening_masks(plan) if settings.scale and primer is None else None
        primer_tokens = list(primer.tokens) if primer else []
        grammar = GrammarState.after(primer_tokens)
        if grammar.finished:
            raise ValueError("the primer ends the piece (EOS)")
        step_model = self.step_model
        state = step_model.initial_state()
        logits = np.zeros(step_model.vocab_size, dtype=np.float32)
        history: list[int] = []
        pace = PaceKeeper(steps_per_quarter=self.encoding.steps_per_quarter)
        guard = self.copy_guard() if settings.avoid_copies else None
        watchers: list[PaceKeeper | CopyGuard] = [pace, guard] if guard else [pace]
        for token in (BOS, *primer_tokens):
            token_id = self.vocab.id_of(token)
            logits, state = step_model.step(token_id, state)
            history.append(token_id)
            _follow(token, watchers)
        if settings.length_s is not None:
            target_steps = seconds_to_steps(
                settings.length_s,
                tempo_bpm=settings.tempo_bpm,
                steps_per_quarter=self.encoding.steps_per_quarter,
            )
            max_tokens = MAX_LENGTH_TOKENS
        else:
            target_steps = None
            max_tokens = settings.length_tokens or DEFAULT_LENGTH_TOKENS
        new: list[str] = []
        time_steps = 0
        pitch_run = (-1, 0)  # (pitch, notes of it in a row)
        # Past the requested length the piece ends when its last chord is complete: one more
        # onset gets its notes, as many as the model adds, and its next move of time ends the
        # piece. (Ending at the first grammatical point cut every last chord to one note.)
        # The hard cap only matters for a model that never moves time forward in seconds
        # mode, or for a chord that never ends.
        hard_cap = max_tokens + FINAL_CHORD_TOKENS
        while len(new) < hard_cap:
            if target_steps is not None:
                reached = time_steps >= target_steps
            else:
                reached = len(new) >= max_tokens
            allowed = table.mask(grammar, allow_eos=reached)
            if reached:
                allowed[table.eos_id] = False  # the chord may go on; a time shift ends it
                if grammar.last_kind is TokenKind.SHIFT:  # but the final onset gets its chord
                    allowed &= ~table.kind_masks[TokenKind.SHIFT]
            if scale_mask is not None:
                locked = allowed & scale_mask
                # Empty only where the final onset wants a pitch and none is in the scale:
                # then the shift that ends the piece comes back.
                allowed = locked if locked.any() else table.mask(grammar, allow_eos=False)
                allowed &= scale_mask
            if opening is not None:
                opened = allowed & opening[0 if pitch_run[0] < 0 else 1]
                allowed = opened if opened.any() else allowed
            if settings.loop_guard:
                self._guard_loops(allowed, history, pitch_run)
            if guard:
                table.mask_copies(allowed, guard, after=grammar.last_kind)
            nudged = logits
            if settings.keep_pace and grammar.last_kind is TokenKind.PITCH:  # a note's length
                nudged = pace.tilt_lengths(
                    logits, lengths=table.kind_masks[TokenKind.DURATION], steps=table.values
                )
            elif settings.keep_pace and grammar.last_kind is TokenKind.DURATION and not reached:
                # another note at this onset, or time moves on (past the length, a shift ends
                # the piece: the final chord's size is the model's)
                nudged = pace.tilt_chord_end(logits, shifts=table.kind_masks[TokenKind.SHIFT])
            token_id = sample_from_logits(
                nudged,
                allowed,
                rng,
                temperature=settings.temperature,
                top_k=settings.top_k,
                top_p=DURATION_TOP_P if grammar.last_kind is TokenKind.PITCH else settings.top_p,
            )
            if table.kind_masks[TokenKind.SHIFT][token_id] and settings.top_p < SHIFT_TOP_P:
                token_id = sample_from_logits(
                    logits,
                    allowed & table.kind_masks[TokenKind.SHIFT],
                    rng,
                    temperature=settings.temperature,
                    top_k=settings.top_k,
                    top_p=SHIFT_TOP_P,
                )
            token = self.vocab.tokens[token_id]
            if reached and token_kind(token) is TokenKind.SHIFT:
                break  # the last chord is complete
            grammar.advance(token)
            new.append(token)
            history.append(token_id)
            _follow(token, watchers)
            kind = token_kind(token)
            if kind is TokenKind.SHIFT:
                time_steps += token_value(token)
                if pitch_run[0] >= 0:  # the first chord is complete
                    opening = None
            elif kind is TokenKind.PITCH:
                pitch = token_value(token)
                pitch_run = (pitch, pitch_run[1] + 1 if pitch == pitch_run[0] else 1)
            logits, state = step_model.step(token_id, state)
            if on_progress and len(new) % PROGRESS_EVERY_TOKENS == 0:
                on_progress(
                    len(new),
                    max_tokens if target_steps is None else target_steps,
                    "tokens" if target_steps is None else f"{time_steps} steps",
                )
        while new and new[-1][0] != "D":  # cut only at the hard cap: end on a whole note
            new.pop()
        tokens = (BOS, *primer_tokens, *new, EOS)
        tempo = settings.tempo_bpm
        piece = tokens_to_piece(
            tokens, self.encoding, name=f"{self.name} seed {seed}", tempo_bpm=tempo
        )
        if plan.transpose_semitones:
            piece = transpose_piece(piece, plan.transpose_semitones)
        midi_bytes = midi_to_bytes(piece_to_midi(piece, program=settings.program))
        return GenerationResult(
            tokens=tokens,
            primer_length=len(primer_tokens),
            piece=piece,
            midi_bytes=midi_bytes,
            seed=seed,
            settings=settings,
            model_name=self.name,
            primer=primer,
            transpose_semitones=plan.transpose_semitones,
            tonic=plan.tonic,
            scale=plan.scale.value if plan.scale else None,
        )

    def plan_key(self, settings: SamplingSettings, primer: Primer | None = None) -> KeyPlan:
        """How far the output moves and which key it gets (`core.music.scales.plan_key`)."""
        return plan_key(
            key=settings.key,
            scale=settings.scale,
            lock_scale=settings.lock_scale,
            normalized_model=self.encoding.normalize_key,
            tune_transpose_semitones=primer.transpose_semitones if primer else 0,
            tune_tonic=primer.tonic if primer else None,
            tune_scale=primer.scale if primer else None,
        )

    def copy_guard(self) -> CopyGuard | None:
        """A guard over the model's training notes (None for a folder that has none)."""
        from core.model.model_data import has_model_data, load_index

        if self.path is None or not has_model_data(self.path):
            return None
        try:
            index = load_index(self.path)
        except EvaluationError as error:  # a corrupt file: generate unguarded, as before
            log.warning("no copy guard: %s", error)
            return None
        return CopyGuard(index, steps_per_quarter=self.encoding.steps_per_quarter)

    def _guard_loops(
        self, allowed: np.ndarray, history: Sequence[int], pitch_run: tuple[int, int]
    ) -> None:
        """Mask the token that would extend a degenerate loop, if anything else is allowed."""
        banned = []
        repeat = _loop_continuation(history)
        if repeat is not None:
            banned.append(repeat)
        pitch, run = pitch_run
        if run >= MAX_SAME_PITCH_RUN:
            same = self.vocab.id_of(f"P{pitch}")
            if same != self.vocab.unk_id:
                banned.append(same)
        for token_id in banned:
            if allowed[token_id] and allowed.sum() > 1:
                allowed[token_id] = False
                log.debug("loop guard masked %s", self.vocab.tokens[token_id])

    def generate_variations(
        self,
        settings: SamplingSettings,
        *,
        seed: int,
        count: int,
        primer: Primer | None = None,
    ) -> list[GenerationResult]:
        """`count` pieces from seeds seed, seed + 1, ..."""
        return [
            self.generate(settings, seed=(seed + i) % SEED_LIMIT, primer=primer)
            for i in range(count)
        ]

    def excerpt_primer(
        self, rng: np.random.Generator, *, length_tokens: int = DEFAULT_PRIMER_EXCERPT_TOKENS
    ) -> Primer | None:
        """A random excerpt of the music the model was trained on (None when none shipped)."""
        if not self.primers:
            return None
        return excerpt_primer(self.primers, rng, length_tokens=length_tokens)
