"""Utilities under PyTorch's names: `micrograd.utils.data` (datasets, samplers, DataLoader) and
`micrograd.utils.checkpoint` (activation checkpointing)."""
from . import checkpoint, data
