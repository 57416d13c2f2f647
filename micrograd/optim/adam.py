"""Adam and AdamW with PyTorch's defaults and update rule (bias-corrected moments, optional AMSGrad)."""
from .optimizer import Optimizer, check_flags, check_hyper, state_tensor


class Adam(Optimizer):
    """Adam as PyTorch computes it, per parameter with gradient g at step t:

        g = g + weight_decay * p                  (decoupled_weight_decay, as AdamW: p = p * (1 - lr * weight_decay))
        m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                     (amsgrad; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params: Tensors or parameter groups.
        lr: learning rate (default 1e-3). betas: (beta1, beta2), default (0.9, 0.999). eps: default 1e-8.
        weight_decay: L2 penalty added to the gradient (default 0). amsgrad: use the running maximum of v.
        maximize: ascend the objective instead. decoupled_weight_decay: AdamW's weight decay.
        foreach: accepted (micrograd's one implementation); capturable, differentiable and fused: must be off.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group):
        name = type(self).__name__
        check_flags(name, group)
        for key in ("lr", "eps", "weight_decay"):
            check_hyper(name, key, group[key])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair of numbers; got {betas!r}")
        for i, beta in enumerate(betas):
            check_hyper(name, f"betas[{i}]", beta, 0.0, 1.0, high_open=True)

    def _update(self, p, g, group, state):
        b = p._backend
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            g = b.neg(g)
        state["step"] = t = state.get("step", 0) + 1  # first: PyTorch's order of the state's entries
        m = state_tensor(p, state, "exp_avg")
        v = state_tensor(p, state, "exp_avg_sq")
        if wd:
            if group["decoupled_weight_decay"]:
                b.axpby_(p._data, 1 - lr * wd, p._data, 0)
            else:
                g = b.add(g, b.mul(p._data, wd))
        b.axpby_(m, 1, b.sub(g, m), 1 - beta1)
        b.axpby_(v, beta2, b.mul(b.mul(g, 1 - beta2), g), 1)
        if group["amsgrad"]:
            v_max = state_tensor(p, state, "max_exp_avg_sq")
            b.assign_(v_max, b.maximum(v_max, v))
            v = v_max
        step_size = lr / (1 - beta1 ** t)
        denom = b.add(b.div(b.sqrt(v), (1 - beta2 ** t) ** 0.5), eps)
        b.axpby_(p._data, 1, b.div(b.mul(m, -step_size), denom), 1)


class AdamW(Adam):
    """Adam with decoupled weight decay (p scaled by 1 - lr * weight_decay each step; default 1e-2)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
