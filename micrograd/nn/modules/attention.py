"""MultiheadAttention with PyTorch's parameters (in_proj_weight, in_proj_bias, out_proj), masks and layouts."""
import math

import numpy as np

from ... import ops
from ...factories import zeros
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear
from .util import as_input, float_dtype, layer_name, positive_int, probability


class MultiheadAttention(Module):
    """Attention of `num_heads` heads of size embed_dim // num_heads, with input and output projections.

    Args:
        embed_dim: the model width E (query, key and value all have it).
        num_heads: number of heads; must divide embed_dim.
        dropout: dropout on the attention weights in training.
        bias: biases in the input and output projections.
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).
    Initialised as PyTorch: xavier_uniform_ in_proj_weight, zero biases, out_proj as a Linear.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        for arg, value, ok in (("add_bias_kv", add_bias_kv, not add_bias_kv),
                               ("add_zero_attn", add_zero_attn, not add_zero_attn),
                               ("kdim", kdim, kdim in (None, embed_dim)), ("vdim", vdim, vdim in (None, embed_dim))):
            if not ok:
                raise NotImplementedError(f"MultiheadAttention: {arg}={value!r} is not supported by micrograd")
        self.embed_dim = positive_int("MultiheadAttention", "embed_dim", embed_dim)
        self.num_heads = positive_int("MultiheadAttention", "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads; got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        self.head_dim = embed_dim // num_heads
        self.dropout = probability("MultiheadAttention", "dropout", dropout)
        self.batch_first = bool(batch_first)
        dtype = float_dtype("MultiheadAttention", dtype)
        self.in_proj_weight = Parameter(zeros(3 * embed_dim, embed_dim, dtype=dtype))
        self.register_parameter("in_proj_bias", Parameter(zeros(3 * embed_dim, dtype=dtype)) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()
        self.to(device) if device is not None else None

    def _reset_parameters(self):
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _project(self, x, part):
        e = self.embed_dim
        out = x @ self.in_proj_weight[part * e:(part + 1) * e].T
        return out if self.in_proj_bias is None else out + self.in_proj_bias[part * e:(part + 1) * e]

    def _mask(self, attn_mask, key_padding_mask, is_causal, n, length, source, like):
        """Every mask as one additive float mask broadcastable to (N, heads, L, S), or None."""
        total = None
        if is_causal and attn_mask is None:
            attn_mask = ~np.tril(np.ones((length, source), dtype=bool))
        for name, mask, shapes in (
                ("attn_mask", attn_mask, {(length, source): (1, 1, length, source),
                                          (n * self.num_heads, length, source): (n, self.num_heads, length, source)}),
                ("key_padding_mask", key_padding_mask, {(n, source): (n, 1, 1, source)})):
            if mask is None:
                continue
            host = mask._host() if isinstance(mask, Tensor) else np.asarray(mask)
            if host.dtype.kind not in "bf":
                raise TypeError(f"{layer_name(self)}: {name} must be bool (True = do not attend) or float (added "
                                f"to the scores); got dtype {host.dtype}")
            if host.shape not in shapes:
                raise ValueError(f"{layer_name(self)}: expected {name} of shape "
                                 f"{' or '.join(map(str, shapes))}; got shape {host.shape}")
            add = np.where(host, -np.inf, 0.0) if host.dtype.kind == "b" else host.astype(np.float64)
            add = add.reshape(shapes[host.shape])
            total = add if total is None else total + add
        return None if total is None else Tensor(total, dtype=like.dtype, backend=like.backend)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Attend from query (L, N, E) to key/value (S, N, E) (batch-first (N, L, E), or unbatched (L, E)).

        Args:
            key_padding_mask: (N, S); True (bool) marks keys to ignore, a float mask is added to the scores.
            attn_mask: (L, S) or (N * num_heads, L, S); True (bool) forbids attending, float is added.
            need_weights: also return the attention weights (after dropout, as PyTorch).
            average_attn_weights: average the returned weights over heads, giving (N, L, S).
            is_causal: with attn_mask None, forbid attending to later positions.
        Returns:
            (output with the query's layout, weights (N, L, S) / (N, heads, L, S) or None).
        """
        q, k, v = (as_input(self, t) for t in (query, key, value))
        e = self.embed_dim
        unbatched = q.ndim == 2
        ok = q.ndim in (2, 3) and k.ndim == v.ndim == q.ndim and q.shape[-1] == k.shape[-1] == v.shape[-1] == e
        ok = ok and k.shape[:-1] == v.shape[:-1]
        if ok and not unbatched:
            ok = q.shape[0 if self.batch_first else 1] == k.shape[0 if self.batch_first else 1]
        if not ok:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(f"{layer_name(self)}: expected query {layout} and key, value {layout.replace('L', 'S')} "
                             f"with E={e} (or unbatched (L, E), (S, E)); got shapes {q.shape}, {k.shape}, {v.shape}")
        if unbatched:
            q, k, v = q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(
                    key_padding_mask._host() if isinstance(key_padding_mask, Tensor) else key_padding_mask)[None]
        elif not self.batch_first:
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        n, length, source, h, d = q.shape[0], q.shape[1], k.shape[1], self.num_heads, self.head_dim

        def heads(x, part, steps):
            return self._project(x, part).reshape(n, steps, h, d).transpose(1, 2)

        qh = heads(q, 0, length) * (1 / math.sqrt(d))  # scaled before the product, as PyTorch
        scores = qh @ heads(k, 1, source).mT
        mask = self._mask(attn_mask, key_padding_mask, is_causal, n, length, source, scores)
        if mask is not None:
            scores = scores + mask
        weights = ops.softmax(scores, -1)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout, True)
        out = (weights @ heads(v, 2, source)).transpose(1, 2).reshape(n, length, e)
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, weights.squeeze(0) if unbatched else weights
