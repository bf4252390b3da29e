"""Exports: a finished run's answers and figures in a peer's file layout.

``export_run(run_dir, "vlmhyperbench")`` writes VLMHyperBench's answers and
metrics CSVs (see :mod:`vlmbench.export.vlmhyperbench`), read from the run's
files without rescoring anything.
"""

from __future__ import annotations

from pathlib import Path

from vlmbench.errors import VlmbenchError
from vlmbench.export.run_files import JobFiles, read_run
from vlmbench.export.vlmhyperbench import Export, export_vlmhyperbench
from vlmbench.rundir import RunDir

FORMATS = {"vlmhyperbench": export_vlmhyperbench}


def export_run(run_dir: Path, format_name: str, out: Path | None = None) -> Export:
    """Write ``run_dir``'s answers and metrics in ``format_name``'s layout under ``out``.

    ``out`` defaults to ``RUN_DIR/<format>``. An unknown format is checked
    before the run is read, so a typo costs nothing.
    """
    format_name = format_name.strip().lower()
    exporter = FORMATS.get(format_name)
    if exporter is None:
        raise VlmbenchError(f"unknown export format {format_name!r}",
                            hint=f"known formats: {', '.join(FORMATS)}")
    jobs = read_run(run_dir)
    return exporter(jobs, Path(out) if out is not None else RunDir(run_dir).export_folder(format_name))


__all__ = ["FORMATS", "Export", "JobFiles", "export_run", "read_run"]
