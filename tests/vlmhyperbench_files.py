"""VLMHyperBench's files, written byte for byte in their formats, for tests.

Each writer says which VLMHyperBenchTeam repository and file (and commit,
where the format changed) it copies the format of. All of their CSVs are
``;``-separated UTF-8 with a BOM (pandas ``to_csv(..., encoding="utf-8-sig")``
or Excel), most with CRLF line ends and no line end after the last row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image

BOM = "\ufeff"
CRLF = "\r\n"

# The run config (user_config*.csv) in each version VLMHyperBench has had.
RUN_CONFIG_HEADERS: dict[str, tuple[str, ...]] = {
    # VLMHyperBench user_config.csv at ff6bcc5 (2025-01-17): model_family and docker_image in the run config.
    "2025-01-17": ("dataset", "framework", "model_family", "model_name", "docker_image",
                   "system_prompt", "prompt_collection", "metrics", "only_evaluate_metrics",
                   "metrics_aggregators", "filter_doc_class", "filter_question_type"),
    # VLMHyperBench user_config.csv at 6040ef2 (2025-01-18), benchmark_scheduler data/user_config.csv:
    # model_family moved to vlm_base.csv.
    "2025-01-18": ("dataset", "framework", "model_name", "docker_image", "system_prompt", "prompt_collection",
                   "metrics", "only_evaluate_metrics", "metrics_aggregators", "filter_doc_class",
                   "filter_question_type"),
    # VLMHyperBench user_config.csv at ceafb4f (2025-03-21) to user_config_model_eval.csv today: a task
    # column (the Datasets/ and PromptCollections/ subfolder), docker_image only in vlm_base.csv.
    "2025-03-21": ("dataset", "task", "framework", "model_name", "system_prompt", "prompt_collection",
                   "metrics", "only_evaluate_metrics", "metrics_aggregators", "filter_doc_class",
                   "filter_question_type"),
}


def list_cell(values: Sequence[str], quoting: str = "single") -> str:
    """A list cell as they wrote it: ``['CER']`` (Python repr, user_config_model_eval.csv since f8ed208) or
    ``"[""by_id"", ""general""]"`` (a JSON list in CSV quotes, user_config.csv at ceafb4f and 0dd41aa)."""
    if quoting == "single":
        return "[" + ", ".join(f"'{v}'" for v in values) + "]"
    return '"[' + ", ".join(f'""{v}""' for v in values) + ']"'


def write_run_config(path: Path, version: str, rows: Sequence[Mapping[str, str]], *, line_end: str = CRLF,
                     final_line_end: bool = False) -> Path:
    """A run config of ``version`` (see RUN_CONFIG_HEADERS); a cell not given is empty, as theirs are.

    CRLF with no line end after the last row, as user_config_model_eval.csv; notebooks/user_config_2.csv
    has LF line ends (``line_end="\\n"``, ``final_line_end=True``).
    """
    header = RUN_CONFIG_HEADERS[version]
    lines = [";".join(header)] + [";".join(row.get(column, "") for column in header) for row in rows]
    path.write_bytes((BOM + line_end.join(lines) + (line_end if final_line_end else "")).encode("utf-8"))
    return path


def image(path: Path, shade: int = 200) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 16), (shade, shade, shade)).save(path)


# One passport image asked several questions, one invoice asked two: the shape of
# VLMHyperBench vlmhyperbench/data_dirs/Datasets/VQA/demo_mini/annotation.csv.
DEMO_ROWS: tuple[tuple[str, ...], ...] = (
    ("1", "test_clean", "images/1.jpg", "Напиши Серия и номер паспорта", "4 505 679 944", "passport",
     "Серия и номер паспорта", "[1420, 280, 1470, 750]"),
    ("1", "test_clean", "images/1.jpg", "Напиши Фамилия", "Карбаинов", "passport", "Фамилия",
     "[780, 110, 1060, 170]"),
    ("1", "test_clean", "images/1.jpg", "Напиши Имя", "Алексей", "passport", "Имя", "[800, 270, 1010, 330]"),
    ("2", "test_clean", "images/2.jpg", "Напиши Фамилия", "Беленкова", "passport", "Фамилия",
     "[780, 110, 1060, 170]"),
    ("2", "test_clean", "images/2.jpg", "Напиши Имя", "Христина", "passport", "Имя", "[780, 270, 1040, 330]"),
    ("3", "test_clean", "images/3.png", "Напиши Номер счет-фактуры", "44", "invoice", "Номер счет-фактуры",
     "[1200, 360, 1250, 400]"),
    ("3", "test_clean", "images/3.png", "Напиши кто Продавец", "Татэнерго", "invoice", "Продавец",
     "[700, 470, 1150, 520]"),
)
ANNOTATION_HEADER = ("data_index", "split", "image_path", "question", "answer", "doc_class", "question_type",
                     "answer_bbox")


def write_dataset(folder: Path, rows: Sequence[Sequence[str]] = DEMO_ROWS) -> Path:
    """A dataset folder as VLMHyperBench's demo_mini: BOM, ``;``, CRLF after every row, images beside."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [";".join(ANNOTATION_HEADER)] + [";".join(row) for row in rows]
    (folder / "annotation.csv").write_bytes((BOM + CRLF.join(lines) + CRLF).encode("utf-8"))
    for shade, relative in enumerate(sorted({row[2] for row in rows})):
        image(folder / relative, 100 + 40 * shade)
    return folder


def write_prompt_collection(path: Path, prompts: Mapping[str, str]) -> Path:
    """A prompt collection as VLMHyperBench data_dirs/PromptCollections/VQA/demo_mini/JuliaJu_*.csv (read by
    prompt_adapter's PromptAdapter): ``prompt;doc_class_question_type;cer``, the key being
    ``f"{doc_class} {question_type}"``, BOM, CRLF, no line end after the last row."""
    lines = ["prompt;doc_class_question_type;cer"]
    lines += [f"{prompt};{key};0.0" for key, prompt in prompts.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((BOM + CRLF.join(lines)).encode("utf-8"))
    return path


def write_data_root(root: Path, task: str = "VQA") -> Path:
    """The folder layout of VLMHyperBench's VLMHyperBench_config.json ``data_dirs`` (vlmhyperbench/data_dirs):
    Datasets/<task>/<dataset>/, PromptCollections/<task>/<file>, SystemPrompts/<file>."""
    write_dataset(root / "Datasets" / task / "demo_mini")
    write_prompt_collection(root / "PromptCollections" / task / "demo_mini" / "JuliaJu_demo_mini.csv", {
        "passport Серия и номер паспорта": "Запиши серию и номер паспорта. Пример: 4369 975136.",
        "passport Фамилия": "Напиши Фамилия. Пример: Куликов.",
        "passport Имя": "Напиши Имя. Пример: Арсен.",
        "invoice Номер счет-фактуры": "Напиши Номер счет-фактуры. Укажи только цифру. Пример: 632.",
        "invoice Продавец": "Напиши кто Продавец. Укажи только название. Пример: ПАО «Лимончик»",
    })
    # Read by system_prompt_adapter's SystemPromptAdapter: a UTF-8 text file.
    (root / "SystemPrompts").mkdir(parents=True, exist_ok=True)
    (root / "SystemPrompts" / "1.txt").write_text("Ты — эксперт по документам.\n", encoding="utf-8")
    return root


def write_vlm_base(path: Path, rows: Sequence[tuple[str, str, str, str]]) -> Path:
    """A catalog as VLMHyperBench vlmhyperbench/vlm_base.csv: BOM, ``;``, CRLF, framework "Hugging Face".

    Rows are (framework, model_family, model_name, class_name); the class is a vlmbench registered name
    (the echo test model), so python_package, module and git_python_package stay empty.
    """
    header = ("framework;model_family;model_name;docker_image;git_python_package;python_package;module;"
              "class_name")
    lines = [header] + [f"{fw};{family};{name};;;;;{cls}" for fw, family, name, cls in rows]
    path.write_bytes((BOM + CRLF.join(lines) + CRLF).encode("utf-8"))
    return path
