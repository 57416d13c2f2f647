"""Embedding: a lookup table of learned vectors indexed by integer ids."""
from ...factories import zeros
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .util import float_dtype, positive_int


class Embedding(Module):
    """Rows of weight (num_embeddings, embedding_dim) picked by integer indices of any shape.

    weight is drawn from N(0, 1), as PyTorch; the row at `padding_idx` (if given) starts at zero and
    gets no gradient.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, {num_embeddings}); got "
                                 f"{padding_idx}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(zeros(num_embeddings, embedding_dim, dtype=float_dtype("Embedding", dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            host = self.weight._host()
            host[self.padding_idx] = 0
            init._fill(self.weight, host)

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
