"""The LSTM and the model folder: building, saving, loading, the bundled models, the numpy step
model, and what a folder keeps for evaluation and the copy guard."""

from core.model.bundled import BASE_MODEL_NAME, STYLES, available_styles
from core.model.folder import (
    METRICS_FILE,
    MODEL_FILE,
    delete_model_folder,
    list_model_folders,
    model_folder_to_zip,
    read_model_info,
    rename_model_folder,
    zip_to_model_folder,
)
from core.model.model_data import load_index
from core.model.network import ModelConfig
from core.model.training_notes import COPY_FLAG_BARS, passage_excerpt

__all__ = [
    "BASE_MODEL_NAME",
    "COPY_FLAG_BARS",
    "METRICS_FILE",
    "MODEL_FILE",
    "STYLES",
    "ModelConfig",
    "available_styles",
    "delete_model_folder",
    "list_model_folders",
    "load_index",
    "model_folder_to_zip",
    "passage_excerpt",
    "read_model_info",
    "rename_model_folder",
    "zip_to_model_folder",
]
