"""Training the small easy-VQA model that ships as package data.

Nothing here is imported by a benchmark run: it needs torch and
transformers, and only ``scripts/train_easyvqa_model.py`` and the tests of
the shipped model use it.

Modules: tiny_llava (the architecture, tokenizer, processor and chat
template), easyvqa_data (splits as tensors and batches), attributes (the
shape/colour labels of the auxiliary training target), loop (the training
loop), evaluate (greedy-generation accuracy), shipping (the saved folder
and its metrics.json).
"""
