"""Recurrent layers: RNN (tanh or relu), LSTM and GRU, multi-layer, optionally bidirectional, with batch_first;
and their single-step cells RNNCell, LSTMCell and GRUCell.

Parameter names, shapes, gate orders (LSTM i, f, g, o; GRU r, z, n) and initialisation U(-1/sqrt(H), 1/sqrt(H))
are PyTorch's, so a PyTorch state dict loads unchanged.
"""
import math
import warnings

from ... import ops
from ...errors import RuntimeValueError
from ...factories import zeros
from ...ops.rnn import lstm_layer, step_order
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .util import as_input, float_dtype, layer_name, positive_int, probability


class _RNNBase(Module):
    _gates = 1
    _fold_hh_bias = True  # b_hh joins b_ih in the input projection (not GRU's: its n gate scales W_hn h + b_hn)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
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
        if proj_size and name != "LSTM":
            raise ValueError(f"proj_size argument is only supported for LSTM, not RNN or GRU ({name}: proj_size="
                             f"{proj_size})")
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size is not supported by micrograd (got proj_size={proj_size})")
        dtype = float_dtype(name, dtype)
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
        self.to(device) if device is not None else None

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
                if b_ih is not None:  # both biases added once here, not b_hh once per step (but GRU's)
                    proj = proj + (b_ih + b_hh if self._fold_hh_bias else b_ih)
                state = [s[layer * self._directions + d] for s in states]
                out, state = self._sequence(proj, state, w_hh, None if self._fold_hh_bias else b_hh, bool(d))
                for final, value in zip(finals, state):
                    final.append(value)
                outs.append(out)
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
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def _sequence(self, proj, state, w_hh, b_hh, reverse):
        """Every step from proj (T, N, H) = x_t W_ih^T + biases: (out (T, N, H), [h_n])."""
        w_hh_t = w_hh.T  # one transpose node for the whole sequence, not one per step
        steps = ops.Unbind.apply(proj, axis=0)
        h = state[0]
        hs = [None] * len(steps)
        for t in step_order(len(steps), reverse):
            z = steps[t] + h @ w_hh_t
            h = hs[t] = z.tanh() if self.nonlinearity == "tanh" else z.relu()
        return ops.stack(hs, axis=0), [h]

    def forward(self, input, hx=None):  # noqa: A002  (PyTorch's argument name)
        out, (h,) = self._forward(input, None if hx is None else (hx,), 1)
        return out, h


class LSTM(_RNNBase):
    """Long short-term memory, stacked num_layers deep; gates i, f, g, o in PyTorch's order:

    i, f, o = sigmoid(.), g = tanh(.) of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh (split in four);
    c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t).

    Input as RNN; hx is an optional pair (h_0, c_0). Returns (output, (h_n, c_n)).
    """

    _gates = 4

    def _sequence(self, proj, state, w_hh, b_hh, reverse):
        """Every step from proj (T, N, 4H) = x_t W_ih^T + biases, as one op: (out (T, N, H), [h_n, c_n])."""
        out, h, c = lstm_layer(proj, state[0], state[1], w_hh, reverse)
        return out, [h, c]

    def forward(self, input, hx=None):  # noqa: A002
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"{layer_name(self)}: hx must be a pair (h_0, c_0); got {type(hx).__name__}")
        out, (h, c) = self._forward(input, hx, 2)
        return out, (h, c)


def gru_cell(gi, gh, h):
    """One GRU step, as PyTorch: from gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh (N, 3H), gates r, z, n:

    r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z);  n = tanh(gi_n + r * gh_n);  h' = (1 - z) n + z h.
    """
    size = h.shape[-1]
    gi_rz, gi_n = ops.split(gi, [2 * size, size], 1)
    gh_rz, gh_n = ops.split(gh, [2 * size, size], 1)
    r, z = ops.split((gi_rz + gh_rz).sigmoid(), size, 1)
    n = (gi_n + r * gh_n).tanh()
    return n + z * (h - n)


class GRU(_RNNBase):
    """Gated recurrent unit, stacked num_layers deep; gates r, z, n in PyTorch's order (see gru_cell), with b_hn
    inside r * (W_hn h + b_hn) as PyTorch.

    Input as RNN; hx is an optional h_0 (num_layers * num_directions, N, hidden_size). Returns (output, h_n).
    """

    _gates = 3
    _fold_hh_bias = False

    def _sequence(self, proj, state, w_hh, b_hh, reverse):
        """Every step from proj (T, N, 3H) = x_t W_ih^T + b_ih: (out (T, N, H), [h_n])."""
        w_hh_t = w_hh.T
        steps = ops.Unbind.apply(proj, axis=0)
        h = state[0]
        hs = [None] * len(steps)
        for t in step_order(len(steps), reverse):
            gh = h @ w_hh_t
            h = hs[t] = gru_cell(steps[t], gh if b_hh is None else gh + b_hh, h)
        return ops.stack(hs, axis=0), [h]

    def forward(self, input, hx=None):  # noqa: A002
        out, (h,) = self._forward(input, None if hx is None else (hx,), 1)
        return out, h


class _CellBase(Module):
    """What RNNCell, LSTMCell and GRUCell share: weight_ih (G*H, I), weight_hh (G*H, H), bias_ih and bias_hh (G*H)
    drawn from U(-1/sqrt(H), 1/sqrt(H)), the input and state checks, and PyTorch's repr."""

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype = float_dtype(name, dtype)
        gates = self._gates * hidden_size
        self.weight_ih = Parameter(zeros(gates, input_size, dtype=dtype))
        self.weight_hh = Parameter(zeros(gates, hidden_size, dtype=dtype))
        for key in ("bias_ih", "bias_hh"):
            self.register_parameter(key, Parameter(zeros(gates, dtype=dtype)) if bias else None)
        self.reset_parameters()
        self.to(device) if device is not None else None

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _prepare(self, input, hx, labels):  # noqa: A002
        """(x (N, I), one (N, H) state per label, unbatched) from input (N, I) or (I,) and hx (None: zeros), with
        PyTorch's checks and messages."""
        name, size = type(self).__name__, self.hidden_size
        x = as_input(self, input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        states = [None] * len(labels) if hx is None else [as_input(self, h) for h in hx]
        for label, h in zip(labels, states):
            if h is not None and h.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {h.ndim}D instead")
        unbatched = x.ndim == 1
        if unbatched:
            x, states = x.unsqueeze(0), [None if h is None else h.unsqueeze(0) for h in states]
        if x.shape[1] != self.input_size:
            raise RuntimeValueError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                                    f"{self.input_size} ({layer_name(self)})")
        n = x.shape[0]
        for i, (label, h) in enumerate(zip(labels, states)):
            if h is None:
                states[i] = zeros(n, size, dtype=x.dtype, backend=x.backend)
            elif h.shape[0] != n:
                raise RuntimeValueError(f"Input batch size {n} doesn't match hidden{i} batch size {h.shape[0]} "
                                        f"({layer_name(self)})")
            elif h.shape[1] != size:
                raise RuntimeValueError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, expected {size} "
                                        f"({layer_name(self)})")
            elif h.ndim != 2:
                raise ValueError(f"{layer_name(self)}: {label} must be 1-D like the unbatched input; got shape "
                                 f"{h.shape[1:]}")
        return x, states, unbatched

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Input (N, input_size) or unbatched (input_size,); hx (N, hidden_size) defaults to zeros. Returns h'.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), unbatched = self._prepare(input, None if hx is None else (hx,), ("hidden",))
        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h = z.tanh() if self.nonlinearity == "tanh" else z.relu()
        return h.squeeze(0) if unbatched else h

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else f"{s}, nonlinearity={self.nonlinearity}"


class LSTMCell(_CellBase):
    """One LSTM step (gates i, f, g, o as LSTM), through the fused LSTM op.

    Input (N, input_size) or unbatched (input_size,); hx an optional pair (h, c) (zeros by default). Returns
    (h', c').
    """

    _gates = 4

    def forward(self, input, hx=None):  # noqa: A002
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not "
                            f"{type(hx).__name__} (LSTMCell: hx is a pair (h, c))")
        x, (h, c), unbatched = self._prepare(input, hx, ("hx[0]", "hx[1]"))
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        _, h, c = lstm_layer(F.linear(x, self.weight_ih, bias).unsqueeze(0), h, c, self.weight_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """One GRU step (gates r, z, n as GRU; see gru_cell).

    Input (N, input_size) or unbatched (input_size,); hx (N, hidden_size) defaults to zeros. Returns h'.
    """

    _gates = 3

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), unbatched = self._prepare(input, None if hx is None else (hx,), ("hidden",))
        h = gru_cell(F.linear(x, self.weight_ih, self.bias_ih), F.linear(h, self.weight_hh, self.bias_hh), h)
        return h.squeeze(0) if unbatched else h
