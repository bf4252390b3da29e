"""The report's provenance section: each job's prompt, weights, image, worker environment and samples."""

from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from vlmbench.environment import EnvironmentVersions
from vlmbench.models.base import GenerationParams
from vlmbench.report import render_report
from vlmbench.report.provenance import render_provenance
from vlmbench.rundir.records import (
    DatasetRef,
    HostInfo,
    PromptRule,
    PromptSpec,
    RunJob,
    RunRecord,
    WeightsRevision,
)

TEMPLATE = "Read the page.\n```json\n{\"total\": ...}\n```\nQuestion: {question} <b>now</b>"
SYSTEM = "You are `careful` & exact."
HASH = "c0ffee" + "0" * 58
DIGEST = "sha256:" + "d" * 64


def jobs() -> list[RunJob]:
    full = RunJob(
        job_id="a1b2c3d4e5f6", config_row={"model_name": "qwen2-vl-2b", "dataset": "docs", "params": {"seed": 1}},
        catalog_row={"framework": "hf", "model_name": "qwen2-vl-2b", "python_package": "vlmbench",
                     "module": "models.hf.adapter", "class_name": "HFVisionModel", "weights": "Qwen/Qwen2-VL-2B",
                     "params": {"dtype": "bfloat16"}},
        image="vlmbench/cuda:latest", image_digest=DIGEST, metrics=["anls"], aggregators=["general"],
        n_samples=50, selection="50 of 400 with doc_class invoice: seeded sample (seed 7), stratified by doc_class",
        dataset_root="/data/docs",
        environment=EnvironmentVersions(python="3.11.9", torch="2.8.0+cu128", transformers="4.57.1", cuda="12.8",
                                        nvidia_driver="570.86.15", platform="Linux-5.15-x86_64-with-glibc2.36",
                                        gpus=["NVIDIA H200", "NVIDIA H200", "NVIDIA A100"],
                                        packages={"tokenizers": "0.22.1", "pillow": "11.3.0"}),
        prompt=PromptSpec(template=TEMPLATE, system_prompt=SYSTEM,
                          rules=[PromptRule(doc_class="receipt", template="Receipt: {question}")]),
        dataset=DatasetRef(name="docs", path="/data/docs", fingerprint="fp1234", doc_classes=["invoice"],
                           sample=50, seed=7, inputs_fingerprint="in5678"),
        generation=GenerationParams(max_new_tokens=64, temperature=0.0),
        weights=WeightsRevision(weights="Qwen/Qwen2-VL-2B",
                                path="/hf/hub/models--Qwen--Qwen2-VL-2B/snapshots/895c3a49",
                                repo_id="Qwen/Qwen2-VL-2B", commit="895c3a49", content_hash=HASH,
                                hash_method="vlmbench-folder-v1", n_files=12, total_bytes=4_418_234_567),
    )
    # As a run.json from before provenance reads: none of the new fields.
    old = RunJob(job_id="0f0f0f0f0f0f", config_row={"model_name": "tesseract-eng", "dataset": "/data/words"},
                 catalog_row={"framework": "tesseract", "model_name": "tesseract-eng", "class_name": "tesseract"},
                 metrics=["cer"], aggregators=["general"], n_samples=12, selection="all 12",
                 dataset_root="/data/words")
    return [full, old]


@pytest.fixture
def record() -> RunRecord:
    return RunRecord(run_id="run-7", created_at="2026-12-03T10:00:00.000+00:00", config="/work/run.csv",
                     executor="docker", vlmbench="0.1.0", images={"vlmbench/cuda:latest": DIGEST},
                     host=HostInfo(python="3.11.7", platform="Linux-6.1", node="bench-01"), jobs=jobs())


def fenced_blocks(markdown: str) -> list[str]:
    """What a real Markdown parser reads as the fenced code blocks."""
    return [token.content for token in MarkdownIt().parse(markdown) if token.type == "fence"]


def test_the_markdown_shows_prompts_verbatim_and_what_the_worker_ran_with(record):
    markdown, _ = render_provenance(record)
    blocks = fenced_blocks(markdown)
    # The template holds a fence of its own: the section's fence is longer, so it comes back whole.
    assert TEMPLATE + "\n" in blocks and SYSTEM + "\n" in blocks and "Receipt: {question}\n" in blocks
    for shown in ("## Provenance", "### qwen2-vl-2b · docs (`a1b2c3d4e5f6`)", "`vlmbench.models.hf.adapter:HFVisionModel`",
                  '`{"dtype": "bfloat16", "seed": 1}`', "`Qwen/Qwen2-VL-2B@895c3a49`", f"`{HASH}`",
                  "(vlmbench-folder-v1, 12 files, 4,418,234,567 bytes)", f"`{DIGEST}`", "torch: `2.8.0+cu128`",
                  "transformers: `4.57.1`", "CUDA (torch's build): `12.8`", "NVIDIA driver: `570.86.15`",
                  "GPUs: `2 × NVIDIA H200, NVIDIA A100`", "`tokenizers==0.22.1 pillow==11.3.0`",
                  "Worker platform: `Linux-5.15-x86_64-with-glibc2.36`", "seeded sample (seed 7)",
                  "doc_class invoice; seeded sample of 50 (seed 7), stratified by doc_class",
                  "`fp1234`", "`in5678`", "`max_new_tokens=64 temperature=0` (greedy)",
                  "Prompt template for doc_class receipt (prompt collection)", "Executor: docker",
                  "Host: `bench-01`"):
        assert shown in markdown, shown


def test_what_an_older_run_json_lacks_is_said_to_be_not_recorded(record):
    markdown, _ = render_provenance(record)
    old = markdown.split("### tesseract-eng · words (`0f0f0f0f0f0f`)")[1]
    for said in ("Worker environment: not recorded", "Prompt: not recorded", "Generation: not recorded",
                 "Image: none: the worker ran without a container", "(its fingerprints: not recorded)",
                 "Samples: all 12", "Weights: none named in the catalog"):
        assert said in old, said
    assert "vlmbench.models" not in old and "Model class: `tesseract`" in old
    assert "Weights loaded" not in old  # nothing to load, so nothing missing
    record.jobs[0].weights = None  # named weights the worker did not report
    assert "Weights loaded: not recorded" in render_provenance(record)[0]


class _Collector(HTMLParser):
    """The text of each <pre>, and whether every tag that opens closes."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.pres: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.open.append(tag)
        if tag == "pre":
            self.pres.append("")

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "pre":
            self.pres[-1] += data


def test_the_html_escapes_and_shows_the_same(record):
    _, html = render_provenance(record)
    parser = _Collector()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    assert TEMPLATE in parser.pres and SYSTEM in parser.pres  # read back exactly, escaping undone
    assert "<b>now</b>" not in html and html_lib.escape("<b>now</b>", quote=False) in html
    for shown in (HASH, DIGEST, "895c3a49", "2 × NVIDIA H200", "2.8.0+cu128", "fp1234", "not recorded"):
        assert shown in html, shown


def test_render_report_adds_the_section_only_with_the_record(record):
    markdown, html = render_report([], [], title="t", record=record)
    assert markdown.count("## Provenance") == 1 and html.count('id="provenance"') == 1
    assert html.index('id="provenance"') < html.rindex("<footer") and html.index('id="jobs"') < html.index('id="provenance"')
    assert markdown.rstrip().endswith(render_provenance(record)[0].rstrip()) and '<a href="#provenance">' in html
    plain_md, plain_html = render_report([], [], title="t")
    assert "Provenance" not in plain_md and 'id="provenance"' not in plain_html
