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

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, {num_embeddings}); got "
                                 f"{padding_idx}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if sparse:
            raise NotImplementedError("Embedding: sparse=True (sparse gradients) is not supported by micrograd")
        self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse = max_norm, norm_type, \
            scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(zeros(num_embeddings, embedding_dim, dtype=float_dtype("Embedding", dtype)))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: shape of weight does not match num_embeddings and embedding_dim; got "
                                 f"{tuple(_weight.shape)}, expected {(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight.detach(), requires_grad=not _freeze)
        self.to(device) if device is not None else None

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is `embeddings` (2-d); frozen (no gradient) unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            host = self.weight._host()
            host[self.padding_idx] = 0
            init._fill(self.weight, host)

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        s += "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        s += "" if self.max_norm is None else f", max_norm={self.max_norm}"
        s += "" if self.norm_type == 2 else f", norm_type={self.norm_type}"
        return s + (", scale_grad_by_freq=True" if self.scale_grad_by_freq else "")
