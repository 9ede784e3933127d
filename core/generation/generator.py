"""`Generator`: a loaded model that writes new pieces, one token at a time with the LSTM state
carried along (the network runs in numpy: `core.model.step_model`; how a piece starts:
`core.generation.primers`; the rules every step obeys: `core.generation.constraints`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import EvaluationError, InvalidModelError
from core.generation.constraints import (
    NO_NOTE_YET,
    RANGE_MARGIN_SEMITONES,
    TokenTable,
    end_on_a_whole_chord,
    guard_loops,
    keep_in_range,
    keep_one_line,
    keep_within_the_bar,
    lock_to_scale,
    open_on_the_tonic,
    span_window,
    tilt_to_pace,
)
from core.generation.copy_guard import CopyGuard
from core.generation.form import FORM_STYLE, FormKeeper, FormPlan, read_form_plan
from core.generation.pace import PaceKeeper
from core.generation.primers import (
    DEFAULT_PRIMER_EXCERPT_TOKENS,
    Primer,
    excerpt_primer,
    primer_bar_grid,
    read_primers,
)
from core.generation.result import GenerationResult
from core.generation.sampler import draw_token
from core.generation.settings import (
    DEFAULT_LENGTH_TOKENS,
    MAX_LENGTH_TOKENS,
    MAX_TEMPO_BPM,
    MIN_TEMPO_BPM,
    SEED_LIMIT,
    SamplingSettings,
)
from core.model.blas import one_blas_thread
from core.model.bundled import DEFAULT_STYLE, STYLES, resolve_model_dir

# core.model imports TensorFlow only where a network is built or loaded (a test checks), so the
# fast load path here can take the folder's file names from it.
from core.model.folder import (
    MODEL_FILE,
    REQUIRED_FILES,
    read_encoding_and_vocab,
    read_model_info,
)
from core.model.model_data import read_music_summary
from core.model.step_model import LstmState, StepModel
from core.music.meter import BarGrid
from core.music.midi_writer import piece_midi_bytes
from core.music.piece import meter_bar_grid, seconds_to_steps, transpose_piece
from core.music.scales import KeyPlan, plan_key
from core.progress import ProgressCallback
from core.tokens.config import EncodingConfig
from core.tokens.grammar import GrammarState
from core.tokens.scheme import BOS, EOS, TokenKind, token_kind, token_value, tokens_to_piece
from core.tokens.vocabulary import Vocabulary

if TYPE_CHECKING:
    from core.data.datasets import MusicSummary
    from core.model.folder import TrainedModel

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = STYLES[DEFAULT_STYLE].path  # what `--model default` and the pages start on
FORM_STREAM = 27  # the form's random stream: np.random.default_rng([seed, FORM_STREAM])
FINAL_CHORD_TOKENS = 32  # past the length, the last chord may take this many tokens more
PROGRESS_EVERY_TOKENS = 100


@dataclass
class _Draft:
    """One piece while it is written: what each step reads, and what it updates."""

    settings: SamplingSettings
    seed: int
    primer: Primer | None
    plan: KeyPlan
    primer_tokens: list[str]
    rng: np.random.Generator
    grammar: GrammarState
    scale_mask: np.ndarray | None  # new notes only; the primer's stay as they are
    opening: tuple[np.ndarray, np.ndarray] | None  # None once the first chord is complete
    target_steps: int | None  # the length in time steps; None: in new tokens
    max_tokens: int
    pace: PaceKeeper
    guard: CopyGuard | None
    one_line: bool  # the training music is a single line: one note at a time
    range_mask: np.ndarray | None  # new notes within the training music's range
    pitch_limits: tuple[int, int] | None  # that range, in the model's key
    pitch_span: int | None  # the whole piece within the span one training piece covers
    logits: np.ndarray
    state: LstmState
    history: list[int] = field(default_factory=list)  # token ids from BOS on
    new: list[str] = field(default_factory=list)
    time_steps: int = 0
    pitch_run: tuple[int, int] = (-1, 0)  # (pitch, notes of it in a row)
    sounding_steps: int = 0  # how long the latest onset's longest note still sounds
    pitch_extremes: tuple[int, int] = NO_NOTE_YET  # (lowest, highest) pitch so far, primer too
    form: FormKeeper | None = None  # the phrases it returns to; None: free form
    meter: str = ""  # the piece's meter ("": not stated, 4/4)
    bars: BarGrid | None = None  # where its bar lines fall (None: 4/4 from the start)
    primer_steps: int = 0  # the primer's length in time steps: new music starts there

    @property
    def watchers(self) -> list[PaceKeeper | CopyGuard]:
        return [self.pace] if self.guard is None else [self.pace, self.guard]

    @property
    def reached(self) -> bool:
        """Whether the piece is as long as asked (in time steps, or in new tokens)."""
        if self.target_steps is not None:
            return self.time_steps >= self.target_steps
        return len(self.new) >= self.max_tokens

    def progress(self) -> tuple[int, int, str]:
        """`on_progress`'s (done, total, info)."""
        if self.target_steps is None:
            return len(self.new), self.max_tokens, "tokens"
        return len(self.new), self.target_steps, f"{self.time_steps} steps"


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
        self._table = TokenTable(self.vocab, self.encoding)
        self.primers = read_primers(path) if path else ()
        # What the training music is like; None for folders written before it was recorded
        # (the bundled models), which generate as they always did.
        self.music: MusicSummary | None = read_music_summary(path) if path else None
        # How its training music returns to its phrases (`core.generation.form`); None: the
        # folder has no plan (a model trained before form plans), which writes in free form.
        self.form_plan: FormPlan | None = read_form_plan(path)

    @property
    def tempo_bpm(self) -> float | None:
        """The training music's median tempo (within SamplingSettings' range); None: unknown."""
        if self.music is None:
            return None
        return min(max(self.music.tempo_bpm, MIN_TEMPO_BPM), MAX_TEMPO_BPM)

    def default_settings(self, **overrides: Any) -> SamplingSettings:
        """`SamplingSettings(**overrides)` at the training music's tempo unless one is given."""
        tempo = {"tempo_bpm": self.tempo_bpm} if self.tempo_bpm is not None else {}
        return SamplingSettings(**{**tempo, **overrides})

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
        metrics = read_model_info(folder)["metrics"]  # every field checked: anyone's JSON
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
        draft = self._plan(settings, seed=seed, primer=primer)
        with one_blas_thread():  # why: core.model.blas
            self._prime(draft)
            self._sample(draft, on_progress)
        return self._finish(draft)

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

    def copy_guard(self, *, bar_steps: int | None = None) -> CopyGuard | None:
        """A guard over the model's training notes (None for a folder that has none), against
        copies of 2 bars of `bar_steps` (None: 4/4 bars)."""
        from core.model.model_data import has_model_data, load_index

        if self.path is None or not has_model_data(self.path):
            return None
        try:
            index = load_index(self.path)
        except EvaluationError as error:  # a corrupt file: generate unguarded, as before
            log.warning("no copy guard: %s", error)
            return None
        return CopyGuard(
            index, steps_per_quarter=self.encoding.steps_per_quarter, bar_steps=bar_steps
        )

    def excerpt_primer(
        self, rng: np.random.Generator, *, length_tokens: int = DEFAULT_PRIMER_EXCERPT_TOKENS
    ) -> Primer | None:
        """A random excerpt of the music the model was trained on (None when none shipped)."""
        if not self.primers:
            return None
        return excerpt_primer(
            self.primers,
            rng,
            length_tokens=length_tokens,
            steps_per_quarter=self.encoding.steps_per_quarter,
        )

    def piece_bars(
        self, settings: SamplingSettings, primer: Primer | None = None
    ) -> tuple[str, BarGrid]:
        """The meter of a piece from `primer` with `settings`, and where its bar lines fall.

        The models know no meter, so a piece takes the one it starts from: a snippet of
        training music its piece's (and its place in the bar), a tune its own; `settings.meter`
        overrides it (bars then start with the piece). Without either: "" (4/4).
        """
        spq = self.encoding.steps_per_quarter
        if not settings.meter or (primer is not None and settings.meter == primer.meter):
            meter = primer.meter if primer is not None else ""
            return meter, primer_bar_grid(primer, steps_per_quarter=spq)
        return settings.meter, meter_bar_grid(spq, settings.meter)

    # ------------------------------------------------------------ the steps of `generate`

    def _plan(self, settings: SamplingSettings, *, seed: int, primer: Primer | None) -> _Draft:
        """Plan the key, the masks that follow from it, the primer and the length."""
        rng = np.random.default_rng(seed)
        plan = self.plan_key(settings, primer)
        # A scale asked for without a tune: the first chord stands on that key's tonic, because
        # a key-normalized model writes C major and A minor alike (the same notes), so the mode
        # was the model's whim. A nudge, not a guarantee (docs/generation.md, "Key and scale").
        opening = self._table.opening_masks(plan) if settings.scale and primer is None else None
        primer_tokens = list(primer.tokens) if primer else []
        grammar = GrammarState.after(primer_tokens)
        if grammar.finished:
            raise ValueError("the primer ends the piece (EOS)")
        if settings.length_s is not None:
            target_steps: int | None = seconds_to_steps(
                settings.length_s,
                tempo_bpm=settings.tempo_bpm,
                steps_per_quarter=self.encoding.steps_per_quarter,
            )
            max_tokens = MAX_LENGTH_TOKENS
        else:
            target_steps = None
            max_tokens = settings.length_tokens or DEFAULT_LENGTH_TOKENS
        music = self.music if settings.follow_training_music else None
        meter, bars = self.piece_bars(settings, primer)
        limits = (
            (music.pitch_low - RANGE_MARGIN_SEMITONES, music.pitch_high + RANGE_MARGIN_SEMITONES)
            if music is not None
            else None
        )
        return _Draft(
            settings=settings,
            seed=seed,
            primer=primer,
            plan=plan,
            primer_tokens=primer_tokens,
            rng=rng,
            grammar=grammar,
            scale_mask=self._table.scale_mask(plan),
            opening=opening,
            target_steps=target_steps,
            max_tokens=max_tokens,
            pace=PaceKeeper(
                steps_per_quarter=self.encoding.steps_per_quarter,
                # a tune of the user's sets its own pace and chords; else the training music's
                target_onsets_per_beat=music.onsets_per_beat if music and not primer else None,
                target_notes_per_onset=music.notes_per_onset if music and not primer else None,
            ),
            guard=self.copy_guard(bar_steps=bars.bar_steps) if settings.avoid_copies else None,
            one_line=music is not None and music.single_line,
            range_mask=self._table.range_mask(*limits) if limits else None,
            pitch_limits=limits,
            pitch_span=music.pitch_span if music is not None else None,
            logits=np.zeros(self.step_model.vocab_size, dtype=np.float32),
            state=self.step_model.initial_state(),
            form=self._form_keeper(settings, seed=seed, primer=primer, bars=bars),
            meter=meter,
            bars=bars,
            primer_steps=sum(
                token_value(t) for t in primer_tokens if token_kind(t) is TokenKind.SHIFT
            ),
        )

    def _form_keeper(
        self, settings: SamplingSettings, *, seed: int, primer: Primer | None, bars: BarGrid
    ) -> FormKeeper | None:
        """The form plan to follow: the style's, for a piece of its own or one that starts from
        a snippet of its training music (a tune of the user's is continued its own way), on its
        own random stream (so a piece in free form is the same piece it always was)."""
        plan = self.form_plan
        if settings.form != FORM_STYLE or plan is None:
            return None
        if primer is not None and not primer.from_training:
            return None
        # Bars of the piece's meter when it has one (chosen, or its snippet's); else of the
        # plan's own bar (4/4 for the bundled ones, whose chances were learned in those).
        pickup = 0
        if settings.meter or primer is not None:
            bar_steps: float = bars.bar_steps
            pickup = bars.pickup_steps
        else:
            bar_steps = plan.quarters_per_bar * self.encoding.steps_per_quarter
        if bar_steps != int(bar_steps):
            return None  # a bar that is no whole number of steps on this grid
        keeper = FormKeeper(
            plan,
            int(bar_steps),
            np.random.default_rng([seed, FORM_STREAM]),
            pickup_steps=pickup,
        )
        if primer is not None:
            keeper.prime(primer.tokens)
        return keeper

    def _prime(self, draft: _Draft) -> None:
        """Run the LSTM and the watchers over BOS and the primer."""
        for token in (BOS, *draft.primer_tokens):
            token_id = self.vocab.id_of(token)
            draft.logits, draft.state = self.step_model.step(token_id, draft.state)
            draft.history.append(token_id)
            _follow(token, draft.watchers)
            _sound(draft, token)

    def _sample(self, draft: _Draft, on_progress: ProgressCallback[str] | None) -> None:
        """The sampling loop: mask, tilt and draw one token at a time until the piece ends."""
        # Past the requested length the piece ends when its last chord is complete: one more
        # onset gets its notes, as many as the model adds, and its next move of time ends the
        # piece. (Ending at the first grammatical point cut every last chord to one note.)
        # The hard cap only matters for a model that never moves time forward in seconds
        # mode, or for a chord that never ends.
        hard_cap = draft.max_tokens + FINAL_CHORD_TOKENS
        shifts = self._table.kind_masks[TokenKind.SHIFT]
        while len(draft.new) < hard_cap:
            reached = draft.reached
            allowed = self._allowed(draft, reached=reached)
            token_id = self._restated(draft, allowed, reached=reached)
            if token_id is None:
                token_id = draw_token(
                    self._tilted(draft, reached=reached),
                    draft.logits,
                    allowed,
                    draft.rng,
                    settings=draft.settings,
                    after=draft.grammar.last_kind,
                    shifts=shifts,
                )
            token = self.vocab.tokens[token_id]
            if reached and token_kind(token) is TokenKind.SHIFT:
                break  # the last chord is complete
            self._add(draft, token, token_id)
            if on_progress and len(draft.new) % PROGRESS_EVERY_TOKENS == 0:
                on_progress(*draft.progress())

    def _restated(self, draft: _Draft, allowed: np.ndarray, *, reached: bool) -> int | None:
        """The token the form plan restates here, where every rule allows it; None: draw."""
        form = draft.form
        proposal = form.proposal() if form is not None and not reached else None
        if form is None or proposal is None:
            return None
        token_id = self.vocab.id_of(proposal)
        if token_id == self.vocab.unk_id or not allowed[token_id]:
            form.refused()
            return None
        return token_id

    def _allowed(self, draft: _Draft, *, reached: bool) -> np.ndarray:
        """What the next token may be: the grammar's mask, then each rule's in turn."""
        table, grammar = self._table, draft.grammar
        allowed = table.mask(grammar, allow_eos=reached)
        if reached:
            end_on_a_whole_chord(allowed, table, grammar)
        if draft.scale_mask is not None:
            allowed = lock_to_scale(allowed, table, grammar, draft.scale_mask)
        if draft.opening is not None:
            allowed = open_on_the_tonic(allowed, draft.opening, first_note=draft.pitch_run[0] < 0)
        if draft.one_line:
            allowed = keep_one_line(allowed, table, grammar, sounding_steps=draft.sounding_steps)
        if draft.range_mask is not None:
            allowed = keep_in_range(allowed, draft.range_mask)
        if draft.pitch_span is not None:
            window = span_window(*draft.pitch_extremes, draft.pitch_span)
            allowed = keep_in_range(allowed, table.range_mask(*window))
        if draft.meter and draft.bars is not None and grammar.last_kind is TokenKind.PITCH:
            step = draft.primer_steps + draft.time_steps
            room = draft.bars.bar_start(draft.bars.bar_of(step) + 1) - step
            allowed = keep_within_the_bar(allowed, table, room_steps=room)
        if draft.settings.loop_guard:
            guard_loops(allowed, draft.history, draft.pitch_run, vocab=self.vocab)
        if draft.guard is not None:
            table.mask_copies(allowed, draft.guard, after=grammar.last_kind)
        return allowed

    def _tilted(self, draft: _Draft, *, reached: bool) -> np.ndarray:
        """The logits, nudged toward the opening's pace unless `keep_pace` is off."""
        if not draft.settings.keep_pace:
            return draft.logits
        return tilt_to_pace(
            draft.logits, draft.pace, self._table, after=draft.grammar.last_kind, reached=reached
        )

    def _add(self, draft: _Draft, token: str, token_id: int) -> None:
        """Add the token to the piece; the grammar, the watchers and the LSTM state follow."""
        draft.grammar.advance(token)
        draft.new.append(token)
        if draft.form is not None:
            draft.form.add(token)
        draft.history.append(token_id)
        _follow(token, draft.watchers)
        _sound(draft, token)
        kind = token_kind(token)
        if kind is TokenKind.SHIFT:
            draft.time_steps += token_value(token)
            if draft.pitch_run[0] >= 0:  # the first chord is complete
                draft.opening = None
        elif kind is TokenKind.PITCH:
            pitch, run = token_value(token), draft.pitch_run
            draft.pitch_run = (pitch, run[1] + 1 if pitch == run[0] else 1)
        draft.logits, draft.state = self.step_model.step(token_id, draft.state)

    def _finish(self, draft: _Draft) -> GenerationResult:
        """The piece: ended on a whole note, decoded, moved into the key heard, as MIDI."""
        new = draft.new
        while new and new[-1][0] != "D":  # cut only at the hard cap: end on a whole note
            new.pop()
        tokens = (BOS, *draft.primer_tokens, *new, EOS)
        settings, plan = draft.settings, draft.plan
        piece = tokens_to_piece(
            tokens,
            self.encoding,
            name=f"{self.name} seed {draft.seed}",
            tempo_bpm=settings.tempo_bpm,
        )
        if plan.transpose_semitones:
            piece = transpose_piece(piece, plan.transpose_semitones)
        if draft.meter or (draft.bars is not None and draft.bars.pickup_steps):
            pickup = draft.bars.pickup_steps if draft.bars is not None else 0
            piece = replace(piece, meter=draft.meter, pickup_steps=pickup)
        midi_bytes = piece_midi_bytes(piece, program=settings.program)
        return GenerationResult(
            tokens=tokens,
            primer_length=len(draft.primer_tokens),
            piece=piece,
            midi_bytes=midi_bytes,
            seed=draft.seed,
            settings=settings,
            model_name=self.name,
            primer=draft.primer,
            transpose_semitones=plan.transpose_semitones,
            tonic=plan.tonic,
            scale=plan.scale.value if plan.scale else None,
            one_line=draft.one_line,
            pitch_limits=draft.pitch_limits,
        )


def _sound(draft: _Draft, token: str) -> None:
    """Keep count of how long the latest onset's notes sound (the one-line rule reads it) and
    of the lowest and highest pitch so far (the span rule reads them)."""
    kind = token_kind(token)
    if kind is TokenKind.SHIFT:
        draft.sounding_steps = max(draft.sounding_steps - token_value(token), 0)
    elif kind is TokenKind.DURATION:
        draft.sounding_steps = max(draft.sounding_steps, token_value(token))
    elif kind is TokenKind.PITCH:
        pitch, (lowest, highest) = token_value(token), draft.pitch_extremes
        draft.pitch_extremes = (min(lowest, pitch), max(highest, pitch))


def _follow(token: str, watchers: Sequence[PaceKeeper | CopyGuard]) -> None:
    """Tell what watches the piece grow (its pace, its copies) that time moved or a note began."""
    kind = token_kind(token)
    if kind is TokenKind.SHIFT:
        for watcher in watchers:
            watcher.advance(token_value(token))
    elif kind is TokenKind.PITCH:
        for watcher in watchers:
            watcher.note(token_value(token))
