"""Making and measuring the default pair: SST-2 reading, LoRA fine-tuning, accuracy.

Neither side of the gallery imports this: ``scripts/train_default.py`` and
``scripts/evaluate.py`` do.
"""
