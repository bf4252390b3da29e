"""The report's provenance section: what each job ran with, from run.json, for a reader to check.

Per job: the model class and its params; the weights as named and as the
worker loaded them (the folder, the hub commit of a cached snapshot, the
content hash that vlmbench.weights_revision recomputes); the image and its
digest; the versions in the worker's own environment (Python, platform,
torch, transformers, vLLM, CUDA, driver, GPUs, other packages); the
dataset with its fingerprints and how the samples were chosen; the
decoding settings; the system prompt and prompt templates verbatim. What
run.json does not hold (a job not run yet, a run.json from an older
vlmbench) is said to be not recorded, never left blank.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vlmbench.catalog import CatalogRow
from vlmbench.environment import EnvironmentVersions
from vlmbench.rundir.records import DatasetRef, PromptSpec, RunJob, RunRecord, WeightsRevision

NOT_RECORDED = "not recorded"
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True)
class Fact:
    """One line of a job's provenance: ``code`` is shown verbatim (an id, a path, a version), ``text`` as prose."""

    label: str
    code: str = ""
    text: str = ""


@dataclass(frozen=True)
class Block:
    """A text shown whole and verbatim: a prompt template, a system prompt."""

    label: str
    text: str


def _model_facts(job: RunJob) -> list[Fact]:
    row = job.catalog_row
    try:
        class_path = CatalogRow.model_validate(row).class_path
    except ValidationError:  # a row from a vlmbench whose catalog had other columns
        class_path = str(row.get("class_name") or "?")
    facts = [Fact("Model class", class_path, f"(framework {row.get('framework', '?')})")]
    # The worker's params: the catalog row's, with the run CSV row's over them (as plan.py merges them).
    params = {**(row.get("params") or {}), **(job.config_row.get("params") or {})}
    if params:
        facts.append(Fact("Model params", json.dumps(params, sort_keys=True, ensure_ascii=False)))
    return facts


def _weights_facts(job: RunJob) -> list[Fact]:
    named = job.catalog_row.get("weights")
    facts = [Fact("Weights", str(named)) if named else Fact("Weights", text="none named in the catalog")]
    loaded: WeightsRevision | None = job.weights
    if loaded is None and not named:
        return facts  # an OCR engine, an echo: nothing to load
    if loaded is None:
        return [*facts, Fact("Weights loaded", text=f"{NOT_RECORDED}: the worker reported no local weights "
                                                    "folder (not run yet, a remote model, or an older vlmbench)")]
    facts.append(Fact("Loaded from", loaded.path))
    if loaded.commit:
        facts.append(Fact("Hub commit", f"{loaded.repo_id}@{loaded.commit}"))
    facts.append(Fact("Content hash", loaded.content_hash,
                      f"({loaded.hash_method}, {loaded.n_files:,} files, {loaded.total_bytes:,} bytes)"))
    return facts


def _image_facts(job: RunJob) -> list[Fact]:
    if not job.image:
        return [Fact("Image", text="none: the worker ran without a container")]
    digest = Fact("Image digest", job.image_digest) if job.image_digest else Fact(
        "Image digest", text=f"{NOT_RECORDED}: the executor resolved none")
    return [Fact("Image", job.image), digest]


def _environment_facts(environment: EnvironmentVersions | None) -> list[Fact]:
    if environment is None:
        return [Fact("Worker environment", text=f"{NOT_RECORDED}: the job's worker has not reported it "
                                                "(not run yet, or an older vlmbench)")]

    def version(label: str, value: str | None, missing: str = "not installed") -> Fact:
        return Fact(label, value) if value else Fact(label, text=missing)

    vllm = environment.vllm and f"{environment.vllm} ({environment.vllm_distribution})"
    facts = [version("Worker Python", environment.python),
             version("Worker platform", environment.platform, NOT_RECORDED),
             version("torch", environment.torch),
             version("transformers", environment.transformers),
             version("vLLM", vllm),
             version("CUDA (torch's build)", environment.cuda, "none"),
             version("NVIDIA driver", environment.nvidia_driver, "none"),
             version("GPUs", _gpus(environment.gpus), "none seen by the worker")]
    if environment.packages:
        facts.append(Fact("Other packages", " ".join(f"{name}=={value}"
                                                     for name, value in environment.packages.items())))
    return facts


def _gpus(names: list[str]) -> str:
    """"2 × NVIDIA H200, NVIDIA A100": each model once, with its count, in the order the worker saw them."""
    counts = Counter(names)
    return ", ".join(name if counts[name] == 1 else f"{counts[name]} × {name}" for name in counts)


def selection_settings(dataset: DatasetRef) -> str:
    """The settings that chose a job's samples, e.g. "doc_class invoice; sample 100 (seed 0)"."""
    parts = [f"{name} {', '.join(values)}" for name, values in
             (("doc_class", dataset.doc_classes), ("question_type", dataset.question_types)) if values]
    if dataset.sample is not None:
        parts.append(f"seeded sample of {dataset.sample:,} (seed {dataset.seed}), stratified by doc_class")
    if dataset.limit is not None:
        parts.append(f"limit {dataset.limit:,}")
    return "; ".join(parts) or "no filter, limit or sample"


def _sample_facts(job: RunJob) -> list[Fact]:
    facts = [Fact("Samples", text=job.selection or f"{job.n_samples:,}")]
    dataset = job.dataset
    if dataset is None:
        return [*facts, Fact("Dataset", job.dataset_root, f"(its fingerprints: {NOT_RECORDED})")]
    facts += [Fact("Dataset", dataset.name, f"at {job.dataset_root}"),
              Fact("Selection", text=selection_settings(dataset)),
              Fact("Dataset fingerprint", dataset.fingerprint)]
    if dataset.inputs_fingerprint:
        facts.append(Fact("Selected inputs fingerprint", dataset.inputs_fingerprint,
                          "(of the chosen samples' ids, images, questions and classes)"))
    return facts


def _generation_facts(job: RunJob) -> list[Fact]:
    if job.generation is None:
        return [Fact("Generation", text=NOT_RECORDED)]
    settings = job.generation
    return [Fact("Generation", f"max_new_tokens={settings.max_new_tokens} temperature={settings.temperature:g}",
                 "(greedy)" if settings.greedy else "(sampled)")]


def _prompt_blocks(prompt: PromptSpec | None) -> tuple[list[Fact], list[Block]]:
    if prompt is None:
        return [Fact("Prompt", text=f"{NOT_RECORDED} (run.json from an older vlmbench)")], []
    facts, blocks = [], []
    if prompt.system_prompt is None:
        facts.append(Fact("System prompt", text="none"))
    else:
        blocks.append(Block("System prompt", prompt.system_prompt))
    blocks.append(Block("Prompt template", prompt.template))
    for rule in prompt.rules:
        where = " and ".join(f"{name} {value}" for name, value in
                             (("doc_class", rule.doc_class), ("question_type", rule.question_type)) if value)
        blocks.append(Block(f"Prompt template for {where or 'any sample'} (prompt collection)", rule.template))
    if prompt.choices_template != PromptSpec().choices_template:
        blocks.append(Block("Multiple-choice question template", prompt.choices_template))
    return facts, blocks


def job_provenance(job: RunJob) -> dict[str, Any]:
    """One job's provenance as plain data for both templates."""
    prompt_facts, blocks = _prompt_blocks(job.prompt)
    model_name = job.catalog_row.get("model_name") or job.config_row.get("model_name") or "?"
    dataset = job.dataset.name if job.dataset else Path(str(job.config_row.get("dataset") or "?")).name
    return {
        "job_id": job.job_id,
        "title": f"{model_name} · {dataset}",
        "facts": [*_model_facts(job), *_weights_facts(job), *_image_facts(job),
                  *_environment_facts(job.environment), *_sample_facts(job), *_generation_facts(job),
                  *prompt_facts],
        "blocks": blocks,
    }


def run_facts(record: RunRecord) -> list[Fact]:
    """What holds for the whole run: who planned it, where, from which run CSV."""
    executor = record.executor + (f" ({record.container_runtime})" if record.container_runtime else "")
    host = record.host
    return [Fact("vlmbench (host)", record.vlmbench), Fact("Executor", text=executor),
            Fact("Host", host.node, f"(Python {host.python}, {host.platform})"),
            Fact("Run CSV", record.config), Fact("Planned at", record.created_at)]


def provenance_context(record: RunRecord) -> dict[str, Any]:
    return {"run": run_facts(record), "jobs": [job_provenance(job) for job in record.jobs]}


def fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in ``text``, so the text cannot end it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def code_span(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    ticks = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def render_provenance(record: RunRecord) -> tuple[str, str]:
    """The section alone, in Markdown and as an HTML fragment (the report includes the same templates)."""
    from vlmbench.report.render import render_pair

    return render_pair("provenance", {"provenance": provenance_context(record)})
