"""Adadelta with PyTorch's defaults and update rule."""
from .optimizer import Optimizer, check_flags, check_hyper, state_tensor


class Adadelta(Optimizer):
    """Adadelta as PyTorch computes it, per parameter with gradient g:

        g = g + weight_decay * p
        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        p = p - lr * delta

    Args:
        params: Tensors or parameter groups.
        lr: scales each update (default 1.0). rho: decay of the running averages, in [0, 1] (default 0.9).
        eps: added inside the square roots (default 1e-6). weight_decay: L2 penalty (default 0).
        maximize: ascend the objective instead.
        foreach: accepted (micrograd's one implementation); capturable and differentiable: must be off.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_flags("Adadelta", group)
        check_hyper("Adadelta", "lr", group["lr"])
        check_hyper("Adadelta", "rho", group["rho"], 0.0, 1.0)
        check_hyper("Adadelta", "eps", group["eps"])
        check_hyper("Adadelta", "weight_decay", group["weight_decay"])

    def _update(self, p, g, group, state):
        b = p._backend
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        state["step"] = state.get("step", 0) + 1
        square_avg = state_tensor(p, state, "square_avg")
        acc_delta = state_tensor(p, state, "acc_delta")
        if group["maximize"]:
            g = b.neg(g)
        if wd:
            g = b.add(g, b.mul(p._data, wd))
        b.axpby_(square_avg, rho, b.mul(b.mul(g, 1 - rho), g), 1)
        std = b.sqrt(b.add(square_avg, eps))
        delta = b.mul(b.div(b.sqrt(b.add(acc_delta, eps)), std), g)
        b.axpby_(acc_delta, rho, b.mul(b.mul(delta, 1 - rho), delta), 1)
        b.axpby_(p._data, 1, delta, -lr)
