"""Recurrent layers: RNN (tanh or relu) and LSTM, multi-layer, optionally bidirectional, with batch_first.

Parameter names, shapes, gate order (i, f, g, o) and initialisation U(-1/sqrt(H), 1/sqrt(H)) are
PyTorch's, so a PyTorch state dict loads unchanged.
"""
import math
import warnings

from ... import ops
from ...autograd import Function, is_grad_enabled
from ...factories import zeros
from ...ops.elementwise import SigmoidGrad, TanhGrad
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import _float_dtype
from .util import as_input, layer_name, positive_int, probability


class Unbind(Function):
    """The slices of x along `axis` as separate tensors; the gradient stacks the slices' gradients.

    One op for all T slices: indexing each slice separately would scatter T full-size gradients.
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        lead = (slice(None),) * axis
        return tuple(x._backend.getitem(x.data, lead + (i,)) for i in range(x.shape[axis]))

    @staticmethod
    def backward(ctx, *grads):
        return ops.stack(grads, axis=ctx.axis), None


class LSTMCell(Function):
    """One LSTM step from the gate pre-activations z = [z_i, z_f, z_g, z_o] (N, 4H) and the cell c (N, H):
    c' = s(z_f) c + s(z_i) tanh(z_g), h = s(z_o) tanh(c'); returns (h, c'). The derivatives are the
    chain rule through those lines (see backward).

    Fused for speed: the composite records about a dozen ops per step, forward and backward. The backward
    is written with differentiable ops; under create_graph it recomputes the gates from z and c with
    recorded ops, so gradients of gradients flow through them.
    """

    @staticmethod
    def forward(ctx, z, c):
        bk = z._backend
        n = c.shape[-1]
        # One sigmoid over all of z (contiguous, so fused kernels apply) beats three over strided slices.
        s = bk.sigmoid(z.data)
        i, f, o = (bk.getitem(s, (slice(None), slice(k * n, (k + 1) * n))) for k in (0, 1, 3))
        g = bk.tanh(bk.getitem(z.data, (slice(None), slice(2 * n, 3 * n))))
        c_new = bk.add(bk.mul(f, c.data), bk.mul(i, g))
        tc = bk.tanh(c_new)
        ctx.save_for_backward(z, c)
        ctx.gates = (i, f, g, o, tc)
        return bk.mul(o, tc), c_new

    @staticmethod
    def backward(ctx, gh, gc):
        z, c = ctx.saved_tensors
        if is_grad_enabled():  # create_graph: the gates as recorded functions of z and c
            i, f, g, o = Unbind.apply(z.reshape(z.shape[0], 4, -1), axis=1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            tc = (f * c + i * g).tanh()
        else:
            bk = z._backend
            i, f, g, o, tc = (Tensor._make(a, bk, False, None, 0) for a in ctx.gates)
        gc = gc + TanhGrad.apply(gh * o, tc)  # d/dc' through h = o tanh(c')
        dz = ops.concatenate([SigmoidGrad.apply(gc * g, i), SigmoidGrad.apply(gc * c, f),
                              TanhGrad.apply(gc * i, g), SigmoidGrad.apply(gh * tc, o)], axis=1)
        return dz, gc * f


class _RNNBase(Module):
    _gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)
        self.num_layers = positive_int(name, "num_layers", num_layers)
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout = probability(name, "dropout", dropout)
        if self.dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout applies between layers, so it has no effect with num_layers=1; "
                          f"got dropout={dropout}", UserWarning, stacklevel=2)
        dtype = _float_dtype(name, dtype)
        gate_size = self._gates * hidden_size
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * self._directions
            for suffix in ("", "_reverse")[:self._directions]:
                self.register_parameter(f"weight_ih_l{layer}{suffix}",
                                        Parameter(zeros(gate_size, layer_in, dtype=dtype)))
                self.register_parameter(f"weight_hh_l{layer}{suffix}",
                                        Parameter(zeros(gate_size, hidden_size, dtype=dtype)))
                if bias:
                    self.register_parameter(f"bias_ih_l{layer}{suffix}", Parameter(zeros(gate_size, dtype=dtype)))
                    self.register_parameter(f"bias_hh_l{layer}{suffix}", Parameter(zeros(gate_size, dtype=dtype)))
        self.reset_parameters()

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _weights(self, layer, direction):
        s = f"l{layer}{'_reverse' if direction else ''}"
        p = self._parameters
        return p[f"weight_ih_{s}"], p[f"weight_hh_{s}"], p.get(f"bias_ih_{s}"), p.get(f"bias_hh_{s}")

    def _check_state(self, h, n, unbatched, what):
        want = (self.num_layers * self._directions,) + (() if unbatched else (n,)) + (self.hidden_size,)
        h = as_input(self, h)
        if h.shape != want:
            raise ValueError(f"{layer_name(self)}: expected {what} of shape {want}; got shape {h.shape}")
        return h.unsqueeze(1) if unbatched else h

    def _run(self, x, states):
        """Run every layer over x (T, N, I) from `states` (a list of (num_layers*D, N, H) tensors).

        Returns the last layer's outputs (T, N, D*H) and each state's final values stacked per layer/direction.
        """
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for d in range(self._directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                # One (T*N, I) @ (I, G) product instead of T batched ones over a (possibly transposed) view.
                proj = (x.reshape(-1, x.shape[-1]) @ w_ih.T).reshape(x.shape[0], x.shape[1], -1)
                if b_ih is not None:  # both biases added once here, not b_hh once per step
                    proj = proj + (b_ih + b_hh)
                w_hh_t = w_hh.T  # one transpose node for the whole sequence, not one per step
                steps = Unbind.apply(proj, axis=0)
                if d:
                    steps = steps[::-1]
                state = [s[layer * self._directions + d] for s in states]
                hs = []
                for pre in steps:
                    state = self._cell(pre, state, w_hh_t)
                    hs.append(state[0])
                for final, value in zip(finals, state):
                    final.append(value)
                outs.append(ops.stack(hs[::-1] if d else hs, axis=0))
            x = outs[0] if len(outs) == 1 else ops.concatenate(outs, axis=-1)
        return x, [ops.stack(f, axis=0) for f in finals]

    def _forward(self, x, hx, n_states):
        x = as_input(self, x)
        i = self.input_size
        if x.ndim not in (2, 3) or x.shape[-1] != i:
            layout = f"(N, T, {i})" if self.batch_first else f"(T, N, {i})"
            raise ValueError(f"{layer_name(self)}: expected input of shape {layout} or unbatched (T, {i}); got "
                             f"shape {x.shape}")
        if x.shape[-2 if x.ndim == 3 and self.batch_first else 0] == 0:
            raise ValueError(f"{layer_name(self)}: the input sequence is empty; got shape {x.shape}")
        unbatched = x.ndim == 2
        x = x.unsqueeze(1) if unbatched else (x.transpose(0, 1) if self.batch_first else x)
        n = x.shape[1]
        shape = (self.num_layers * self._directions, n, self.hidden_size)
        if hx is None:
            states = [zeros(shape, dtype=x.dtype, backend=x.backend) for _ in range(n_states)]
        else:
            names = ("h_0", "c_0")[:n_states]
            states = [self._check_state(h, n, unbatched, what) for h, what in zip(hx, names)]
        out, finals = self._run(x, states)
        if unbatched:
            return out.squeeze(1), [f.squeeze(1) for f in finals]
        return (out.transpose(0, 1) if self.batch_first else out), finals

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked num_layers deep.

    Input (T, N, input_size), (N, T, input_size) with batch_first, or unbatched (T, input_size); h_0
    defaults to zeros. Returns (output, h_n): output holds the last layer's h_t for every t; h_n each
    layer's final state, shape (num_layers * num_directions, N, hidden_size).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)

    def _cell(self, pre, state, w_hh_t):
        z = pre + state[0] @ w_hh_t
        return [z.tanh() if self.nonlinearity == "tanh" else z.relu()]

    def forward(self, input, hx=None):  # noqa: A002  (PyTorch's argument name)
        out, (h,) = self._forward(input, None if hx is None else (hx,), 1)
        return out, h

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTM(_RNNBase):
    """Long short-term memory, stacked num_layers deep; gates i, f, g, o in PyTorch's order:

    i, f, o = sigmoid(.), g = tanh(.) of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh (split in four);
    c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t).

    Input as RNN; hx is an optional pair (h_0, c_0). Returns (output, (h_n, c_n)).
    """

    _gates = 4

    def _cell(self, pre, state, w_hh_t):
        """One step from `pre` = x_t W_ih^T + b_ih + b_hh and w_hh_t = W_hh^T."""
        h, c = state
        h, c = LSTMCell.apply(pre + h @ w_hh_t, c)
        return [h, c]

    def forward(self, input, hx=None):  # noqa: A002
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"{layer_name(self)}: hx must be a pair (h_0, c_0); got {type(hx).__name__}")
        out, (h, c) = self._forward(input, hx, 2)
        return out, (h, c)
