"""PyTorch's torch.nn.parallel: DistributedDataParallel over micrograd.distributed."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
