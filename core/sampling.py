"""New music from a trained model, one token at a time, with the LSTM state carried along.

The tutorial way re-runs the whole network on a 100-token window for every new token. Here the
weights are read out of the Keras model once and each step runs the LSTM cells in numpy on one
token, keeping (h, c) per layer: a thousand tokens take a fraction of a second on a CPU.

Every step is constrained: tokens the grammar forbids at this point (`GrammarState`), PAD, UNK
and BOS are never chosen, and EOS only once the requested length is reached, so the output is
always valid music. A loop guard masks the token that would continue a short cycle repeated
many times over (the same pitch thirty times, the same bar again and again).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.encoding import (
    BOS,
    DEFAULT_TEMPO_BPM,
    EOS,
    PAD,
    SPECIAL_TOKENS,
    UNK,
    EncodingConfig,
    GrammarState,
    Piece,
    TokenKind,
    Vocabulary,
    key_normalizing_shift,
    midi_to_bytes,
    piece_to_midi,
    piece_to_tokens,
    seconds_to_steps,
    token_kind,
    token_value,
    tokens_to_piece,
    transpose_piece,
)
from core.errors import InvalidModelError

# core.model imports TensorFlow only where a network is built or loaded (a test checks), so the
# fast load path here can take the folder's file names from it.
from core.model import ENCODING_FILE, METRICS_FILE, MODEL_FILE, REQUIRED_FILES, VOCAB_FILE
from core.storage import REPO_DIR

if TYPE_CHECKING:
    import keras

    from core.model import TrainedModel

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "default"
DEFAULT_MODEL_DIR = REPO_DIR / "models" / "default"
PRIMERS_FILE = "primers.json"  # optional: excerpts of the training music, shipped with a model
KERAS_CONFIG_ENTRY = "config.json"  # inside the .keras zip archive
KERAS_WEIGHTS_ENTRY = "model.weights.h5"

DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_K = 0  # 0: off
DEFAULT_TOP_P = 0.95
DEFAULT_LENGTH_TOKENS = 400
MAX_LENGTH_TOKENS = 20_000
MAX_LENGTH_S = 600.0
MAX_PRIMER_TOKENS = 2_000
DEFAULT_PRIMER_EXCERPT_TOKENS = 48
DEFAULT_PRIMER_PIECES = 40  # training pieces whose openings ship as primers.json
DEFAULT_PRIMER_TOKENS_PER_PIECE = 160
GREEDY_TEMPERATURE = 1e-6  # at or below this, sampling is argmax
# Loop guard: a cycle of up to MAX_LOOP_PERIOD_TOKENS tokens seen MIN_LOOP_REPEATS times in a
# row (and covering at least MIN_LOOP_TOKENS tokens) may not go on: its next token is masked.
MAX_LOOP_PERIOD_TOKENS = 24
MIN_LOOP_REPEATS = 4
MIN_LOOP_TOKENS = 24
MAX_SAME_PITCH_RUN = 8  # after this many notes of one pitch in a row, that pitch is masked
PROGRESS_EVERY_TOKENS = 100
SEED_LIMIT = 2**31  # seeds shown to people stay short

ProgressCallback = Callable[[int, int, str], None]


# ---------------------------------------------------------------- settings and results


@dataclass(frozen=True)
class SamplingSettings:
    """How to sample. Length is in new tokens, or in seconds of new music at `tempo_bpm`."""

    temperature: float = DEFAULT_TEMPERATURE
    top_k: int = DEFAULT_TOP_K
    top_p: float = DEFAULT_TOP_P
    length_tokens: int | None = DEFAULT_LENGTH_TOKENS
    length_s: float | None = None  # when set, wins over length_tokens
    tempo_bpm: float = DEFAULT_TEMPO_BPM
    program: int = 0  # General MIDI instrument written into the MIDI file
    loop_guard: bool = True

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SamplingSettings:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


# The plain-language levels the pages offer; "Balanced" is the default everywhere (the Generate
# page, Home's "Play me a new tune", and the pieces an evaluation generates).
CREATIVITY_LEVELS: dict[str, float] = {
    "Calm": 0.15,
    "Balanced": 0.45,
    "Adventurous": 0.75,
    "Wild": 1.0,
}
DEFAULT_CREATIVITY = "Balanced"


def creativity_to_settings(creativity: float, **overrides: Any) -> SamplingSettings:
    """Plain-language "creativity" 0..1 → temperature 0.6..1.3 and top-p 0.85..1.0."""
    level = min(max(float(creativity), 0.0), 1.0)
    temperature = round(0.6 + 0.7 * level, 3)
    top_p = round(min(0.85 + 0.15 * level, 1.0), 3)
    return SamplingSettings(temperature=temperature, top_p=top_p, **overrides)


@dataclass(frozen=True)
class GenerationResult:
    """A generated piece: its tokens (BOS, primer, new tokens, EOS), the decoded piece and MIDI."""

    tokens: tuple[str, ...]
    primer_length: int  # tokens after BOS that came from the primer
    piece: Piece
    midi_bytes: bytes
    seed: int
    settings: SamplingSettings
    model_name: str = ""

    @property
    def new_tokens(self) -> tuple[str, ...]:
        return tuple(t for t in self.tokens[1 + self.primer_length :] if t != EOS)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "seed": self.seed,
            "tokens": len(self.tokens),
            "primer_tokens": self.primer_length,
            "new_tokens": len(self.new_tokens),
            "notes": len(self.piece.notes),
            "duration_s": round(self.piece.duration_s, 3),
            "settings": self.settings.to_dict(),
        }


def new_seed() -> int:
    """A fresh random seed ("surprise me"), small enough to read aloud."""
    return secrets.randbelow(SEED_LIMIT)


# ---------------------------------------------------------------- the network in numpy


@dataclass(frozen=True)
class _LstmWeights:
    kernel: np.ndarray  # (input, 4 * units), gates in Keras order i, f, c, o
    recurrent_kernel: np.ndarray  # (units, 4 * units)
    bias: np.ndarray  # (4 * units,)

    @property
    def units(self) -> int:
        return int(self.recurrent_kernel.shape[0])


LstmState = list[tuple[np.ndarray, np.ndarray]]  # (h, c) per layer


def _steppable_lstm(config: dict[str, Any]) -> bool:
    """An LSTM this module's numpy step reproduces exactly."""
    return (
        config.get("activation", "tanh") == "tanh"
        and config.get("recurrent_activation", "sigmoid") == "sigmoid"
        and config.get("use_bias", True)
        and not config.get("go_backwards", False)
        and not config.get("stateful", False)
        and config.get("return_sequences", True)
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + e^-x), without overflow warnings


class StepModel:
    """The Keras next-token LSTM as numpy arrays, run one token at a time.

    The first layer's input projection is folded into the embedding table (embedding @ kernel),
    so a step costs one row lookup and a few matrix-vector products.
    """

    def __init__(
        self,
        embedding: np.ndarray,
        layers: Sequence[_LstmWeights],
        dense_kernel: np.ndarray,
        dense_bias: np.ndarray,
    ) -> None:
        if not layers:
            raise InvalidModelError("the network has no LSTM layer named lstm_0")
        dtype = np.float32
        self.input_table = (embedding @ layers[0].kernel + layers[0].bias).astype(dtype)
        self.layers = [
            _LstmWeights(
                w.kernel.astype(dtype), w.recurrent_kernel.astype(dtype), w.bias.astype(dtype)
            )
            for w in layers
        ]
        self.dense_kernel = np.asarray(dense_kernel, dtype=dtype)
        self.dense_bias = np.asarray(dense_bias, dtype=dtype)
        self.vocab_size = int(self.dense_kernel.shape[1])

    @classmethod
    def from_keras(cls, keras_model: keras.Model) -> StepModel:
        """Read the weights of a loaded Keras model that follows `core.model`'s layout."""
        from core.model import EMBEDDING_NAME, LOGITS_NAME, lstm_name

        try:
            embedding = np.asarray(keras_model.get_layer(EMBEDDING_NAME).get_weights()[0])
            layers: list[_LstmWeights] = []
            while True:
                try:
                    layer = keras_model.get_layer(lstm_name(len(layers)))
                except ValueError:
                    break
                if not _steppable_lstm(layer.get_config()):
                    raise InvalidModelError("only plain tanh/sigmoid LSTM layers can be stepped")
                kernel, recurrent, *bias = (np.asarray(w) for w in layer.get_weights())
                units = recurrent.shape[0]
                layers.append(
                    _LstmWeights(kernel, recurrent, bias[0] if bias else np.zeros(4 * units))
                )
            dense_kernel, *dense_bias = (
                np.asarray(w) for w in keras_model.get_layer(LOGITS_NAME).get_weights()
            )
        except ValueError as error:
            raise InvalidModelError(
                f"the network does not follow the model layout ({error})"
            ) from error
        logits_bias = dense_bias[0] if dense_bias else np.zeros(dense_kernel.shape[1])
        return cls(embedding, layers, dense_kernel, logits_bias)

    @classmethod
    def from_keras_file(cls, model_file: Path) -> StepModel | None:
        """Read the weights straight from a `.keras` archive, without TensorFlow.

        Importing TensorFlow and rebuilding the Keras model takes seconds; reading the arrays
        takes milliseconds. Only the exact layout `core.model.build_model` writes is read this
        way (checked in the archive's config); None means "load it with Keras instead". Nothing
        in the archive is executed.
        """
        import io
        import zipfile

        import h5py

        try:
            with zipfile.ZipFile(model_file) as archive:
                config = json.loads(archive.read(KERAS_CONFIG_ENTRY))
                weights = archive.read(KERAS_WEIGHTS_ENTRY)
            layer_configs = config["config"]["layers"]
            classes = [layer["class_name"] for layer in layer_configs]
            names = [layer["config"]["name"] for layer in layer_configs]
            count = (len(classes) - 3) // 2
            expected_classes = ["InputLayer", "Embedding", *["LSTM", "Dropout"] * count, "Dense"]
            expected_names = [
                names[0],
                "embedding",
                *[n for i in range(count) for n in (f"lstm_{i}", f"dropout_{i}")],
                "logits",
            ]
            if count < 1 or classes != expected_classes or names != expected_names:
                return None
            lstm_configs = [c["config"] for c in layer_configs if c["class_name"] == "LSTM"]
            dense_config = layer_configs[-1]["config"]
            if not all(_steppable_lstm(c) for c in lstm_configs) or (
                dense_config.get("activation", "linear") != "linear"
            ):
                return None
            # Keras 3 stores variables by class-derived path: lstm, lstm_1, ... in layer order.
            with h5py.File(io.BytesIO(weights), "r") as h5:
                layers_group = h5["layers"]
                embedding = np.asarray(layers_group["embedding/vars/0"])
                layers = []
                for index in range(count):
                    group = layers_group["lstm" if index == 0 else f"lstm_{index}"]["cell/vars"]
                    layers.append(
                        _LstmWeights(
                            np.asarray(group["0"]), np.asarray(group["1"]), np.asarray(group["2"])
                        )
                    )
                dense_kernel = np.asarray(layers_group["dense/vars/0"])
                dense_bias = np.asarray(layers_group["dense/vars/1"])
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
            log.info("%s: reading weights without Keras failed (%s)", model_file, error)
            return None
        units = [w.units for w in layers]
        if (
            embedding.shape[1] != layers[0].kernel.shape[0]
            or any(w.kernel.shape[1] != 4 * w.units for w in layers)
            or any(layers[i + 1].kernel.shape[0] != units[i] for i in range(count - 1))
            or dense_kernel.shape[0] != units[-1]
        ):
            return None
        return cls(embedding, layers, dense_kernel, dense_bias)

    def initial_state(self) -> LstmState:
        return [
            (np.zeros(w.units, dtype=np.float32), np.zeros(w.units, dtype=np.float32))
            for w in self.layers
        ]

    def step(self, token_id: int, state: LstmState) -> tuple[np.ndarray, LstmState]:
        """Logits for the token after `token_id`, and the new state (the old one is kept)."""
        new_state: LstmState = []
        x: np.ndarray | None = None
        for index, weights in enumerate(self.layers):
            h, c = state[index]
            if index == 0:
                z = self.input_table[token_id] + h @ weights.recurrent_kernel
            else:
                assert x is not None
                z = x @ weights.kernel + h @ weights.recurrent_kernel + weights.bias
            u = weights.units
            gates = _sigmoid(z)  # one call for all four (the c slice is unused): fewer numpy calls
            c = gates[u : 2 * u] * c + gates[:u] * np.tanh(z[2 * u : 3 * u])
            h = gates[3 * u :] * np.tanh(c)
            new_state.append((h, c))
            x = h
        assert x is not None
        return x @ self.dense_kernel + self.dense_bias, new_state

    def sequence_logits(self, token_ids: Sequence[int]) -> np.ndarray:
        """(len, vocab) logits for a whole sequence, as the Keras model computes them."""
        state = self.initial_state()
        out = np.empty((len(token_ids), self.vocab_size), dtype=np.float32)
        for position, token_id in enumerate(token_ids):
            out[position], state = self.step(int(token_id), state)
        return out


# ---------------------------------------------------------------- grammar masks


class _TokenTable:
    """Per-token facts as arrays, so a grammar state becomes a boolean mask in microseconds."""

    def __init__(self, vocab: Vocabulary, encoding: EncodingConfig) -> None:
        from core.encoding import is_valid_token

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


@dataclass(frozen=True)
class Primer:
    """Tokens to continue (without BOS/EOS), and the transposition applied to fit the model."""

    tokens: tuple[str, ...]
    transpose_semitones: int = 0  # the output is moved back by this much
    tempo_bpm: float | None = None
    name: str = ""


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
        self.primers = _read_primers(path) if path else ()

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
        name = DEFAULT_MODEL_NAME if folder == DEFAULT_MODEL_DIR.resolve() else folder.name
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            raise InvalidModelError(
                f"{folder.name}: not a model folder (missing {', '.join(missing)})"
            )
        step_model = StepModel.from_keras_file(folder / MODEL_FILE)
        if step_model is None:
            from core.model import load_model_folder

            return cls.from_trained(load_model_folder(folder), name=name)
        try:
            encoding = EncodingConfig.load(folder / ENCODING_FILE)
            vocab = Vocabulary.load(folder / VOCAB_FILE)
            metrics_path = folder / METRICS_FILE
            metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InvalidModelError(
                f"{folder.name}: corrupt encoding or vocabulary ({error})"
            ) from error
        return cls(
            step_model, encoding=encoding, vocab=vocab, name=name, path=folder, metrics=metrics
        )

    def generate(
        self,
        settings: SamplingSettings,
        *,
        seed: int,
        primer: Primer | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> GenerationResult:
        """A new piece. The same model, settings, primer and seed give the same piece."""
        rng = np.random.default_rng(seed)
        primer_tokens = list(primer.tokens) if primer else []
        grammar = GrammarState.after(primer_tokens)
        if grammar.finished:
            raise ValueError("the primer ends the piece (EOS)")
        step_model, table = self.step_model, self._table
        state = step_model.initial_state()
        logits = np.zeros(step_model.vocab_size, dtype=np.float32)
        history: list[int] = []
        for token in (BOS, *primer_tokens):
            token_id = self.vocab.id_of(token)
            logits, state = step_model.step(token_id, state)
            history.append(token_id)
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
        # Past the requested length the piece ends at the next point where EOS is grammatical
        # (after a whole note: at most a pitch and its duration more). The hard cap only
        # matters for a model that never moves time forward in seconds mode.
        hard_cap = max_tokens + 2
        while len(new) < hard_cap:
            if target_steps is not None:
                reached = time_steps >= target_steps
            else:
                reached = len(new) >= max_tokens
            allowed = table.mask(grammar, allow_eos=reached)
            if reached and allowed[table.eos_id]:
                break
            if reached:  # only close the current note now: a pitch and its duration
                allowed &= ~table.kind_masks[TokenKind.SHIFT]
            if settings.loop_guard:
                self._guard_loops(allowed, history, pitch_run)
            token_id = sample_from_logits(
                logits,
                allowed,
                rng,
                temperature=settings.temperature,
                top_k=settings.top_k,
                top_p=settings.top_p,
            )
            token = self.vocab.tokens[token_id]
            grammar.advance(token)
            new.append(token)
            history.append(token_id)
            kind = token_kind(token)
            if kind is TokenKind.SHIFT:
                time_steps += token_value(token)
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
        if primer and primer.transpose_semitones:
            piece = transpose_piece(piece, -primer.transpose_semitones)
        midi_bytes = midi_to_bytes(piece_to_midi(piece, program=settings.program))
        return GenerationResult(
            tokens=tokens,
            primer_length=len(primer_tokens),
            piece=piece,
            midi_bytes=midi_bytes,
            seed=seed,
            settings=settings,
            model_name=self.name,
        )

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


# ---------------------------------------------------------------- primers


def excerpt_primer(
    sequences: Sequence[Sequence[str]],
    rng: np.random.Generator,
    *,
    length_tokens: int = DEFAULT_PRIMER_EXCERPT_TOKENS,
) -> Primer:
    """A random excerpt of one of `sequences` that starts at a time shift and ends on a note.

    So it is a valid prefix on its own: it never starts inside a chord or on a duration.
    """
    usable = [list(s) for s in sequences if any(t[:1] == "D" for t in s)]
    if not usable:
        raise ValueError("no sequence holds a whole note")
    tokens = usable[int(rng.integers(len(usable)))]
    body = [t for t in tokens if t not in SPECIAL_TOKENS]
    starts = [0] + [i for i, t in enumerate(body) if t[0] == "T"]
    start = starts[int(rng.integers(len(starts)))]
    excerpt = body[start : start + length_tokens]
    while excerpt and excerpt[-1][0] != "D":
        excerpt.pop()
    if not excerpt:  # the chosen start had no note after it: take the piece's opening
        excerpt = body[:length_tokens]
        while excerpt and excerpt[-1][0] != "D":
            excerpt.pop()
    return Primer(tuple(excerpt), name="excerpt")


def piece_to_primer(
    piece: Piece, encoding: EncodingConfig, *, max_tokens: int = MAX_PRIMER_TOKENS
) -> Primer:
    """A piece ("continue my tune") as a primer on the model's grid and, if the model was
    trained key-normalized, transposed to C major / A minor (the output is moved back)."""
    from core.encoding import quantize

    if piece.steps_per_quarter != encoding.steps_per_quarter:
        factor = encoding.steps_per_quarter / piece.steps_per_quarter
        events = [
            (
                n.onset_step / piece.steps_per_quarter,
                n.duration_steps / piece.steps_per_quarter,
                n.pitch,
            )
            for n in piece.notes
        ]
        notes = quantize(events, steps_per_quarter=encoding.steps_per_quarter)
        piece = replace(piece, notes=notes, steps_per_quarter=encoding.steps_per_quarter)
        log.debug("primer regridded by %.2f", factor)
    shift = key_normalizing_shift(piece) if encoding.normalize_key else 0
    if shift:
        piece = transpose_piece(piece, shift)
    tokens = [t for t in piece_to_tokens(piece, encoding) if t not in (BOS, EOS)]
    if len(tokens) > max_tokens:
        tokens = tokens[:max_tokens]
        while tokens and tokens[-1][0] != "D":
            tokens.pop()
    return Primer(
        tuple(tokens), transpose_semitones=shift, tempo_bpm=piece.tempo_bpm, name=piece.name
    )


def music_to_primer(
    source: bytes | Path | str,
    encoding: EncodingConfig,
    *,
    name: str | None = None,
    max_tokens: int = MAX_PRIMER_TOKENS,
) -> Primer:
    """An uploaded MIDI/MusicXML/ABC file or a transcription → a primer (its first piece).

    Raises:
        InvalidMusicError: the file cannot be read or holds no notes the model can use.
    """
    from core.errors import InvalidMusicError
    from core.music_io import read_music

    pieces = read_music(source, name=name, steps_per_quarter=encoding.steps_per_quarter)
    primer = piece_to_primer(pieces[0], encoding, max_tokens=max_tokens)
    if not primer.tokens:
        label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
        raise InvalidMusicError(
            f"{label}: no notes within the model's pitch range "
            f"({encoding.min_pitch}..{encoding.max_pitch})"
        )
    return primer


def write_training_primers(
    model_dir: Path,
    sequences: Sequence[Sequence[str]],
    *,
    source: str = "",
    pieces: int = DEFAULT_PRIMER_PIECES,
    tokens_per_piece: int = DEFAULT_PRIMER_TOKENS_PER_PIECE,
) -> Path:
    """Ship the openings of some training pieces beside a model (`primers.json`), so people can
    start from "a snippet of the music the model learned from" without the dataset.

    `sequences` are token sequences of the training side (`Dataset.train[i].tokens`).
    """

    from core.storage import atomic_write_text

    kept = [list(seq[:tokens_per_piece]) for seq in list(sequences)[:pieces]]
    path = Path(model_dir) / PRIMERS_FILE
    atomic_write_text(path, json.dumps({"source": source, "sequences": kept}) + "\n")
    return path


def _read_primers(folder: Path) -> tuple[tuple[str, ...], ...]:

    path = Path(folder) / PRIMERS_FILE
    if not path.is_file():
        return ()
    try:
        data = json.loads(path.read_text())
        return tuple(tuple(str(t) for t in seq) for seq in data["sequences"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("%s: ignoring a corrupt %s (%s)", folder.name, PRIMERS_FILE, error)
        return ()


def resolve_model_dir(model: Path | str) -> Path:
    """ "default" → the bundled model folder; anything else is a folder path.

    Raises:
        InvalidModelError: the folder does not exist.
    """
    path = DEFAULT_MODEL_DIR if str(model) == DEFAULT_MODEL_NAME else Path(model)
    if not path.is_dir():
        raise InvalidModelError(f"{path.name or model}: no such model folder")
    return path.resolve()
