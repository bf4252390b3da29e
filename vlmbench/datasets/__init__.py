"""Datasets: folders of images with an annotation file, and the sets vlmbench makes itself.

Importing this package reads no images and imports no PIL; the synthetic
generator and the easy-VQA converter are imported only when a set is made.

Modules: loader (load_dataset, cached per process) puts together folder (the
annotation file names, the file listing, the fingerprint), rows with
annotation_csv and annotations_jsonl (the two formats), and images (path
checks, load_image); selection picks a job's samples (filters, limit, a
seeded stratified sample) and fingerprints their inputs and references;
bundled makes the sets of synthetic/ and easyvqa.
"""

from vlmbench.datasets.bundled import (
    BUNDLED,
    BundledDataset,
    data_home,
    get_bundled,
    make_bundled,
    resolve_dataset,
)
from vlmbench.datasets.folder import ANNOTATION_CSV, ANNOTATIONS_JSONL, dataset_fingerprint
from vlmbench.datasets.images import load_image
from vlmbench.datasets.loader import Dataset, load_dataset
from vlmbench.datasets.schema import Sample
from vlmbench.datasets.selection import (
    describe_selection,
    inputs_fingerprint,
    references_changed,
    references_fingerprint,
    select_samples,
    selected_samples,
)

__all__ = [
    "ANNOTATIONS_JSONL",
    "ANNOTATION_CSV",
    "BUNDLED",
    "BundledDataset",
    "Dataset",
    "Sample",
    "data_home",
    "dataset_fingerprint",
    "describe_selection",
    "get_bundled",
    "inputs_fingerprint",
    "load_dataset",
    "load_image",
    "make_bundled",
    "references_changed",
    "references_fingerprint",
    "resolve_dataset",
    "select_samples",
    "selected_samples",
]
