"""PyTorch's DistributedSampler: each rank draws its own shard of the dataset's indices."""
import math

import numpy as np

from .sampler import Sampler


class DistributedSampler(Sampler[int]):
    """The indices of rank `rank`'s shard of `dataset` (world of `num_replicas`), as PyTorch's sampler.

    Every epoch the same permutation is drawn on every rank (seeded by seed + epoch: call set_epoch(epoch) before
    each epoch, or every epoch repeats the first order), padded by repeating its first indices until it divides
    evenly (or, with drop_last, cut to a multiple of the world size), and rank r takes every num_replicas-th index
    starting at r: the shards are disjoint and cover the dataset (the padding excepted), and have equal lengths,
    so every rank runs the same number of steps. The permutation is NumPy's (a PCG64 generator), not PyTorch's:
    the shards follow the same rules, in a different order.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        from ... import distributed as dist

        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: Requires distributed package to be available (call "
                                   "micrograd.distributed.init_process_group, or pass num_replicas and rank)")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose permutation the next iteration draws (the same on every rank)."""
        self.epoch = epoch
