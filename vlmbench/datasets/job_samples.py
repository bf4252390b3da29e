"""A job's samples, handed from the host to its worker: the annotation file is parsed once per run.

The host has parsed the dataset already when it plans (load_dataset keeps
the parse per process, so scoring reuses it too). It hands each job's
selected samples to the job's worker in the job folder (JobSamples, the
run directory's samples.json), and the worker answers them instead of
parsing the annotation file again in a process of its own. The worker
still checks that its model sees what was planned: the images it finds
(their sizes, as in the dataset fingerprint) with the handed questions must
give the job's inputs fingerprint, so a folder changed after planning, or
another copy of it, is caught as before. Without a handed file (a job file
written by hand, an older host) the worker reads the dataset itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from vlmbench.datasets.folder import folder_of
from vlmbench.datasets.loader import load_dataset
from vlmbench.datasets.schema import Sample
from vlmbench.datasets.selection import inputs_fingerprint, selected_samples
from vlmbench.errors import DatasetError
from vlmbench.fileio import expand_user
from vlmbench.rundir.records import DatasetRef, JobSamples


def planned_samples(root: Path, ref: DatasetRef) -> JobSamples | None:
    """What the host hands a job planned on the dataset at ``root`` (the host's path to it).

    None for a job without an inputs fingerprint: its worker could not check
    the handed samples against anything, so it reads the dataset itself.
    """
    if not ref.inputs_fingerprint:
        return None
    dataset = load_dataset(root, name=ref.name)
    return JobSamples(inputs_fingerprint=ref.inputs_fingerprint, samples=selected_samples(dataset.samples, ref))


def _changed(ref: DatasetRef) -> DatasetError:
    return DatasetError(
        f"the dataset at {ref.path} is not the one this job was planned on: its selected samples' "
        "ids, images, questions or classes differ",
        hint="the folder changed after planning, or the worker sees another copy; run `vlmbench run` again",
    )


def _image_sizes(root: Path, samples: Iterable[Sample]) -> dict[str, int]:
    """Relative path -> size of the samples' images, as folder.scan_files lists them (a dangling link is -1,
    a missing file is left out), by one stat each instead of a walk of the whole folder."""
    sizes: dict[str, int] = {}
    for sample in samples:
        for image in sample.images:
            if image in sizes:
                continue
            try:
                sizes[image] = os.stat(root / image).st_size
            except OSError:
                if os.path.lexists(root / image):
                    sizes[image] = -1
    return sizes


def job_samples(ref: DatasetRef, handed: JobSamples | None) -> tuple[Path, list[Sample]]:
    """The worker's side: the dataset folder as this worker sees it, and the job's selected samples.

    ``handed`` (the job folder's samples.json, if any) is used when it was
    written for this job's inputs; otherwise the dataset is read here.
    Either way a mismatch with the job's inputs fingerprint is a DatasetError.
    """
    path = Path(ref.path)
    if handed is None or not ref.inputs_fingerprint or handed.inputs_fingerprint != ref.inputs_fingerprint:
        dataset = load_dataset(path, name=ref.name)
        samples = selected_samples(dataset.samples, ref)
        if ref.inputs_fingerprint and inputs_fingerprint(samples, dataset.files) != ref.inputs_fingerprint:
            raise _changed(ref)
        return dataset.root, samples
    root = folder_of(expand_user(path))
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}",
                           hint="the worker sees the dataset at the path its job file gives")
    root = root.resolve()
    if inputs_fingerprint(handed.samples, _image_sizes(root, handed.samples)) != ref.inputs_fingerprint:
        raise _changed(ref)
    return root, handed.samples
