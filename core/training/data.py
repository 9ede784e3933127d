"""Training data as the network sees it: windows of token ids, the tf.data stream of batches,
and the validation windows that score every held-out token exactly once.

- Windows of `sequence_length + 1` ids are cut from each training piece every `stride` ids; the
  model predicts the next token at every position.
- The stream is a sequence of passes over the windows. Each pass shuffles them and, with
  augmentation, moves each window by a random number of semitones (a precomputed id → id table
  per shift; a shift that would leave the vocabulary is never drawn for that window). All
  randomness is stateless in (seed, pass), so a run resumed at any step sees the same batches as
  an uninterrupted one, and training can be counted in steps as well as in passes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.tokens.scheme import TokenKind, token_kind, token_value
from core.tokens.vocabulary import Vocabulary

EVAL_BATCH_SIZE = 64


def make_windows(
    sequences: Sequence[Sequence[int]], *, length: int, stride: int, pad_id: int = 0
) -> np.ndarray:
    """Windows of `length` ids from each sequence, every `stride` ids, the last one flush with
    the sequence's end so every token is a target; short sequences are padded with `pad_id`."""
    windows: list[np.ndarray] = []
    for sequence in sequences:
        ids = np.asarray(sequence, dtype=np.int32)
        if len(ids) < 2:
            continue
        if len(ids) <= length:
            windows.append(np.pad(ids, (0, length - len(ids)), constant_values=pad_id))
            continue
        starts = list(range(0, len(ids) - length + 1, stride))
        if starts[-1] != len(ids) - length:
            starts.append(len(ids) - length)
        windows.extend(ids[s : s + length] for s in starts)
    if not windows:
        return np.zeros((0, length), dtype=np.int32)
    return np.stack(windows).astype(np.int32)


def transposition_tables(vocab: Vocabulary, semitones: int) -> tuple[list[int], np.ndarray]:
    """(shifts, table) where table[k, id] is the id of that token moved by shifts[k] semitones,
    or -1 when the moved token is not in the vocabulary. Shift 0 comes first."""
    shifts = [0] + [s for s in range(-semitones, semitones + 1) if s != 0]
    table = np.empty((len(shifts), len(vocab)), dtype=np.int32)
    for k, shift in enumerate(shifts):
        for i, token in enumerate(vocab.tokens):
            if shift and token_kind(token) is TokenKind.PITCH:
                moved = f"P{token_value(token) + shift}"
                table[k, i] = vocab.id_of(moved) if moved in vocab else -1
            else:
                table[k, i] = i
    return shifts, table


def allowed_shifts(windows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(windows, shifts) booleans: the shift keeps every token of the window in the vocabulary."""
    allowed = np.empty((len(windows), len(table)), dtype=bool)
    for k in range(len(table)):
        allowed[:, k] = (table[k][windows] >= 0).all(axis=1)
    return allowed


def training_stream(
    windows: np.ndarray,
    *,
    table: np.ndarray,
    allowed: np.ndarray,
    batch_size: int,
    seed: int,
    batches_per_pass: int,
    first_step: int,
    steps: int,
    input_dropout: float = 0.0,
    pad_id: int = 0,
) -> tf.data.Dataset:
    """(inputs, targets) batches `first_step .. first_step + steps` of the endless stream of
    passes (each at most `batches_per_pass` batches), reproducible from the seed.

    A pass may end with a short batch; pass p is shuffled with the key (seed, p) whatever step
    the stream starts at, so a resumed run gets the same batches. With `input_dropout`, that
    share of the input tokens (never the targets) is replaced by `pad_id`, drawn from the key
    (seed, step), so the network cannot lean on any single token of its context.
    """
    windows_t = tf.constant(windows)
    table_t = tf.constant(np.maximum(table, 0))
    # Large negative instead of -inf keeps categorical sampling free of NaNs.
    shift_logits = tf.constant(np.where(allowed, 0.0, -1e9).astype(np.float32))
    count = len(windows)

    def one_pass(index: tf.Tensor) -> tf.data.Dataset:
        key = tf.stack([tf.constant(seed, tf.int64), index])
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=key)
        shifts = tf.random.stateless_categorical(
            shift_logits, 1, seed=key + tf.constant([0, 1_000_003], tf.int64), dtype=tf.int32
        )[:, 0]
        picked = tf.data.Dataset.from_tensor_slices((order, tf.gather(shifts, order)))
        return picked.batch(batch_size).take(batches_per_pass)

    def to_pairs(
        step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]
    ) -> tuple[tf.Tensor, tf.Tensor]:
        index, shift = batch
        window = tf.gather(windows_t, index)
        moved = tf.gather(tf.gather(table_t, shift), window, batch_dims=1)
        inputs = moved[:, :-1]
        if input_dropout > 0:
            key = tf.stack([tf.constant(seed, tf.int64), step + 2_000_003])
            dropped = tf.random.stateless_uniform(tf.shape(inputs), seed=key) < input_dropout
            inputs = tf.where(dropped, tf.constant(pad_id, inputs.dtype), inputs)
        return inputs, moved[:, 1:]

    first_pass = first_step // batches_per_pass
    passes = math.ceil((first_step + steps) / batches_per_pass) - first_pass
    return (
        tf.data.Dataset.range(first_pass, first_pass + passes)
        .flat_map(one_pass)
        .skip(first_step - first_pass * batches_per_pass)
        .take(steps)
        .enumerate(start=first_step)
        .map(to_pairs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def training_dataset(
    windows: np.ndarray,
    *,
    table: np.ndarray,
    allowed: np.ndarray,
    batch_size: int,
    seed: int,
    first_epoch: int,
    epochs: int,
    batches_per_epoch: int,
) -> tf.data.Dataset:
    """Batches of whole passes first_epoch..epochs-1 (`training_stream` counted in passes)."""
    return training_stream(
        windows,
        table=table,
        allowed=allowed,
        batch_size=batch_size,
        seed=seed,
        batches_per_pass=batches_per_epoch,
        first_step=first_epoch * batches_per_epoch,
        steps=(epochs - first_epoch) * batches_per_epoch,
    )


@dataclass(frozen=True)
class EvalWindows:
    inputs: np.ndarray  # (n, length) ids
    targets: np.ndarray  # (n, length) ids
    counted: np.ndarray  # (n, length) bool: targets that are scored (each token exactly once)


def evaluation_windows(
    sequences: Sequence[Sequence[int]], *, length: int, pad_id: int = 0
) -> EvalWindows:
    """Windows that score every token after BOS exactly once, each with at least half a window
    of context (after the first): windows overlap by half and only their second half counts."""
    burn_in = length // 2
    hop = length - burn_in
    inputs, targets, counted = [], [], []
    for sequence in sequences:
        ids = np.asarray(sequence, dtype=np.int32)
        start = 0
        while True:
            chunk = ids[start : start + length + 1]
            x = np.full(length, pad_id, np.int32)
            y = np.full(length, pad_id, np.int32)
            x[: len(chunk) - 1] = chunk[:-1]
            y[: len(chunk) - 1] = chunk[1:]
            mask = y != pad_id
            if start > 0:
                mask[:burn_in] = False
            inputs.append(x)
            targets.append(y)
            counted.append(mask)
            if start + length + 1 >= len(ids):
                break
            start += hop
    if not inputs:
        empty = np.zeros((0, length), np.int32)
        return EvalWindows(empty, empty, empty.astype(bool))
    return EvalWindows(np.stack(inputs), np.stack(targets), np.stack(counted))


def evaluate(model: keras.Model, windows: EvalWindows) -> dict[str, float]:
    """Loss (nats/token), perplexity and accuracy over the counted targets."""
    total_nll = 0.0
    correct = tokens = 0
    for start in range(0, len(windows.inputs), EVAL_BATCH_SIZE):
        stop = start + EVAL_BATCH_SIZE
        logits = np.asarray(model.predict_on_batch(windows.inputs[start:stop]), dtype=np.float64)
        y, mask = windows.targets[start:stop], windows.counted[start:stop]
        top = logits.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
        picked = np.take_along_axis(logits, y[..., None], axis=-1)[..., 0]
        total_nll += float(((log_norm - picked) * mask).sum())
        correct += int(((logits.argmax(axis=-1) == y) & mask).sum())
        tokens += int(mask.sum())
    loss = total_nll / max(tokens, 1)
    return {
        "loss": loss,
        "perplexity": math.exp(min(loss, 50.0)),
        "accuracy": correct / max(tokens, 1),
        "tokens": float(tokens),
    }
