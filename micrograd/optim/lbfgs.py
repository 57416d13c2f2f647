"""L-BFGS with PyTorch's algorithm, defaults and state, and its optional strong-Wolfe line search.

The parameters are seen as one flat vector on the first parameter's backend: gradients are gathered into it,
steps are added from it into each parameter in place. Scalars that PyTorch keeps as 0-d tensors (slopes, the
history's 1 / (y.s), the initial Hessian scale) are NumPy scalars of the vector's dtype here, so float32
problems round where PyTorch rounds; losses are Python floats, as PyTorch's `float(closure())`.
"""
import numbers

import numpy as np

from ..autograd import enable_grad, inplace
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .optimizer import Optimizer, _grad_array, check_hyper

_GROUPS_ERROR = "LBFGS doesn't support per-parameter options (parameter groups)"
_C1, _C2, _LS_TOLERANCE = 1e-4, 0.9, 1e-9  # PyTorch's line-search constants (not the group's tolerance_change)


class LBFGS(Optimizer):
    """L-BFGS as PyTorch computes it: up to max_iter iterations per step, each moving along the two-loop
    direction d = -H g (H from the last history_size pairs s = t d, y = g_new - g with y.s > 1e-10, scaled by
    y.s / y.y) by a step t: lr (the first iteration ever: min(1, 1 / |g|_1) * lr), or one satisfying the strong
    Wolfe conditions. A step stops early when |g|_max <= tolerance_grad, g.d > -tolerance_change, |t d|_max or the
    change of loss falls under tolerance_change, or max_eval evaluations are spent.

    Args:
        params: Tensors (one parameter group only, as in PyTorch).
        lr: step length (default 1). max_iter: iterations per step (default 20).
        max_eval: closure evaluations per step (default max_iter * 5 // 4).
        tolerance_grad, tolerance_change: the stopping tolerances above (defaults 1e-7, 1e-9).
        history_size: stored (s, y) pairs (default 100). line_search_fn: None or "strong_wolfe".
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-07, tolerance_change=1e-09,
                 history_size=100, line_search_fn=None):
        if max_eval is None and isinstance(max_iter, numbers.Integral):  # a bad max_iter: _check_group says so
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def add_param_group(self, group):
        """Only the first group is allowed: L-BFGS treats all parameters as one vector."""
        if self.param_groups:
            raise ValueError(f"{_GROUPS_ERROR}; got a parameter group beyond the first (LBFGS takes one list of "
                             f"parameters)")
        super().add_param_group(group)

    def _check_group(self, group):
        check_hyper("LBFGS", "lr", group["lr"])
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"LBFGS: {key} must be an integer >= 1; got {value!r}")
        for key in ("tolerance_grad", "tolerance_change"):
            check_hyper("LBFGS", key, group[key])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise RuntimeValueError(f"LBFGS: only 'strong_wolfe' is supported; got line_search_fn="
                                    f"{group['line_search_fn']!r}")

    def step(self, closure):
        """Run up to max_iter L-BFGS iterations and return the loss the closure gave first.

        Args:
            closure: a callable that clears the gradients, reevaluates the model, calls backward and returns the
                loss. It is called with gradient recording on, several times per step.
        """
        if not callable(closure):
            raise TypeError(f"LBFGS.step: needs a closure that reevaluates the model and returns the loss; got "
                            f"{type(closure).__name__}")
        group = self.param_groups[0]
        flat = _Flat(group["params"])
        state = self.state.setdefault(flat.params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = _evaluate(closure)
        state["func_evals"] += 1
        g = flat.grad()
        if flat.abs_max(g) <= group["tolerance_grad"]:
            return orig_loss
        hist = _History.load(state, flat)
        self._iterate(closure, group, state, flat, hist, float(orig_loss), g)
        hist.save(state, flat)
        return orig_loss

    def _iterate(self, closure, group, state, flat, hist, loss, g):
        """The iterations of one step, from loss and flat gradient g at the current parameters."""
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        n_iter, evals, optimal = 0, 1, False
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                hist.start(flat, g)
                t = min(1.0, 1.0 / flat.abs_sum(g)) * lr
            else:
                hist.remember(flat, g, group["history_size"])
                if "al" not in state:
                    state["al"] = [None] * group["history_size"]
                hist.direction(flat, g, len(state["al"]))
                t = lr
            hist.prev_g, hist.prev_loss = g, loss
            gtd = flat.dot(g, hist.d)
            if gtd > -tolerance_change:
                hist.t = t
                break
            new_evals = 0
            if group["line_search_fn"] is not None:
                loss, g, t, new_evals = self._line_search(closure, flat, hist.d, t, loss, g, gtd, max_eval - evals)
                flat.add_(t, hist.d)
                optimal = flat.abs_max(g) <= tolerance_grad
            else:
                flat.add_(t, hist.d)
                if n_iter != max_iter:  # as PyTorch: the last iteration's loss is not needed
                    loss = float(_evaluate(closure))
                    g = flat.grad()
                    optimal = flat.abs_max(g) <= tolerance_grad
                    new_evals = 1
            hist.t = t
            evals += new_evals
            state["func_evals"] += new_evals
            if n_iter == max_iter or evals >= max_eval or optimal:
                break
            if flat.abs_max(flat.b.mul(hist.d, float(t))) <= tolerance_change:
                break
            if abs(loss - hist.prev_loss) < tolerance_change:
                break

    def _line_search(self, closure, flat, d, t, loss, g, gtd, max_ls):
        """The strong-Wolfe search along d from the current parameters, which it leaves unchanged."""
        start = flat.clone()

        def evaluate(step):
            flat.add_(step, d)
            value = float(_evaluate(closure))
            grad = flat.grad()
            flat.restore(start)
            return value, grad, flat.dot(grad, d)

        return _strong_wolfe(evaluate, flat.abs_max(d), t, loss, g, gtd, max_ls)

    def _load_state_value(self, index, key, value, p):
        """A saved state entry checked and placed on the parameters' backend (PyTorch's keys)."""
        where = f"LBFGS.load_state_dict: state {index} {key!r}"
        flat = _Flat(self.param_groups[0]["params"])
        if key in ("func_evals", "n_iter"):
            number = value.item() if isinstance(value, Tensor) else np.asarray(value).item()
            if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0 or number != int(number):
                raise ValueError(f"{where} must be a non-negative integer; got {value!r}")
            return int(number)
        if key in ("d", "prev_flat_grad"):
            return None if value is None else flat.load_vector(where, value)
        if key in ("old_dirs", "old_stps"):
            return [flat.load_vector(where, v) for v in _as_list(where, value)]
        if key in ("t", "H_diag", "prev_loss"):
            return flat.load_scalar(where, value)
        if key in ("ro", "al"):
            return [flat.load_scalar(where, v) for v in _as_list(where, value)]
        raise ValueError(f"LBFGS.load_state_dict: state {index} has an unknown entry {key!r}; expected PyTorch's "
                         f"func_evals, n_iter, d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, al")


def _evaluate(closure):
    with enable_grad():
        return closure()


def _as_list(where, value):
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where} must be a list; got {type(value).__name__}")
    return value


class _Flat:
    """The parameters as one vector on the first parameter's backend, in their common dtype."""

    def __init__(self, params):
        self.params = params
        self.b = params[0]._backend
        self.dtype = np.result_type(*[p.dtype for p in params])
        self.numel = sum(p.numel() for p in params)

    def _here(self, a, backend):
        """Array a of `backend` as an array of this vector's backend and dtype."""
        if backend is not self.b:
            return self.b.asarray(backend.to_numpy(a), self.dtype)
        return a if a.dtype == self.dtype else self.b.astype(a, self.dtype)

    def grad(self):
        """The gradients, concatenated into a new vector (zeros for a parameter without one)."""
        parts = []
        for p in self.params:
            if p.grad is None:
                parts.append(self.b.zeros((p.numel(),), self.dtype))
            else:
                parts.append(self.b.reshape(self._here(_grad_array(p), p._backend), (p.numel(),)))
        return self.b.concatenate(parts, 0)

    def add_(self, t, d):
        """p += t * (p's part of d), in place in every parameter."""
        offset = 0
        for p in self.params:
            n = p.numel()
            part = self.b.reshape(self.b.getitem(d, (slice(offset, offset + n),)), p.shape)
            if p._backend is not self.b:
                part = p._backend.asarray(self.b.to_numpy(part), p.dtype)
            elif part.dtype != p.dtype:
                part = self.b.astype(part, p.dtype)
            p._backend.axpby_(p._data, 1, part, float(t))
            inplace.counter(p)[0] += 1  # an in-place change, as PyTorch counts it
            offset += n

    def clone(self):
        return [p._backend.copy(p._data) for p in self.params]

    def restore(self, saved):
        for p, data in zip(self.params, saved):
            p._backend.assign_(p._data, data)
            inplace.counter(p)[0] += 1

    def _number(self, a):
        return self.b.to_numpy(a)[()]  # a NumPy scalar of the vector's dtype, as PyTorch's 0-d tensor

    def dot(self, x, y):
        return self._number(self.b.matmul(x, y))

    def abs_max(self, x):
        return self._number(self.b.max(self.b.abs(x), None, False))

    def abs_sum(self, x):
        return self._number(self.b.sum(self.b.abs(x), None, False))

    def tensor(self, x):
        """A vector or NumPy scalar as a Tensor for the state (a Python number stays one)."""
        if isinstance(x, np.generic):
            x = self.b.asarray(x, self.dtype)
        elif not hasattr(x, "shape"):
            return x
        return Tensor._make(x, self.b, False, None, 0)

    def array(self, t):
        """A state Tensor's array on this backend (moved there, in place, if the parameters moved)."""
        if t._backend is not self.b:
            t._data, t._backend = self.b.asarray(t._backend.to_numpy(t._data), t.dtype), self.b
        return t._data

    def number(self, x):
        return self._number(self.array(x)) if isinstance(x, Tensor) else x

    def load_vector(self, where, value):
        host = value._host() if isinstance(value, Tensor) else np.asarray(value)
        if host.dtype.kind != "f" or host.shape != (self.numel,):
            raise ValueError(f"{where} must be a floating-point vector of the parameters' {self.numel} elements; "
                             f"got shape {host.shape}, dtype {host.dtype}")
        return Tensor(host, dtype=self.dtype, backend=self.b.name)

    def load_scalar(self, where, value):
        if value is None or (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.generic))):
            return value
        host = value._host() if isinstance(value, Tensor) else np.asarray(value)
        if host.dtype.kind not in "iuf" or host.size != 1:
            raise ValueError(f"{where} must be a number or a one-element tensor; got shape {host.shape}, dtype "
                             f"{host.dtype}")
        return Tensor(host.reshape(()), dtype=self.dtype, backend=self.b.name)


class _History:
    """A step's working copy of the state: the direction d and step t, the (s, y) pairs with ro = 1 / (y.s), the
    Hessian scale, the previous gradient and loss, and the two-loop's coefficients al."""

    @classmethod
    def load(cls, state, flat):
        h = cls()
        h.d, h.prev_g = (None if state.get(k) is None else flat.array(state[k]) for k in ("d", "prev_flat_grad"))
        h.dirs = [flat.array(x) for x in state.get("old_dirs") or ()]
        h.stps = [flat.array(x) for x in state.get("old_stps") or ()]
        h.ro = [flat.number(x) for x in state.get("ro") or ()]
        h.t, h.H_diag, h.prev_loss = (flat.number(state.get(k)) for k in ("t", "H_diag", "prev_loss"))
        h.al = None
        return h

    def save(self, state, flat):
        """Write the working copy back in PyTorch's order of the state's entries."""
        if self.al is not None:
            state["al"] = [None if a is None else flat.tensor(a) for a in self.al]
        state["d"] = flat.tensor(self.d)
        state["t"] = flat.tensor(self.t)
        state["old_dirs"] = [flat.tensor(x) for x in self.dirs]
        state["old_stps"] = [flat.tensor(x) for x in self.stps]
        state["ro"] = [flat.tensor(x) for x in self.ro]
        state["H_diag"] = flat.tensor(self.H_diag)
        state["prev_flat_grad"] = flat.tensor(self.prev_g)
        state["prev_loss"] = self.prev_loss

    def start(self, flat, g):
        """The first iteration ever: steepest descent, an empty history."""
        self.dirs, self.stps, self.ro, self.H_diag = [], [], [], 1
        self.d = flat.b.neg(g)

    def remember(self, flat, g, history_size):
        """Add the pair from the last move (s = t d, y = g - prev_g) if y.s > 1e-10, dropping the oldest."""
        b = flat.b
        y = b.sub(g, self.prev_g)
        s = b.mul(self.d, float(self.t))
        ys = flat.dot(y, s)
        if ys > 1e-10:
            if len(self.dirs) == history_size:
                del self.dirs[0], self.stps[0], self.ro[0]
            self.dirs.append(y)
            self.stps.append(s)
            self.ro.append(1.0 / ys)
            self.H_diag = ys / flat.dot(y, y)

    def direction(self, flat, g, al_size):
        """d = -H g by the two-loop recursion over the history."""
        b = flat.b
        al = [None] * max(al_size, len(self.dirs))
        q = b.neg(g)
        for i in range(len(self.dirs) - 1, -1, -1):
            al[i] = flat.dot(self.stps[i], q) * self.ro[i]
            b.axpby_(q, 1, self.dirs[i], float(-al[i]))
        r = b.mul(q, float(self.H_diag))
        for i in range(len(self.dirs)):
            be_i = flat.dot(self.dirs[i], r) * self.ro[i]
            b.axpby_(r, 1, self.stps[i], float(al[i] - be_i))
        self.d, self.al = r, al


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped to bounds (by
    default the interval between x1 and x2); the bounds' midpoint where the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    with np.errstate(all="ignore"):  # PyTorch's 0-d tensors give inf and NaN silently
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1 ** 2 - g1 * g2
        if not d2_square >= 0:
            return (lo + hi) / 2.0
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate, d_norm, t, f, g, gtd, max_ls):
    """PyTorch's strong-Wolfe line search (after minFunc): bracket steps until one satisfies f(t) <= f + c1 t gtd
    and |slope(t)| <= -c2 gtd or an interval must hold one, then shrink it by safeguarded cubic interpolation.

    Args:
        evaluate: step t -> (loss, gradient, slope along the direction) there.
        d_norm: the direction's largest magnitude. f, g, gtd: loss, gradient and slope at step 0.
        max_ls: evaluations allowed after the one at t.
    Returns:
        (loss, gradient, step, evaluations made).
    """
    new = (t, *evaluate(t))
    prev = (0, f, g, gtd)
    ls_iter, bracket, done = 0, None, False
    while ls_iter < max_ls:
        t, f_new, _, gtd_new = new
        if f_new > f + _C1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, new]
            break
        if abs(gtd_new) <= -_C2 * gtd:
            bracket, done = [new], True
            break
        if gtd_new >= 0:
            bracket = [prev, new]
            break
        step = _cubic_interpolate(prev[0], prev[1], prev[3], t, f_new, gtd_new,
                                  bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev, new = new, (step, *evaluate(step))
        ls_iter += 1
    if ls_iter == max_ls:  # no bracket found: choose between the start and the last step
        bracket = [(0, f, g, gtd), new]
    (t, f_new, g_new, _), zoom_evals = _zoom(evaluate, d_norm, f, gtd, bracket, done, max_ls - ls_iter)
    return f_new, g_new, t, 1 + ls_iter + zoom_evals


def _zoom(evaluate, d_norm, f, gtd, bracket, done, budget):
    """Shrink the bracket (points (step, loss, gradient, slope)) within `budget` evaluations until a point meets
    the strong Wolfe conditions or the interval is below tolerance; returns its lowest point and the evaluations."""
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient, evals = False, 0
    while not done and evals < budget:
        (a, f_a, _, s_a), (c, f_c, _, s_c) = bracket
        if abs(c - a) * d_norm < _LS_TOLERANCE:
            break
        t = _cubic_interpolate(a, f_a, s_a, c, f_c, s_c)
        top, bottom = max(bracket[0][0], bracket[1][0]), min(bracket[0][0], bracket[1][0])
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:  # too close to an end: move a tenth of the interval in, if again
            if insufficient or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        new = (t, *evaluate(t))
        evals += 1
        if new[1] > f + _C1 * t * gtd or new[1] >= bracket[low][1]:
            bracket[high] = new
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(new[3]) <= -_C2 * gtd:
                done = True
            elif new[3] * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    return bracket[low], evals
