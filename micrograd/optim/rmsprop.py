"""RMSprop with PyTorch's defaults and update rule (optional momentum and centering)."""
from .optimizer import Optimizer, check_flags, check_hyper, state_tensor


class RMSprop(Optimizer):
    """RMSprop as PyTorch computes it, per parameter with gradient g:

        g = g + weight_decay * p
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        grad_avg = grad_avg + (1 - alpha) * (g - grad_avg)        (centered)
        avg = sqrt(square_avg - grad_avg * grad_avg) + eps          (centered; else sqrt(square_avg) + eps)
        buf = momentum * buf + g / avg;  p = p - lr * buf          (momentum > 0)
        p = p - lr * g / avg                                        (momentum 0)

    Args:
        params: Tensors or parameter groups.
        lr: learning rate (default 1e-2). alpha: smoothing constant (default 0.99). eps: default 1e-8.
        weight_decay: L2 penalty (default 0). momentum: default 0. centered: normalise by the estimated
        variance of the gradient rather than its second moment.
        maximize: ascend the objective instead.
        foreach: accepted (micrograd's one implementation); capturable and differentiable: must be off.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_flags("RMSprop", group)
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            check_hyper("RMSprop", name, group[name])

    def _update(self, p, g, group, state):
        b = p._backend
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if not state:  # PyTorch's state, in its order
            state["step"] = 0
            state_tensor(p, state, "square_avg")
            if momentum > 0:
                state_tensor(p, state, "momentum_buffer")
            if group["centered"]:
                state_tensor(p, state, "grad_avg")
        state["step"] += 1
        if group["maximize"]:
            g = b.neg(g)
        if group["weight_decay"]:
            g = b.add(g, b.mul(p._data, group["weight_decay"]))
        square_avg = state_tensor(p, state, "square_avg")
        b.axpby_(square_avg, alpha, b.mul(b.mul(g, 1 - alpha), g), 1)
        if group["centered"]:
            grad_avg = state_tensor(p, state, "grad_avg")
            _lerp_(b, grad_avg, g, 1 - alpha)
            avg = b.sqrt(b.sub(square_avg, b.mul(grad_avg, grad_avg)))
        else:
            avg = b.sqrt(square_avg)
        avg = b.add(avg, eps)
        if momentum > 0:
            buf = state_tensor(p, state, "momentum_buffer")
            b.axpby_(buf, momentum, b.div(g, avg), 1)
            b.axpby_(p._data, 1, buf, -lr)
        else:
            b.axpby_(p._data, 1, b.div(b.mul(g, -lr), avg), 1)


def _lerp_(b, start, end, weight):
    """start += weight * (end - start) in place, in PyTorch's two forms (the second is exact at weight 1)."""
    if abs(weight) < 0.5:
        b.axpby_(start, 1, b.sub(end, start), weight)
    else:
        b.assign_(start, b.sub(end, b.mul(b.sub(end, start), 1 - weight)))
