"""Datasets: folders of images with an annotation file, and the sets vlmbench makes itself.

Importing this package reads no images and imports no PIL; the synthetic
generator and the easy-VQA converter are imported only when a set is made.
"""

from vlmbench.datasets.bundled import (
    BUNDLED,
    BundledDataset,
    data_home,
    get_bundled,
    make_bundled,
    resolve_dataset,
)
from vlmbench.datasets.loader import (
    ANNOTATION_CSV,
    ANNOTATIONS_JSONL,
    Dataset,
    dataset_fingerprint,
    load_dataset,
    load_image,
    select_samples,
)
from vlmbench.datasets.schema import Sample

__all__ = [
    "ANNOTATIONS_JSONL",
    "ANNOTATION_CSV",
    "BUNDLED",
    "BundledDataset",
    "Dataset",
    "Sample",
    "data_home",
    "dataset_fingerprint",
    "get_bundled",
    "load_dataset",
    "load_image",
    "make_bundled",
    "resolve_dataset",
    "select_samples",
]
