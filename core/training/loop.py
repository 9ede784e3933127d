"""Train the LSTM on a dataset, from scratch or fine-tuned from a base model (same shape and
vocabulary): `train` prepares the windows, builds the network or resumes it from its checkpoint,
scores the starting weights and an n-gram baseline on the held-out pieces, fits rounds of steps
with the callbacks of `core.training.callbacks`, and saves the best weights as a model folder."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from core.data.datasets import Dataset
from core.errors import TrainingDataError
from core.model.folder import MODEL_FILE, VOCAB_FILE, save_model_folder
from core.model.model_data import write_model_data
from core.model.network import ModelConfig, build_model, compile_model
from core.progress import ProgressCallback
from core.tokens.vocabulary import Vocabulary
from core.training.callbacks import (
    BestWeights,
    CancelOnRequest,
    EarlyStopping,
    ProgressReporter,
    RoundCheckpoint,
    Schedule,
    Validation,
    learning_rate_schedule,
)
from core.training.checkpoints import (
    BEST_WEIGHTS_FILE,
    LAST_MODEL_FILE,
    TrainingState,
    has_checkpoint,
    read_checkpoint_state,
)
from core.training.config import TrainingConfig
from core.training.data import (
    EvalWindows,
    allowed_shifts,
    evaluate,
    evaluation_windows,
    make_windows,
    training_stream,
    transposition_tables,
)
from core.training.ngram import ngram_baseline
from core.training.records import TrainingProgress, TrainingResult, final_metrics

log = logging.getLogger(__name__)


def train(
    dataset: Dataset,
    *,
    model_config: ModelConfig,
    training_config: TrainingConfig,
    checkpoint_dir: Path,
    out_dir: Path | None = None,
    on_progress: ProgressCallback[TrainingProgress] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = True,
    base_dir: Path | None = None,
) -> TrainingResult:
    """Train (or continue training) on `dataset` and save the best model as a folder.

    With `base_dir` a new run starts from that base model's weights (its shape and vocabulary
    must be this run's). With `resume` and a checkpoint in `checkpoint_dir`, training continues
    from its round count with the saved optimizer, history and early-stopping counters.

    Raises:
        JobCancelled: `should_stop()` became true; the last round's checkpoint is kept.
        ValueError: no training windows or no validation pieces, or a base that does not fit.
    """
    config = training_config
    checkpoint_dir = Path(checkpoint_dir)
    keras.utils.set_random_seed(config.seed)
    data = _prepare_data(dataset, config)
    network = _build_or_resume(
        dataset, model_config, config, data, checkpoint_dir, resume=resume, base_dir=base_dir
    )
    _score_baseline(network.state, data, config, on_progress)
    _fit_rounds(network, data, config, checkpoint_dir, on_progress, should_stop)
    return _save(
        dataset,
        network,
        data,
        model_config=model_config,
        config=config,
        checkpoint_dir=checkpoint_dir,
        out_dir=out_dir,
        on_progress=on_progress,
        base_dir=base_dir,
    )


@dataclass(frozen=True)
class _Data:
    """A run's data as the network sees it, and how the run is counted."""

    vocab: Vocabulary
    train_ids: list[list[int]]
    valid_ids: list[list[int]]
    windows: np.ndarray
    table: np.ndarray
    allowed: np.ndarray
    batches_per_pass: int
    schedule: Schedule
    valid: EvalWindows


@dataclass(frozen=True)
class _Network:
    """The network being trained, the best weights so far and the run's state."""

    model: keras.Model
    best_model: keras.Model
    state: TrainingState


def _prepare_data(dataset: Dataset, config: TrainingConfig) -> _Data:
    """The training windows and their transpositions, the held-out windows, the schedule."""
    vocab = dataset.vocab
    train_ids, valid_ids = dataset.train_ids(), dataset.valid_ids()
    if not valid_ids:
        raise TrainingDataError(
            f"{dataset.name}: no validation pieces (at least two pieces needed)"
        )
    windows = make_windows(
        train_ids,
        length=config.sequence_length + 1,
        stride=config.stride,
        pad_id=vocab.pad_id,
    )
    if not len(windows):
        raise TrainingDataError(f"{dataset.name}: no training windows")
    _, table = transposition_tables(vocab, config.augment_semitones)
    batches_per_pass = math.ceil(len(windows) / config.batch_size)
    if config.max_batches_per_epoch:
        batches_per_pass = min(batches_per_pass, config.max_batches_per_epoch)
    steps_per_round, rounds = config.rounds(batches_per_pass)
    tokens_per_window = float((windows[:, 1:] != vocab.pad_id).sum()) / len(windows)
    return _Data(
        vocab=vocab,
        train_ids=train_ids,
        valid_ids=valid_ids,
        windows=windows,
        table=table,
        allowed=allowed_shifts(windows, table),
        batches_per_pass=batches_per_pass,
        schedule=Schedule(
            steps_per_round=steps_per_round,
            rounds=rounds,
            tokens_per_step=tokens_per_window * min(config.batch_size, len(windows)),
        ),
        valid=evaluation_windows(valid_ids, length=config.sequence_length, pad_id=vocab.pad_id),
    )


def _build_or_resume(
    dataset: Dataset,
    model_config: ModelConfig,
    config: TrainingConfig,
    data: _Data,
    checkpoint_dir: Path,
    *,
    resume: bool,
    base_dir: Path | None,
) -> _Network:
    """The checkpoint's network and state, or a new compiled one (the base's, scored first)."""
    vocab = dataset.vocab
    state = (
        read_checkpoint_state(checkpoint_dir) if resume and has_checkpoint(checkpoint_dir) else None
    )
    best_model = build_model(model_config, len(vocab))  # first: the seed's draws keep their order
    if state is not None:
        log.info("resuming from %s after round %d", checkpoint_dir, state.epochs_done)
        model = keras.saving.load_model(checkpoint_dir / LAST_MODEL_FILE, safe_mode=True)
        best_model.load_weights(checkpoint_dir / BEST_WEIGHTS_FILE)
        return _Network(model, best_model, state)
    state = TrainingState()
    model = build_model(model_config, len(vocab))
    if base_dir is not None:
        _start_from_base(model, base_dir, vocab, name=dataset.name)
        best_model.set_weights(model.get_weights())
        _score_start(model, data.valid, state)
    compile_model(model, learning_rate=config.learning_rate, pad_id=vocab.pad_id)
    return _Network(model, best_model, state)


def _start_from_base(model: keras.Model, base_dir: Path, vocab: Vocabulary, *, name: str) -> None:
    """Copy a base model's weights into `model` (fine-tuning).

    Raises:
        ValueError: the base's vocabulary or network shape differs from this run's.
    """
    base_dir = Path(base_dir)
    if Vocabulary.load(base_dir / VOCAB_FILE) != vocab:
        raise TrainingDataError(f"{name}: the data's vocabulary differs from the base model's")
    base = keras.saving.load_model(base_dir / MODEL_FILE, compile=False, safe_mode=True)
    try:
        model.set_weights(base.get_weights())
    except ValueError as error:
        raise TrainingDataError(
            f"{name}: the network's shape differs from the base model {base_dir.name} ({error})"
        ) from error


def _score_start(model: keras.Model, valid: EvalWindows, state: TrainingState) -> None:
    """Score the starting weights on the held-out pieces as round 0, the best so far."""
    scores = evaluate(model, valid)
    state.start = {
        "epoch": 0,
        "step": 0,
        "val_loss": scores["loss"],
        "val_perplexity": scores["perplexity"],
        "val_accuracy": scores["accuracy"],
    }
    state.best_val_loss = scores["loss"]


def _score_baseline(
    state: TrainingState,
    data: _Data,
    config: TrainingConfig,
    on_progress: ProgressCallback[TrainingProgress] | None,
) -> None:
    """Score the n-gram baseline on the same split, once per run (a resumed run keeps it)."""
    if state.baseline:
        return
    schedule = data.schedule
    if on_progress:
        on_progress(
            0,
            schedule.total_steps,
            TrainingProgress(
                "baseline", state.epochs_done + 1, schedule.rounds, 0, schedule.steps_per_round
            ),
        )
    score = ngram_baseline(
        data.train_ids,
        data.valid_ids,
        vocab_size=len(data.vocab),
        order=config.ngram_order,
        bos_id=data.vocab.bos_id,
    )
    state.baseline = {
        "loss": score.loss,
        "perplexity": score.perplexity,
        "accuracy": score.accuracy,
        "order": float(config.ngram_order),
    }


def _fit_rounds(
    network: _Network,
    data: _Data,
    config: TrainingConfig,
    checkpoint_dir: Path,
    on_progress: ProgressCallback[TrainingProgress] | None,
    should_stop: Callable[[], bool] | None,
) -> None:
    """Fit the rounds not done yet, from the step the state has reached."""
    state, schedule = network.state, data.schedule
    if state.stopped_early or state.epochs_done >= schedule.rounds:
        return
    stream = training_stream(
        data.windows,
        table=data.table,
        allowed=data.allowed,
        batch_size=config.batch_size,
        seed=config.seed,
        batches_per_pass=data.batches_per_pass,
        first_step=state.epochs_done * schedule.steps_per_round,
        steps=(schedule.rounds - state.epochs_done) * schedule.steps_per_round,
        input_dropout=config.input_dropout,
        pad_id=data.vocab.pad_id,
    )
    network.model.fit(
        stream,
        epochs=schedule.rounds,
        initial_epoch=state.epochs_done,
        steps_per_epoch=schedule.steps_per_round,
        callbacks=_callbacks(network, data, config, checkpoint_dir, on_progress, should_stop),
        shuffle=False,
        verbose=0,
    )


def _callbacks(
    network: _Network,
    data: _Data,
    config: TrainingConfig,
    checkpoint_dir: Path,
    on_progress: ProgressCallback[TrainingProgress] | None,
    should_stop: Callable[[], bool] | None,
) -> list[keras.callbacks.Callback]:
    """The callbacks in the order a round needs: validated, then judged, then checkpointed."""
    state, schedule = network.state, data.schedule
    return [
        *([CancelOnRequest(should_stop)] if should_stop is not None else []),
        learning_rate_schedule(config, schedule),
        *([ProgressReporter(on_progress, state=state, schedule=schedule)] if on_progress else []),
        Validation(data.valid, state=state, config=config, schedule=schedule),
        BestWeights(network.best_model, state=state),
        EarlyStopping(state=state, patience=config.patience),
        RoundCheckpoint(checkpoint_dir, best_model=network.best_model, state=state),
    ]


def _save(
    dataset: Dataset,
    network: _Network,
    data: _Data,
    *,
    model_config: ModelConfig,
    config: TrainingConfig,
    checkpoint_dir: Path,
    out_dir: Path | None,
    on_progress: ProgressCallback[TrainingProgress] | None,
    base_dir: Path | None,
) -> TrainingResult:
    """The run's figures, and the best weights saved as a model folder when `out_dir` is set."""
    state, schedule = network.state, data.schedule
    heldout = {p.name for p in dataset.valid}
    metrics = final_metrics(
        state,
        vocab_size=len(dataset.vocab),
        train_windows=len(data.windows),
        valid_tokens=int(data.valid.counted.sum()),
        parameters=int(network.best_model.count_params()),
        heldout_pieces=len(dataset.valid),
        heldout_notes=sum(len(p.notes) for p in dataset.pieces if p.name in heldout),
    )
    base_name = Path(base_dir).name if base_dir is not None else None
    if on_progress:
        on_progress(
            schedule.total_steps,
            schedule.total_steps,
            TrainingProgress(
                "saving",
                state.epochs_done,
                schedule.rounds,
                schedule.steps_per_round,
                schedule.steps_per_round,
                history=tuple(state.history),
                baseline=state.baseline,
                start=state.start,
            ),
        )
    model_dir = None
    if out_dir is not None:
        model_dir = save_model_folder(
            Path(out_dir),
            keras_model=network.best_model,
            encoding=dataset.config,
            vocab=dataset.vocab,
            config=model_config,
            training={**config.to_dict(), "base_model": base_name},
            metrics={**metrics, "dataset": dataset.name, "fine_tuned_from": base_name},
            checkpoint_dir=checkpoint_dir,
            write_extra=functools.partial(write_model_data, dataset=dataset),
        )
    return TrainingResult(model_dir=model_dir, metrics={**metrics, "fine_tuned_from": base_name})
