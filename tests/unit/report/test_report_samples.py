"""The sample browser: which samples it picks, and that a large run keeps the report small."""

import base64
import io
import re

import pytest
from PIL import Image

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import score_job
from vlmbench.report import render_report, summarize_job
from vlmbench.report.samples import (
    MAX_PER_DATASET,
    MOST_DISAGREEMENT,
    THUMBNAIL_PX,
    WORST_PER_MODEL,
    JobSamples,
    most_disagreement,
    rate,
    sample_browsers,
    worst_samples,
)
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobMetrics, JobStatus, Prediction, SampleScore


def score(sample_id, value, answer="x", error=None, metric="anls"):
    return SampleScore(id=sample_id, reference="r", answer=None if error else answer, error=error,
                       scores={metric: None if error else value})


def ratings(scores, metric="anls", higher=True):
    """The scores as the browser rates them, positions in the order given; and the ids at those positions."""
    ids = [s.id for s in scores]
    return rate(scores, {sample_id: i for i, sample_id in enumerate(ids)}, metric, higher), ids


def test_worst_samples_lowest_first_and_never_the_best():
    rated, ids = ratings([score("a", 1.0), score("b", 0.2), score("c", 0.5), score("d", 1.0),
                          score("e", 0.0, error="boom")])
    assert [ids[i] for i in worst_samples(rated, 2)] == ["b", "c"]
    assert [ids[i] for i in worst_samples(rated, 10)] == ["b", "c"]  # the failed one is not scored; 1.0 is the best
    cer, cer_ids = ratings([score("a", 0.0, metric="cer"), score("b", 0.7, metric="cer"),
                            score("c", 0.1, metric="cer")], "cer", higher=False)
    assert [cer_ids[i] for i in worst_samples(cer, 5)] == ["b", "c"]  # lower is better: the largest CER first
    assert worst_samples(ratings([score("a", 1.0), score("b", 1.0)])[0], 5) == []
    tied, tied_ids = ratings([score("z", 0.5), score("a", 0.5), score("m", 1.0)])
    assert [tied_ids[i] for i in worst_samples(tied, 5)] == ["z", "a"]  # ties in dataset order


def test_most_disagreement_largest_spread_first():
    one, ids = ratings([score("a", 1.0, "yes"), score("b", 1.0, "no"), score("c", 0.5, "two")])
    two, _ = ratings([score("a", 0.0, "no"), score("b", 1.0, "no"), score("c", 0.25, "three")])
    assert [ids[i] for i in most_disagreement([one, two], 5)] == ["a", "c"]  # b: both right, no disagreement
    assert most_disagreement([one], 5) == []  # one model disagrees with nobody


def test_equal_spreads_go_to_more_distinct_answers_and_a_failed_model_is_not_an_answer():
    first, ids = ratings([score("p", 1.0, "x"), score("q", 1.0, "x"), score("r", 1.0, "x")])
    second, _ = ratings([score("p", 0.0, "x"), score("q", 0.0, "y"), score("r", 0.0, "y")])
    third, _ = ratings([score("p", 0.0, "x"), score("q", 0.0, "z"), score("r", 0.0, error="boom")])
    # p: one distinct answer, q: three, r: two (the failed third model gave none).
    assert [ids[i] for i in most_disagreement([first, second, third], 5)] == ["q", "r", "p"]


def make_run(tmp_path, n_samples, skills, image_px=(640, 480)):
    """A dataset folder with real PNGs and per model a scored job folder, as `vlmbench evaluate` leaves them."""
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    colours = [(200, 40, 40), (40, 160, 60), (40, 60, 200)]
    for i in range(3):  # three images shared by every sample: the test is about the report, not the disk
        Image.new("RGB", image_px, colours[i]).save(root / "images" / f"{i}.png")
    samples = [Sample(id=f"s{i}", question=f"What is shown in picture {i}?", answer=["red", "green", "blue"][i % 3],
                      images=[f"images/{i % 3}.png"], doc_class=["photo", "scan"][i % 2],
                      question_type=["color", "shape", "count"][i % 3],
                      metadata={"data_index": str(i), "source": ["web", "camera"][i % 2]})
               for i in range(n_samples)]
    results, jobs, browsed = [], [], []
    for m, skill in enumerate(skills):
        job_id = f"job{m}"
        predictions = [Prediction(id=s.id, prompt="p", latency_s=0.01 * (m + 1),
                                  answer=s.answer if (i * 7 + m * 13) % 100 < skill * 100 else "purple " * 80)
                       for i, s in enumerate(samples)]
        scores = score_job(samples, predictions, ["anls"], ["general", "by_doc_type"], job_id=job_id,
                           model_name=f"model-{m}", framework="f", dataset="colours", task=None)
        files = JobDir(tmp_path / "jobs" / job_id)
        files.path.mkdir(parents=True)
        files.write_scores(scores.jsonl(), JobMetrics(inputs="i", references_fingerprint="r", rows=scores.rows))
        results += scores.rows
        jobs.append(summarize_job(job_id, f"model-{m}", "f", "colours", None,
                                  JobStatus(state="done", wall_s=n_samples * 0.01 * (m + 1)), predictions))
        browsed.append(JobSamples(job_id=job_id, dataset="colours", root=root, samples=samples, files=files))
    return results, jobs, browsed


def test_a_large_run_keeps_the_report_small(tmp_path):
    results, jobs, browsed = make_run(tmp_path, 20_000, [0.9, 0.6, 0.75, 0.3, 0.95])
    markdown, html = render_report(results, jobs, "big", samples=browsed, gpu_price=2.0)
    rows = re.findall(r'<tr class="sample"', html)
    assert 0 < len(rows) <= MAX_PER_DATASET
    assert len(html.encode("utf-8")) < 1_000_000, len(html)  # 20,000 samples × 5 models, under a megabyte
    thumbnails = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(thumbnails) == len(rows)
    with Image.open(io.BytesIO(base64.b64decode(thumbnails[0]))) as image:
        assert image.format == "JPEG" and max(image.size) == THUMBNAIL_PX
    assert "…" in html  # the 560-character wrong answers are cut
    assert "Quality against cost" in markdown and "◆" in markdown


def test_browser_rows_and_filters(tmp_path):
    results, _, browsed = make_run(tmp_path, 60, [1.0, 0.5])
    labels = {"job0": "model-0", "job1": "model-1"}
    [browser] = sample_browsers(browsed, results, labels)
    assert browser["models"] == ["model-0", "model-1"] and browser["metric"] == "anls"
    # model-0 answered everything right: it has no worst samples; what model-1 got wrong is disagreement.
    picks = [row["picks"].split() for row in browser["rows"]]
    assert picks and all("worst-0" not in p for p in picks)
    assert all("disagree" in p or "worst-1" in p for p in picks)
    assert sum("disagree" in p for p in picks) == MOST_DISAGREEMENT
    assert sum("worst-1" in p for p in picks) == WORST_PER_MODEL
    for row in browser["rows"]:
        assert [a["css"] for a in row["answers"]] == ["good", "bad"]
    offered = {f["column"]: f["options"] for f in browser["filters"]}
    # doc_class, question_type and the annotation column "source"; data_index (one per sample) is no filter.
    assert offered == {"doc_class": ["photo", "scan"], "question_type": ["color", "count", "shape"],
                       "source": ["camera", "web"]}


@pytest.mark.parametrize("skills", [[1.0, 1.0]])
def test_no_browser_when_nothing_is_worth_a_look(tmp_path, skills):
    results, jobs, browsed = make_run(tmp_path, 10, skills)
    assert sample_browsers(browsed, results, {}) == []
    html = render_report(results, jobs, "perfect", samples=browsed)[1]
    assert 'id="samples"' not in html
