import pytest

from tests.conftest import make_text_dataset
from vlmbench.errors import ModelLoadError
from vlmbench.models.base import Request
from vlmbench.registry import resolve_model_class


def test_majority_answers_the_commonest_answer(tmp_path):
    dataset = make_text_dataset(tmp_path / "d", ["yes", "no", "yes", "blue", "yes"])
    model = resolve_model_class("majority")(weights=str(dataset))
    assert model.generate([Request(prompt="anything?"), Request(prompt="else?")]) == ["yes", "yes"]
    assert model.share == pytest.approx(3 / 5)


def test_majority_needs_answers(tmp_path):
    dataset = make_text_dataset(tmp_path / "d", ["a"])
    with pytest.raises(ModelLoadError, match="no answers in split 'train'"):
        resolve_model_class("majority")(weights=str(dataset), split="train")
    with pytest.raises(ModelLoadError, match="reference dataset"):
        resolve_model_class("majority")()


def test_majority_of_easy_vqa_train_is_a_real_floor():
    model = resolve_model_class("majority")(weights="easy-vqa-train")
    assert model.answer in {"yes", "no"}
    assert 0.2 < model.share < 0.6
