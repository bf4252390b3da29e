"""Prompt collections and system prompts read from files, VLMHyperBench's formats included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vlmhyperbench_files import write_data_root, write_dataset, write_prompt_collection
from vlmbench.datasets import load_dataset
from vlmbench.errors import ConfigError
from vlmbench.prompt_files import find_prompt_collection, read_prompt_collection, read_system_prompt
from vlmbench.rundir.records import PromptSpec


def test_their_collection_replaces_the_question_by_doc_class_and_question_type(tmp_path: Path) -> None:
    root = write_data_root(tmp_path / "data_dirs")
    samples = load_dataset(root / "Datasets" / "VQA" / "demo_mini").samples
    collection = find_prompt_collection("demo_mini/JuliaJu_demo_mini.csv", tmp_path, root, "VQA")
    spec = PromptSpec(rules=collection.rules_for(samples))
    sent = {s.id: spec.render(s.question, s.doc_class, s.question_type) for s in samples}
    assert sent["1:Фамилия"] == sent["2:Фамилия"] == "Напиши Фамилия. Пример: Куликов."
    assert sent["3:Продавец"] == "Напиши кто Продавец. Укажи только название. Пример: ПАО «Лимончик»"
    assert all("Напиши Фамилия" != prompt for prompt in sent.values())


def test_a_key_the_collection_lacks_is_one_line_naming_the_file_and_close_keys(tmp_path: Path) -> None:
    samples = load_dataset(write_dataset(tmp_path / "demo_mini")).samples
    path = write_prompt_collection(tmp_path / "p.csv", {"passport Фамилия": "A", "passport Имя": "B",
                                                         "invoice Номер счет-фактуры": "C"})
    with pytest.raises(ConfigError) as caught:
        read_prompt_collection(path).rules_for(samples)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2  # 'passport Серия и номер паспорта' and 'invoice Продавец'
    assert lines[0].startswith(f"{path}, column 'doc_class_question_type': no prompt for "
                               "'passport Серия и номер паспорта', which 1 selected sample(s) need")
    # Only the samples a run selects need a prompt, as VLMHyperBench filters before it prompts.
    chosen = [s for s in samples if s.question_type in ("Фамилия", "Имя")]
    assert len(read_prompt_collection(path).rules_for(chosen)) == 2


def test_their_first_row_of_a_repeated_key_wins_and_an_empty_prompt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("prompt;doc_class_question_type\nfirst;a b\nsecond;a b\n", encoding="utf-8")
    assert read_prompt_collection(path).by_key == {"a b": "first"}
    path.write_text("prompt;doc_class_question_type\nfirst;a b\n;a c\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p.csv, row 2, column 'prompt': empty prompt"):
        read_prompt_collection(path)


def test_a_missing_collection_says_where_it_looked_and_suggests(tmp_path: Path) -> None:
    root = write_data_root(tmp_path / "data_dirs")
    with pytest.raises(ConfigError) as caught:
        find_prompt_collection("demo_mini/JuliaJu_demo_mni.csv", tmp_path, root, "VQA")
    text = str(caught.value)
    assert "prompt collection not found: demo_mini/JuliaJu_demo_mni.csv" in text
    assert str(root / "PromptCollections" / "VQA" / "demo_mini" / "JuliaJu_demo_mni.csv") in text
    assert "did you mean demo_mini/JuliaJu_demo_mini.csv?" in text
    with pytest.raises(ConfigError, match=r"--data-root or \$VLMBENCH_DATA_ROOT"):
        find_prompt_collection("demo_mini/JuliaJu_demo_mini.csv", tmp_path, None, "VQA")


def test_the_older_layout_without_task_folders_is_found(tmp_path: Path) -> None:
    # benchmark_scheduler's vlmhyperbench/PromptCollection/<file> (bench_cfg_gen.py, January 2025).
    old_root = tmp_path / "vlmhyperbench"
    write_prompt_collection(old_root / "PromptCollection" / "AntonShiryaev.csv", {"a b": "P"})
    found = find_prompt_collection("AntonShiryaev.csv", tmp_path, old_root, None)
    assert found.by_key == {"a b": "P"}


def test_a_system_prompt_file_is_read_whole_a_plain_cell_is_the_prompt(tmp_path: Path) -> None:
    root = write_data_root(tmp_path / "data_dirs")
    assert read_system_prompt("1.txt", tmp_path, root, "VQA") == "Ты — эксперт по документам."
    (tmp_path / "my prompts").mkdir()
    (tmp_path / "my prompts" / "two.TXT").write_bytes("\ufeffLine one.\r\nLine two.\r\n".encode())
    assert read_system_prompt("my prompts/two.TXT", tmp_path, None, None) == "Line one.\nLine two."
    assert read_system_prompt("You are an OCR engine.", tmp_path, root, None) == "You are an OCR engine."
    assert read_system_prompt(None, tmp_path, root, None) is None


def test_a_missing_or_empty_system_prompt_file_is_one_line(tmp_path: Path) -> None:
    root = write_data_root(tmp_path / "data_dirs")
    with pytest.raises(ConfigError) as caught:
        read_system_prompt("2.txt", tmp_path, root, "VQA")
    text = str(caught.value)
    assert "system prompt file not found: 2.txt" in text and "did you mean 1.txt?" in text
    (root / "SystemPrompts" / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"empty.txt: the system prompt file is empty"):
        read_system_prompt("empty.txt", tmp_path, root, "VQA")
