"""`Optimizer`: parameter groups, per-parameter state, zero_grad, and state_dict/load_state_dict.

Updates run on the raw arrays with backend primitives and are written into the parameters in place
(`assign_`), so a module's state_dict, which shares memory with its parameters, always shows the current
values. State lives on each parameter's backend; it follows a parameter moved with `module.to(name)`.
"""
import copy
import numbers

import numpy as np

from ..autograd import enable_grad, inplace
from ..autograd.accumulate import reset_grad
from ..tensor import Tensor


def check_hyper(op, name, value, low=0.0, high=None, high_open=False):
    """Raise a ValueError unless `value` is a number in [low, high] (or [low, high)).

    The message starts with PyTorch's ("Invalid learning rate: -1"), then says what is allowed.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= low or (
            high is not None and (value >= high if high_open else value > high)):
        bound = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise ValueError(f"{op}: Invalid {_LABELS.get(name, name + ' value')}: {value!r}; {name} must be a number "
                         f">= {low}{bound}")


_LABELS = {"lr": "learning rate", "eps": "epsilon value", "betas[0]": "beta parameter at index 0",
           "betas[1]": "beta parameter at index 1"}

# PyTorch's switches between implementations of one update rule, and why micrograd has only the plain one.
_UNSUPPORTED = {"capturable": "CUDA graph capture", "differentiable": "autograd through the optimizer step",
                "fused": "fused multi-parameter kernels"}


def check_flags(op, group):
    """Check PyTorch's implementation switches in a group: foreach is accepted (None, True or False; micrograd
    updates one parameter at a time, with the same numbers); capturable, differentiable and fused must be off."""
    if group.get("foreach") not in (None, True, False):
        raise ValueError(f"{op}: foreach must be None, True or False; got {group['foreach']!r}")
    for key, what in _UNSUPPORTED.items():
        if group.get(key):
            raise NotImplementedError(f"{op}: {key}=True is not supported by micrograd (it has no {what}); got "
                                      f"{key}={group[key]!r}")


class Optimizer:
    """Base class: holds `param_groups` (dicts of 'params' plus hyperparameters) and `state` per parameter.

    Args:
        params: an iterable of Tensors, or of dicts each with a 'params' entry and per-group hyperparameters.
        defaults: hyperparameters used where a group does not set them.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or dicts; got a Tensor "
                            f"(pass [tensor] or model.parameters())")
        if isinstance(params, set):
            raise TypeError(f"{type(self).__name__}: parameters must be an ordered sequence, not a set (its order "
                            f"varies run to run)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with 'params' (Tensors) and optional hyperparameters overriding the defaults."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry; got {group!r}")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be an ordered sequence, not a set (its order varies run to run)")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors; got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: can only optimize floating-point tensors; got dtype {p.dtype.name}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can only optimize leaf tensors (a Parameter, or a tensor created with "
                                 f"requires_grad=True); got one computed by {p.grad_fn.name}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group holds the same parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        new = dict(group, params=params)
        for key, value in self.defaults.items():
            new.setdefault(key, value)
        self._check_group(new)
        self.param_groups.append(new)

    def _check_group(self, group):
        """Validate a group's hyperparameters (subclasses)."""

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                reset_grad(p, set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` (optional) recomputes and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, _grad_array(p), group, self.state.setdefault(p, {}))
                    inplace.counter(p)[0] += 1  # an in-place change, as PyTorch counts it
        return loss

    def _update(self, p, g, group, state):
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    # state

    def state_dict(self):
        """{'state': {index: {name: value}}, 'param_groups': [{hyperparameters..., 'params': [index, ...]}]}.

        Parameters are numbered in group order, as PyTorch does; the state's Tensors are shared, not copied.
        """
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if s and id(p) in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by state_dict() (as given, or after mg.save/mg.load).

        Everything is checked first (group and parameter counts, state shapes, numeric values); state
        Tensors are copied to each parameter's backend and floating ones cast to its dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expects a dict with 'state' and 'param_groups' (from "
                             f"state_dict()); got {_describe(state_dict)}")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the checkpoint has {_count(saved_groups)} parameter groups; "
                             f"this optimizer has {len(self.param_groups)}")
        by_index = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            ids = saved.get("params") if isinstance(saved, dict) else None
            if not isinstance(ids, (list, tuple)) or len(ids) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} holds {_count(ids)} parameters in "
                                 f"the checkpoint and {len(group['params'])} here")
            for k, p in zip(ids, group["params"]):
                by_index[int(k)] = p
        new_state = {}
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise ValueError(f"{name}.load_state_dict: 'state' must be a dict; got {type(saved_state).__name__}")
        for k, entry in saved_state.items():
            p = by_index.get(int(k))
            if p is None or not isinstance(entry, dict):
                raise ValueError(f"{name}.load_state_dict: state entry {k!r} matches no parameter of this optimizer")
            new_state[p] = {key: self._load_state_value(k, key, v, p) for key, v in entry.items()}
        new_groups = [{**{kk: copy.deepcopy(vv) for kk, vv in saved.items() if kk != "params"},
                       "params": group["params"]} for saved, group in zip(saved_groups, self.param_groups)]
        for group in new_groups:
            for key, value in self.defaults.items():  # a checkpoint from before a hyperparameter existed
                group.setdefault(key, value)
            if isinstance(group.get("betas"), list):
                group["betas"] = tuple(group["betas"])
            self._check_group(group)
        self.state = new_state
        self.param_groups = new_groups

    def _load_state_value(self, index, key, value, p):
        """One saved state entry checked and made ready for parameter p (subclasses with other state override)."""
        return _state_value(type(self).__name__, index, key, value, p)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines + [")"])


def _describe(x):
    return f"keys {sorted(map(str, x))}" if isinstance(x, dict) else type(x).__name__


def _count(x):
    return len(x) if isinstance(x, (list, tuple)) else "no list of"


def _state_value(op, index, key, value, p):
    """A saved state entry ready for parameter p: a Tensor on p's backend (floats in p's dtype) or a number."""
    if key == "step":
        step = value.item() if isinstance(value, Tensor) else np.asarray(value).item()
        if not isinstance(step, (int, float)) or step < 0 or step != int(step):
            raise ValueError(f"{op}.load_state_dict: state {index} 'step' must be a non-negative integer; got "
                             f"{value!r}")
        return int(step)
    if value is None:
        return None
    host = value._host() if isinstance(value, Tensor) else np.asarray(value)
    if host.dtype.kind not in "biuf":
        raise ValueError(f"{op}.load_state_dict: state {index} {key!r} must be numeric; got {type(value).__name__}")
    if host.shape != p.shape:
        raise ValueError(f"{op}.load_state_dict: state {index} {key!r} has shape {host.shape}; its parameter has "
                         f"shape {p.shape}")
    return Tensor(host, dtype=p.dtype if host.dtype.kind == "f" else None, backend=p.backend)


def _grad_array(p):
    g = p.grad
    if g._backend is not p._backend:
        if g._backend.device != p._backend.device:
            raise ValueError(f"optimizer: a gradient on {g._backend.device} (backend {g.backend!r}) for a parameter "
                             f"on {p._backend.device} (backend {p.backend!r})")
        return g.to(p._backend)._data
    return g._data


def state_tensor(p, state, key, init=None):
    """state[key] as an array on p's backend: created from `init` (an array; zeros when None) if absent."""
    t = state.get(key)
    b = p._backend
    if t is None:
        data = b.zeros(p.shape, p.dtype) if init is None else b.copy(init)
        t = state[key] = Tensor._make(data, b, False, None, 0)
    elif t._backend is not b:  # the module was moved with .to(): the state follows, in place
        t._data, t._backend = b.asarray(t._backend.to_numpy(t._data), t.dtype), b
    return t._data
