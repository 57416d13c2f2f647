"""Adagrad with PyTorch's defaults and update rule (optional learning-rate decay)."""
from .optimizer import Optimizer, check_flags, check_hyper, state_tensor


class Adagrad(Optimizer):
    """Adagrad as PyTorch computes it, per parameter with gradient g at step t:

        g = g + weight_decay * p
        sum = sum + g * g                                (sum starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)

    As in PyTorch, every parameter's state (step 0, sum) exists from construction on.

    Args:
        params: Tensors or parameter groups.
        lr: learning rate (default 1e-2). lr_decay: default 0. weight_decay: L2 penalty (default 0).
        initial_accumulator_value: the sums' starting value (default 0). eps: default 1e-10.
        maximize: ascend the objective instead.
        foreach: accepted (micrograd's one implementation); differentiable and fused: must be off.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                # PyTorch starts every sum at the constructor's value, whatever a group says
                _init_state(p, self.state.setdefault(p, {}), initial_accumulator_value)

    def _check_group(self, group):
        check_flags("Adagrad", group)
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_hyper("Adagrad", name, group[name])

    def _update(self, p, g, group, state):
        b = p._backend
        if not state:  # a group added after construction
            _init_state(p, state, group["initial_accumulator_value"])
        state["step"] = t = state["step"] + 1
        if group["maximize"]:
            g = b.neg(g)
        if group["weight_decay"]:
            g = b.add(g, b.mul(p._data, group["weight_decay"]))
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        total = state_tensor(p, state, "sum")
        b.axpby_(total, 1, b.mul(g, g), 1)
        std = b.add(b.sqrt(total), group["eps"])
        b.axpby_(p._data, 1, b.div(b.mul(g, -clr), std), 1)


def _init_state(p, state, value):
    state["step"] = 0
    state_tensor(p, state, "sum", init=p._backend.full(p.shape, value, p.dtype))
