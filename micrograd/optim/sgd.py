"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay (PyTorch's rule)."""
from .optimizer import Optimizer, check_flags, check_hyper, state_tensor


class SGD(Optimizer):
    """SGD as PyTorch computes it, per parameter with gradient g:

        g = g + weight_decay * p
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) or buf
        p = p - lr * g

    Args:
        params: Tensors or parameter groups.
        lr: learning rate (PyTorch's default 1e-3).
        momentum, dampening, weight_decay: as above (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead.
        foreach: accepted (micrograd's one implementation); differentiable and fused: must be off.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_flags("SGD", group)
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_hyper("SGD", name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening; got momentum="
                             f"{group['momentum']}, dampening={group['dampening']}")

    def _update(self, p, g, group, state):
        b = p._backend
        if group["maximize"]:
            g = b.neg(g)
        if group["weight_decay"]:
            g = b.add(g, b.mul(p._data, group["weight_decay"]))
        momentum = group["momentum"]
        if momentum:
            if state.get("momentum_buffer") is None:
                buf = state_tensor(p, state, "momentum_buffer", init=g)
            else:
                buf = state_tensor(p, state, "momentum_buffer")
                if not group["nesterov"]:  # both updates in one pass
                    b.sgd_momentum_(p._data, buf, g, group["lr"], momentum, group["dampening"])
                    return
                b.axpby_(buf, momentum, g, 1 - group["dampening"])
            g = b.add(g, b.mul(buf, momentum)) if group["nesterov"] else buf
        b.axpby_(p._data, 1, g, -group["lr"])
