"""The Basic Pitch ONNX model (ICASSP 2022): where its file is, and loading it in onnxruntime.

basic-pitch itself is never imported: `import basic_pitch` imports TensorFlow, which takes
seconds (docs/transcription.md), so the model file is found inside the installed package by
path, or the copy the repository ships is used.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import setting_count

log = logging.getLogger(__name__)

MODEL_RELATIVE_PATH = Path("saved_models") / "icassp_2022" / "nmp.onnx"
# The same file, shipped: where basic-pitch cannot be installed (Streamlit Community Cloud).
SHIPPED_MODEL_PATH = Path(__file__).resolve().parent / "basic_pitch_model" / "nmp.onnx"
MODEL_INPUT = "serving_default_input_2:0"
MODEL_NOTE_OUTPUT = "StatefulPartitionedCall:1"
MODEL_ONSET_OUTPUT = "StatefulPartitionedCall:2"
TRANSCRIBE_THREADS_ENV = "TUNESMITH_TRANSCRIBE_THREADS"  # default, range: core.settings


def default_model_path() -> Path:
    """basic-pitch's bundled ONNX model, found without importing the package (and TensorFlow);
    the repository's copy of it when the package is not installed."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        if SHIPPED_MODEL_PATH.is_file():
            return SHIPPED_MODEL_PATH
        raise FileNotFoundError("basic-pitch is not installed (see requirements-nodeps.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_RELATIVE_PATH


@dataclass(frozen=True)
class BasicPitchModel:
    """A loaded Basic Pitch ONNX session. Load once with `load_model()` and pass it around.

    `workers` batches run at once, each on one thread: the model's convolutions are small, so
    batches side by side use the cores better than one batch split across them (the
    measurement: docs/transcription.md).
    """

    session: Any = field(repr=False)
    path: Path
    workers: int

    def predict(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, AUDIO_N_SAMPLES, 1) float32 windows → note and onset activations (n, 172, 88).

        Thread-safe: onnxruntime sessions accept concurrent runs.
        """
        note, onset = self.session.run(
            [MODEL_NOTE_OUTPUT, MODEL_ONSET_OUTPUT], {MODEL_INPUT: windows}
        )
        return note, onset


def default_workers() -> int:
    """Batches run at once: `TUNESMITH_TRANSCRIBE_THREADS`, else the number of CPUs."""
    return setting_count(TRANSCRIBE_THREADS_ENV)


def load_model(path: Path | None = None, *, workers: int | None = None) -> BasicPitchModel:
    """Open the ONNX model in onnxruntime (a fraction of a second), tuned for this CPU."""
    import onnxruntime as ort

    path = path or default_model_path()
    workers = workers or default_workers()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # parallel across batches instead (see BasicPitchModel)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Quiet passages make tiny activations; denormal arithmetic is far slower on x86.
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    log.info("loaded %s for %d parallel batches", path, workers)
    return BasicPitchModel(session=session, path=Path(path), workers=workers)
