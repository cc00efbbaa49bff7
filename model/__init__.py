"""Foretype's language model, tokenizer, model files and live prediction engine (no Qt here)."""
