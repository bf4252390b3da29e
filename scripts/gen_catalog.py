"""Writes vlmbench/data/models.csv from the table below (kept here so rows stay uniform).

    python scripts/gen_catalog.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

CPU = "vlmbench/cpu:0.1.0"
HF_GPU = "vlmbench/transformers-gpu:0.1.0"
VLLM = "vlmbench/vllm:0.1.0"
VLLM_CPU = "vlmbench/vllm-cpu:0.1.0"

ADAPTERS = {  # framework -> (python_package, module, class_name, image)
    "tesseract": ("vlmbench", "models.tesseract", "TesseractOCR", CPU),
    "hf": ("vlmbench", "models.hf.adapter", "HFVisionModel", HF_GPU),
    "vllm": ("vlmbench", "models.vllm_engine", "VLLMModel", VLLM),
    "vllm-server": ("vlmbench", "models.vllm_engine", "VLLMServerModel", VLLM),
    "openai": ("vlmbench", "models.openai_api", "OpenAICompatibleModel", CPU),
    "baseline": ("vlmbench", "models.baselines", "MajorityAnswer", CPU),
}

# Models small enough for a CPU image rather than their framework's GPU one, and that image per framework.
CPU_MODELS = {"easyvqa-tiny"}
CPU_IMAGES = {"hf": CPU, "vllm": VLLM_CPU, "vllm-server": VLLM_CPU}
# vLLM on CPU as the transformers adapter runs the same weights: float32, no torch.compile (minutes on CPU).
VLLM_ON_CPU = {"dtype": "float32", "enforce_eager": True, "max_model_len": 256}

QWEN_PIXELS = {"min_pixels": 256 * 28 * 28, "max_pixels": 1280 * 28 * 28}
BF16 = {"dtype": "bfloat16"}
REMOTE = {"dtype": "bfloat16", "trust_remote_code": True}
# Remote-code families the generic transformers path cannot drive run on vLLM, which implements them.
VLLM_REMOTE = {"trust_remote_code": True, "max_model_len": 8192}

# (framework, family, model_name, weights, gpu_memory_gb, params, tasks)
MODELS: list[tuple[str, str, str, str, float, dict, str]] = [
    ("tesseract", "Tesseract", "tesseract-rus-eng", "", 0, {"lang": "rus+eng", "psm": "block"}, "ocr"),
    ("tesseract", "Tesseract", "tesseract-eng", "", 0, {"lang": "eng", "psm": "block"}, "ocr"),
    ("tesseract", "Tesseract", "tesseract-rus", "", 0, {"lang": "rus", "psm": "block"}, "ocr"),
    ("baseline", "Baseline", "majority-easy-vqa", "easy-vqa-train", 0, {}, "vqa"),
    # Trained by scripts/train_easyvqa_model.py and shipped in the package: answers for real, on a CPU.
    ("hf", "LLaVA (easy-VQA)", "easyvqa-tiny", "vlmbench:models/easyvqa-tiny", 0,
     {"dtype": "float32", "device": "cpu", "max_batch_size": 64}, "vqa"),
    ("vllm", "LLaVA (easy-VQA)", "easyvqa-tiny", "vlmbench:models/easyvqa-tiny", 0, VLLM_ON_CPU, "vqa"),
    ("vllm-server", "LLaVA (easy-VQA)", "easyvqa-tiny", "vlmbench:models/easyvqa-tiny", 0, VLLM_ON_CPU, "vqa"),
    # Qwen-VL
    ("hf", "Qwen2-VL", "Qwen2-VL-2B-Instruct", "Qwen/Qwen2-VL-2B-Instruct", 8, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen2-VL", "Qwen2-VL-7B-Instruct", "Qwen/Qwen2-VL-7B-Instruct", 20, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen2-VL", "Qwen2-VL-72B-Instruct", "Qwen/Qwen2-VL-72B-Instruct", 160, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen2.5-VL", "Qwen2.5-VL-3B-Instruct", "Qwen/Qwen2.5-VL-3B-Instruct", 10, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen2.5-VL", "Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct", 20, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen2.5-VL", "Qwen2.5-VL-32B-Instruct", "Qwen/Qwen2.5-VL-32B-Instruct", 72, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen2.5-VL", "Qwen2.5-VL-72B-Instruct", "Qwen/Qwen2.5-VL-72B-Instruct", 160, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen3-VL", "Qwen3-VL-2B-Instruct", "Qwen/Qwen3-VL-2B-Instruct", 8, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen3-VL", "Qwen3-VL-4B-Instruct", "Qwen/Qwen3-VL-4B-Instruct", 12, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen3-VL", "Qwen3-VL-8B-Instruct", "Qwen/Qwen3-VL-8B-Instruct", 22, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("hf", "Qwen3-VL", "Qwen3-VL-30B-A3B-Instruct", "Qwen/Qwen3-VL-30B-A3B-Instruct", 70, {**BF16, **QWEN_PIXELS}, "vqa|ocr|doc"),
    ("vllm", "Qwen2-VL", "Qwen2-VL-7B-Instruct", "Qwen/Qwen2-VL-7B-Instruct", 24, {"max_model_len": 16384, "limit_mm_per_prompt": {"image": 4}}, "vqa|ocr|doc"),
    ("vllm", "Qwen2.5-VL", "Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct", 24, {"max_model_len": 16384, "limit_mm_per_prompt": {"image": 4}}, "vqa|ocr|doc"),
    ("vllm", "Qwen2.5-VL", "Qwen2.5-VL-72B-Instruct", "Qwen/Qwen2.5-VL-72B-Instruct", 160, {"max_model_len": 16384, "tensor_parallel_size": 4}, "vqa|ocr|doc"),
    ("vllm-server", "Qwen2.5-VL", "Qwen2.5-VL-3B-Instruct", "Qwen/Qwen2.5-VL-3B-Instruct", 12, {"max_model_len": 16384}, "vqa|ocr|doc"),
    ("vllm", "Qwen3-VL", "Qwen3-VL-8B-Instruct", "Qwen/Qwen3-VL-8B-Instruct", 26, {"max_model_len": 16384}, "vqa|ocr|doc"),
    # InternVL
    ("vllm", "InternVL2", "InternVL2-2B", "OpenGVLab/InternVL2-2B", 10, VLLM_REMOTE, "vqa|ocr|doc"),
    ("vllm", "InternVL2", "InternVL2-8B", "OpenGVLab/InternVL2-8B", 24, VLLM_REMOTE, "vqa|ocr|doc"),
    ("vllm", "InternVL2.5", "InternVL2_5-4B", "OpenGVLab/InternVL2_5-4B", 14, VLLM_REMOTE, "vqa|ocr|doc"),
    ("vllm", "InternVL2.5", "InternVL2_5-8B", "OpenGVLab/InternVL2_5-8B", 24, VLLM_REMOTE, "vqa|ocr|doc"),
    ("vllm", "InternVL2.5", "InternVL2_5-26B", "OpenGVLab/InternVL2_5-26B", 64, VLLM_REMOTE, "vqa|ocr|doc"),
    ("hf", "InternVL3", "InternVL3-1B", "OpenGVLab/InternVL3-1B-hf", 6, BF16, "vqa|ocr|doc"),
    ("hf", "InternVL3", "InternVL3-2B", "OpenGVLab/InternVL3-2B-hf", 8, BF16, "vqa|ocr|doc"),
    ("hf", "InternVL3", "InternVL3-8B", "OpenGVLab/InternVL3-8B-hf", 20, BF16, "vqa|ocr|doc"),
    ("hf", "InternVL3", "InternVL3-14B", "OpenGVLab/InternVL3-14B-hf", 34, BF16, "vqa|ocr|doc"),
    # The transformers-native repo: vLLM runs it with its own code (no trust_remote_code), as the -hf hf rows.
    ("vllm", "InternVL3", "InternVL3-8B", "OpenGVLab/InternVL3-8B-hf", 24, {"max_model_len": 16384}, "vqa|ocr|doc"),
    # MiniCPM-V
    ("vllm", "MiniCPM-V", "MiniCPM-Llama3-V-2_5", "openbmb/MiniCPM-Llama3-V-2_5", 24, VLLM_REMOTE, "vqa|ocr|doc"),
    ("hf", "MiniCPM-V", "MiniCPM-V-2_6", "openbmb/MiniCPM-V-2_6", 20, REMOTE, "vqa|ocr|doc"),
    ("hf", "MiniCPM-V", "MiniCPM-o-2_6", "openbmb/MiniCPM-o-2_6", 22, REMOTE, "vqa|ocr|doc"),
    ("vllm", "MiniCPM-V", "MiniCPM-V-2_6", "openbmb/MiniCPM-V-2_6", 24, {"trust_remote_code": True, "max_model_len": 8192}, "vqa|ocr|doc"),
    # LLaVA
    ("hf", "LLaVA-1.5", "llava-1.5-7b", "llava-hf/llava-1.5-7b-hf", 16, {"dtype": "float16"}, "vqa"),
    ("hf", "LLaVA-1.5", "llava-1.5-13b", "llava-hf/llava-1.5-13b-hf", 30, {"dtype": "float16"}, "vqa"),
    ("hf", "LLaVA-NeXT", "llava-v1.6-mistral-7b", "llava-hf/llava-v1.6-mistral-7b-hf", 18, {"dtype": "float16"}, "vqa|doc"),
    ("hf", "LLaVA-NeXT", "llava-v1.6-vicuna-7b", "llava-hf/llava-v1.6-vicuna-7b-hf", 18, {"dtype": "float16"}, "vqa|doc"),
    ("hf", "LLaVA-OneVision", "llava-onevision-qwen2-0.5b-ov", "llava-hf/llava-onevision-qwen2-0.5b-ov-hf", 4, {"dtype": "float16"}, "vqa|doc"),
    ("hf", "LLaVA-OneVision", "llava-onevision-qwen2-7b-ov", "llava-hf/llava-onevision-qwen2-7b-ov-hf", 20, {"dtype": "float16"}, "vqa|doc"),
    # Idefics3 / SmolVLM
    ("hf", "Idefics3", "Idefics3-8B-Llama3", "HuggingFaceM4/Idefics3-8B-Llama3", 20, BF16, "vqa|doc"),
    ("hf", "SmolVLM", "SmolVLM-256M-Instruct", "HuggingFaceTB/SmolVLM-256M-Instruct", 2, BF16, "vqa|doc"),
    ("hf", "SmolVLM", "SmolVLM-500M-Instruct", "HuggingFaceTB/SmolVLM-500M-Instruct", 3, BF16, "vqa|doc"),
    ("hf", "SmolVLM", "SmolVLM-Instruct", "HuggingFaceTB/SmolVLM-Instruct", 8, BF16, "vqa|doc"),
    ("hf", "SmolVLM", "SmolVLM2-2.2B-Instruct", "HuggingFaceTB/SmolVLM2-2.2B-Instruct", 8, BF16, "vqa|doc"),
    # PaliGemma 2, Gemma 3
    ("hf", "PaliGemma2", "paligemma2-3b-mix-448", "google/paligemma2-3b-mix-448", 10, BF16, "vqa|ocr"),
    ("hf", "PaliGemma2", "paligemma2-10b-mix-448", "google/paligemma2-10b-mix-448", 26, BF16, "vqa|ocr"),
    ("hf", "Gemma3", "gemma-3-4b-it", "google/gemma-3-4b-it", 12, BF16, "vqa|ocr|doc"),
    ("hf", "Gemma3", "gemma-3-12b-it", "google/gemma-3-12b-it", 30, BF16, "vqa|ocr|doc"),
    ("hf", "Gemma3", "gemma-3-27b-it", "google/gemma-3-27b-it", 62, BF16, "vqa|ocr|doc"),
    ("vllm", "Gemma3", "gemma-3-12b-it", "google/gemma-3-12b-it", 32, {"max_model_len": 8192}, "vqa|ocr|doc"),
    # Phi
        ("vllm", "Phi-4-multimodal", "Phi-4-multimodal-instruct", "microsoft/Phi-4-multimodal-instruct", 20, VLLM_REMOTE, "vqa|doc"),
    ("vllm", "Phi-3.5-vision", "Phi-3.5-vision-instruct", "microsoft/Phi-3.5-vision-instruct", 14, {"trust_remote_code": True, "max_model_len": 8192}, "vqa|doc"),
    # Llama 3.2 Vision
    ("hf", "Llama-3.2-Vision", "Llama-3.2-11B-Vision-Instruct", "meta-llama/Llama-3.2-11B-Vision-Instruct", 26, BF16, "vqa|doc"),
    ("hf", "Llama-3.2-Vision", "Llama-3.2-90B-Vision-Instruct", "meta-llama/Llama-3.2-90B-Vision-Instruct", 190, BF16, "vqa|doc"),
    # No vllm row: vLLM dropped Mllama after 0.10.2 and images/vllm.lock pins 0.32.
    # Mistral family
    ("hf", "Pixtral", "pixtral-12b", "mistral-community/pixtral-12b", 28, BF16, "vqa|doc"),
    ("vllm", "Pixtral", "Pixtral-12B-2409", "mistralai/Pixtral-12B-2409", 32, {"tokenizer_mode": "mistral", "max_model_len": 16384}, "vqa|doc"),
    ("hf", "Mistral-Small-3.1", "Mistral-Small-3.1-24B-Instruct-2503", "mistralai/Mistral-Small-3.1-24B-Instruct-2503", 56, BF16, "vqa|doc"),
    # Molmo, DeepSeek-VL2, Aya Vision, Kimi-VL, Ovis2
    ("vllm", "Molmo", "Molmo-7B-D-0924", "allenai/Molmo-7B-D-0924", 24, VLLM_REMOTE, "vqa"),
    ("vllm", "Molmo", "MolmoE-1B-0924", "allenai/MolmoE-1B-0924", 16, VLLM_REMOTE, "vqa"),
    ("vllm", "DeepSeek-VL2", "deepseek-vl2-tiny", "deepseek-ai/deepseek-vl2-tiny", 10, {"hf_overrides": {"architectures": ["DeepseekVLV2ForCausalLM"]}, "max_model_len": 4096}, "vqa|ocr|doc"),
    ("vllm", "DeepSeek-VL2", "deepseek-vl2-small", "deepseek-ai/deepseek-vl2-small", 40, {"hf_overrides": {"architectures": ["DeepseekVLV2ForCausalLM"]}, "max_model_len": 4096}, "vqa|ocr|doc"),
    ("hf", "Aya-Vision", "aya-vision-8b", "CohereLabs/aya-vision-8b", 20, BF16, "vqa|doc"),
    ("vllm", "Kimi-VL", "Kimi-VL-A3B-Instruct", "moonshotai/Kimi-VL-A3B-Instruct", 40, VLLM_REMOTE, "vqa|ocr|doc"),
    ("vllm", "Ovis2", "Ovis2-8B", "AIDC-AI/Ovis2-8B", 24, VLLM_REMOTE, "vqa|ocr|doc"),
    # OCR specialists
    ("hf", "Florence-2", "Florence-2-base", "florence-community/Florence-2-base", 2, {"dtype": "float32", "task_prompt": "<OCR>"}, "ocr"),
    ("hf", "Florence-2", "Florence-2-large", "florence-community/Florence-2-large", 4, {"dtype": "float32", "task_prompt": "<OCR>"}, "ocr"),
    ("hf", "GOT-OCR2", "GOT-OCR-2.0", "stepfun-ai/GOT-OCR-2.0-hf", 4, {"dtype": "bfloat16", "task_prompt": "ocr"}, "ocr"),
]


def main() -> None:
    target = Path(__file__).resolve().parent.parent / "vlmbench" / "data" / "models.csv"
    columns = ["framework", "model_family", "model_name", "docker_image", "python_package", "module", "class_name",
               "weights", "git_python_package", "gpu_memory_gb", "params", "tasks"]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for framework, family, name, weights, memory, params, tasks in MODELS:
            package, module, class_name, image = ADAPTERS[framework]
            image = CPU_IMAGES[framework] if name in CPU_MODELS else image
            writer.writerow([framework, family, name, image, package, module, class_name, weights, "",
                             f"{memory:g}", json.dumps(params) if params else "", tasks])
    print(f"{len(MODELS)} rows -> {target}")


if __name__ == "__main__":
    main()
