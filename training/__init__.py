"""Foretype's training pipeline: prepare, train, export, finetune, eval."""
