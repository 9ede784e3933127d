"""Datasets: built-in collections and the user's own music, read once through the parse cache."""

from core.data.datasets import (
    COLLECTIONS,
    DEFAULT_COLLECTION,
    Dataset,
    dataset_from_loaded,
    load_sources,
    source_files,
)
from core.data.user_music import (
    add_file,
    add_music_files,
    max_files_per_batch,
    over_batch_limit,
    remove_all,
    stored_files,
)

__all__ = [
    "COLLECTIONS",
    "DEFAULT_COLLECTION",
    "Dataset",
    "add_file",
    "add_music_files",
    "dataset_from_loaded",
    "load_sources",
    "max_files_per_batch",
    "over_batch_limit",
    "remove_all",
    "source_files",
    "stored_files",
]
