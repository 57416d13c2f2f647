"""Utilities under PyTorch's names: `micrograd.utils.data` (datasets, samplers, DataLoader)."""
from . import data
