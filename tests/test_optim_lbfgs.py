"""optim.LBFGS against torch.optim.LBFGS: trajectories step by step (fixed step and strong-Wolfe line search,
float64 and float32), the state PyTorch keeps, the closure contract, state_dict round trips, its errors, and every
backend."""
import inspect

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn, optim
from nn_helpers import needs_torch

_RNG = np.random.default_rng(7)
_M = _RNG.standard_normal((5, 5))
_X, _Y = _RNG.standard_normal((16, 3)), _RNG.standard_normal((16, 1))


def _quadratic(params, data):
    w, v, _unused = params
    a, c, s = data
    return 0.5 * (w @ (a @ w)) - (c * w).sum() + (v * v * s).sum()


def _rosenbrock(params, data):
    x, = params
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _mlp(params, data):
    w1, b1, w2, b2 = params
    x, y = data
    return (((x @ w1 + b1).tanh() @ w2 + b2 - y) ** 2).mean()


def _shallow(params, data):
    x, = params
    s, = data
    return 1e-6 * ((x - 1) ** 2 * s).sum()


# name: (loss, initial parameters, constant inputs). The quadratic's third parameter is unused: its gradient stays
# None, a block of zeros in the flat gradient.
PROBLEMS = {
    "quadratic": (_quadratic, [_RNG.standard_normal(5), _RNG.standard_normal((2, 3)), _RNG.standard_normal(2)],
                  [_M @ _M.T + np.eye(5), _RNG.standard_normal(5), _RNG.uniform(0.5, 3.0, (2, 3))]),
    "rosenbrock": (_rosenbrock, [np.array([-1.5, 2.0])], []),
    "mlp": (_mlp, [_RNG.standard_normal((3, 8)) * 0.5, np.zeros(8), _RNG.standard_normal((8, 1)) * 0.5, np.zeros(1)],
            [_X, np.sin(_X).sum(1, keepdims=True) + 0.1 * _Y]),
    "shallow": (_shallow, [_RNG.standard_normal(4)], [_RNG.uniform(1.0, 3.0, 4)]),
}


class _Run:
    """One problem under one library's LBFGS: its parameters, optimizer and a counting closure."""

    def __init__(self, lib, problem, dtype="float64", init=None, **kwargs):
        """dtype: one for everything, or a list with one per parameter (the constants in their common dtype)."""
        loss, start, consts = PROBLEMS[problem]
        self.lib, self.loss, self.calls = lib, loss, 0
        dtypes = dtype if isinstance(dtype, list) else [dtype] * len(start)
        self.params = [lib.nn.Parameter(lib.tensor(np.array(a, dtype=t))) for a, t in zip(init or start, dtypes)]
        self.data = [lib.tensor(np.array(c, dtype=np.result_type(*dtypes))) for c in consts]
        self.opt = lib.optim.LBFGS(self.params, **kwargs)

    def closure(self):
        self.calls += 1
        self.opt.zero_grad()
        out = self.loss(self.params, self.data)
        out.backward()
        return out

    def step(self):
        """One optimizer step: (the loss it returned, the parameters after it)."""
        loss = self.opt.step(self.closure)
        return loss.item(), [p.detach().numpy().copy() for p in self.params]

    def state(self):
        return {k: _host(v) for k, v in self.opt.state_dict()["state"][0].items()}


def _host(v):
    if isinstance(v, list):
        return [_host(x) for x in v]
    return np.array(v.detach().numpy()) if hasattr(v, "detach") else v


def _assert_close(ours, theirs, rtol, what):
    """Equal up to rtol relative to the largest magnitude of each tensor or list of them (rounding differences
    scale with a vector's norm, not with each element); None and dict entries must match exactly."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), what
        for key in theirs:
            _assert_close(ours[key], theirs[key], rtol, f"{what}[{key!r}]")
        return
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), what
        assert [x is None for x in ours] == [x is None for x in theirs], what
        if any(isinstance(x, (list, tuple)) for x in theirs):  # steps: (loss, parameters) pairs
            for i, (a, b) in enumerate(zip(ours, theirs)):
                _assert_close(a, b, rtol, f"{what}[{i}]")
            return
        ours, theirs = ([np.ravel(x) for x in v if x is not None] for v in (ours, theirs))
        if not theirs:
            return
        ours, theirs = np.concatenate(ours), np.concatenate(theirs)
    elif theirs is None:
        assert ours is None, what
        return
    theirs = np.asarray(theirs)
    scale = np.abs(theirs).max() if theirs.size else 0.0
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=rtol * scale, err_msg=what)


def _compare(problem, dtype, steps, rtol, **kwargs):
    """Run `steps` steps of both LBFGS from the same start; compare losses, parameters, state and counts."""
    torch = needs_torch()
    ours, theirs = _Run(mg, problem, dtype, **kwargs), _Run(torch, problem, dtype, **kwargs)
    for i in range(steps):
        (loss_a, params_a), (loss_b, params_b) = ours.step(), theirs.step()
        _assert_close(loss_a, loss_b, rtol, f"loss of step {i}")
        for j, (a, b) in enumerate(zip(params_a, params_b)):
            _assert_close(a, b, rtol, f"parameter {j} after step {i}")
    state_a, state_b = ours.state(), theirs.state()
    assert list(state_a) == list(state_b)  # PyTorch's entries, in PyTorch's order
    for key in ("func_evals", "n_iter"):
        assert state_a[key] == state_b[key], key
    for key in state_b.keys() - {"func_evals", "n_iter"}:
        _assert_close(state_a[key], state_b[key], rtol, key)
    assert ours.calls == theirs.calls == state_a["func_evals"]
    assert [p._version for p in ours.params] == [p._version for p in theirs.params]
    return ours


# Steps stop before the iterates reach the minimum, where 1 / (y.s) of nearly equal gradients and the line
# search's branches amplify rounding differences of any two implementations.
@pytest.mark.parametrize("problem, kwargs, steps", [
    ("quadratic", dict(lr=0.5, max_iter=4), 4),
    ("quadratic", dict(max_iter=4, line_search_fn="strong_wolfe"), 3),
    ("quadratic", dict(lr=0.5, history_size=2, max_iter=6), 4),
    ("quadratic", dict(lr=3, history_size=2, max_iter=4, line_search_fn="strong_wolfe"), 3),
    ("rosenbrock", dict(lr=0.1, max_iter=10), 4),
    ("rosenbrock", dict(max_iter=10, line_search_fn="strong_wolfe"), 2),
    ("rosenbrock", dict(lr=3, max_iter=10, line_search_fn="strong_wolfe"), 2),  # long first steps: zoom
    ("rosenbrock", dict(lr=0.01, max_iter=6, line_search_fn="strong_wolfe"), 2),  # short: extrapolate, run out
    ("rosenbrock", dict(history_size=3, max_iter=7, max_eval=9), 3),
    ("rosenbrock", dict(history_size=3, max_iter=7, max_eval=9, line_search_fn="strong_wolfe"), 2),
    ("mlp", dict(lr=0.5, max_iter=5, history_size=3), 3),
    ("mlp", dict(max_iter=5, history_size=3, line_search_fn="strong_wolfe"), 3),
    ("mlp", dict(lr=100, max_iter=10, line_search_fn="strong_wolfe"), 2),
    ("quadratic", dict(lr=0.5, max_iter=10, tolerance_change=0.1), 3),  # stops on a small change of loss
    ("shallow", dict(max_iter=5, tolerance_change=0), 2),  # y.s below 1e-10: no pair is stored
])
def test_float64_trajectories_match_pytorch(problem, kwargs, steps):
    _compare(problem, "float64", steps, 1e-10, **kwargs)


@pytest.mark.parametrize("problem, kwargs, steps", [
    ("quadratic", dict(lr=0.5, max_iter=3), 2),
    ("quadratic", dict(lr=3, max_iter=2, line_search_fn="strong_wolfe"), 2),
    ("mlp", dict(lr=0.5, max_iter=4, history_size=3), 1),
    ("mlp", dict(max_iter=4, history_size=3, line_search_fn="strong_wolfe"), 1),
])
def test_float32_trajectories_match_pytorch(problem, kwargs, steps):
    _compare(problem, "float32", steps, 1e-5, **kwargs)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_parameters_of_two_dtypes_match_pytorch(line_search_fn):
    """A float32 parameter among float64 ones: one float64 vector (PyTorch's cat promotes), each update cast."""
    _compare("quadratic", ["float64", "float32", "float64"], 2, 1e-5, max_iter=3, line_search_fn=line_search_fn)


def test_converges_as_pytorch():
    """Rosenbrock solved: the tolerances end the last steps early, after as many evaluations as PyTorch's."""
    ours = _compare("rosenbrock", "float64", 6, 1e-8, line_search_fn="strong_wolfe")
    np.testing.assert_allclose(ours.params[0].detach().numpy(), [1.0, 1.0], atol=1e-5)


def test_step_at_a_minimum_evaluates_once_and_moves_nothing():
    torch = needs_torch()
    for lib in (mg, torch):
        p = lib.nn.Parameter(lib.zeros(3, dtype=lib.float64))
        opt = lib.optim.LBFGS([p], line_search_fn="strong_wolfe")
        calls = []

        def closure():
            calls.append(1)
            opt.zero_grad()
            loss = ((p - 1e-9) ** 2).sum()  # gradient 2e-9 < tolerance_grad
            loss.backward()
            return loss

        assert opt.step(closure).item() == pytest.approx(3e-18)
        state = opt.state_dict()["state"][0]
        assert (len(calls), p._version, state) == (1, 0, {"func_evals": 1, "n_iter": 0}), lib.__name__


def _wavy(rng):
    """sum(a x^2 / 2 + w sin(k x)) and its gradient in 2-D: lines through it have several local minima."""
    a, k, w = rng.uniform(0.1, 3, 2), rng.uniform(0.5, 6, 2), rng.uniform(0, 2, 2)
    return lambda x: (float(np.sum(0.5 * a * x * x + w * np.sin(k * x))), a * x + w * k * np.cos(k * x))


def _kink(rng):
    """sqrt(x^2 + e) in 1-D with a kink narrower than the search's tolerance: the zoom gives up on the bracket."""
    e = 10 ** rng.uniform(-30, -20)
    return lambda x: (float(np.sum(np.sqrt(x * x + e))), x / np.sqrt(x * x + e))


@pytest.mark.parametrize("family, dims, log_t0", [(_wavy, 2, (-3, 2)), (_kink, 1, (-1, 1))], ids=["wavy", "kink"])
def test_line_search_matches_pytorchs(family, dims, log_t0):
    """The strong-Wolfe search alone, along descent directions from many first steps and with 1 to 25
    evaluations allowed, against PyTorch's: every branch of bracketing and zoom."""
    torch = needs_torch()
    reference = getattr(pytest.importorskip("torch.optim.lbfgs"), "_strong_wolfe", None)
    if reference is None:
        pytest.skip("this PyTorch has no torch.optim.lbfgs._strong_wolfe to compare with")
    from micrograd.optim.lbfgs import _strong_wolfe

    rng = np.random.default_rng(3)
    for case in range(100):
        fg = family(rng)
        x0 = rng.standard_normal(dims) * 2
        f0, g0 = fg(x0)
        d = -g0 * rng.uniform(0.2, 2, dims)
        t0, max_ls = 10 ** rng.uniform(*log_t0), int(rng.integers(1, 26))

        def slope(g):  # PyTorch's dot for both: the searches then see the same numbers
            return np.float64(torch.tensor(g).dot(torch.tensor(d)).item())

        def evaluate(t):
            f, g = fg(x0 + t * d)
            return f, g, slope(g)

        def evaluate_torch(x, t, direction):
            f, g = fg(x0 + float(t) * d)
            return f, torch.tensor(g)

        f, g, t, evals = _strong_wolfe(evaluate, np.abs(d).max(), t0, f0, g0, slope(g0), max_ls)
        f_t, g_t, t_t, evals_t = reference(evaluate_torch, None, t0, torch.tensor(d), f0, torch.tensor(g0),
                                           torch.tensor(slope(g0)), max_ls=max_ls)
        assert evals == evals_t, case
        np.testing.assert_allclose([f, float(t), *g], [f_t, float(t_t), *g_t.numpy()], rtol=1e-13, atol=1e-300,
                                   err_msg=str(case))


def test_signature_and_defaults_are_pytorchs():
    torch = needs_torch()

    def signature(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert signature(optim.LBFGS.__init__) == signature(torch.optim.LBFGS.__init__)
    assert [p[0] for p in signature(optim.LBFGS.step)] == [p[0] for p in signature(torch.optim.LBFGS.step)]
    ours, theirs = _Run(mg, "rosenbrock").opt, _Run(torch, "rosenbrock").opt
    assert ours.defaults == theirs.defaults
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


@pytest.mark.parametrize("max_iter, max_eval", [(20, 25), (7, 8), (1, 1), (4, 5)])
def test_max_eval_defaults_to_five_quarters_of_max_iter(max_iter, max_eval):
    run = _Run(mg, "rosenbrock", max_iter=max_iter)
    assert run.opt.param_groups[0]["max_eval"] == max_eval
    run.step()
    assert run.calls <= max_eval


def test_closure_contract():
    """step needs a closure, calls it with recording on (also under no_grad), returns its first loss, and updates
    the same Parameter objects in place."""
    run = _Run(mg, "quadratic", max_iter=3)
    with pytest.raises(TypeError, match="LBFGS.step: needs a closure"):
        run.opt.step(None)
    with pytest.raises(TypeError):
        run.opt.step()
    returned, modes = [], []

    def closure():
        modes.append(mg.is_grad_enabled())
        returned.append(run.closure())
        return returned[-1]

    params, arrays = list(run.params), [p._data for p in run.params]
    with mg.no_grad():
        loss = run.opt.step(closure)
    assert loss is returned[0] and len(returned) == 3 and all(modes)
    assert all(p is q for p, q in zip(run.params, params)) and all(p._data is a for p, a in zip(run.params, arrays))
    assert returned[-1].item() < returned[0].item()


def test_state_dict_round_trip_continues_identically(tmp_path):
    kwargs = dict(max_iter=5, history_size=3, line_search_fn="strong_wolfe")
    first = _Run(mg, "mlp", **kwargs)
    for _ in range(2):
        first.step()
    mg.save(first.opt.state_dict(), tmp_path / "lbfgs.npz")
    second = _Run(mg, "mlp", init=[p.detach().numpy() for p in first.params], **kwargs)
    second.opt.load_state_dict(mg.load(tmp_path / "lbfgs.npz"))
    _assert_close(second.state(), first.state(), 0, "loaded state")
    for i in range(3):
        (loss_a, params_a), (loss_b, params_b) = first.step(), second.step()
        assert loss_a == loss_b
        _assert_close(params_b, params_a, 0, f"parameters after step {i}")
    assert second.state().keys() == first.state().keys()


def test_load_state_dict_checks_the_entries():
    run = _Run(mg, "quadratic", max_iter=2)
    run.step()
    saved = run.opt.state_dict()
    bad = {**saved, "state": {0: {**saved["state"][0], "d": mg.zeros(3)}}}
    with pytest.raises(ValueError, match=r"LBFGS.load_state_dict: state 0 'd' .* 13 elements; got shape \(3,\)"):
        run.opt.load_state_dict(bad)
    bad = {**saved, "state": {0: {**saved["state"][0], "ro": mg.ones(2)}}}
    with pytest.raises(ValueError, match="'ro' must be a list; got Tensor"):
        run.opt.load_state_dict(bad)
    bad = {**saved, "state": {0: {**saved["state"][0], "n_iter": -1}}}
    with pytest.raises(ValueError, match="'n_iter' must be a non-negative integer; got -1"):
        run.opt.load_state_dict(bad)
    bad = {**saved, "state": {0: {**saved["state"][0], "H_diag": mg.ones(2)}}}
    with pytest.raises(ValueError, match=r"'H_diag' must be a number or a one-element tensor; got shape \(2,\)"):
        run.opt.load_state_dict(bad)
    bad = {**saved, "state": {0: {**saved["state"][0], "step": 3}}}
    with pytest.raises(ValueError, match="unknown entry 'step'"):
        run.opt.load_state_dict(bad)


def test_parameter_groups_are_refused_as_pytorch():
    torch = needs_torch()
    message = "LBFGS doesn't support per-parameter options \\(parameter groups\\)"
    for lib in (mg, torch):
        a, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))
        with pytest.raises(ValueError, match=message):
            lib.optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    opt = optim.LBFGS([nn.Parameter(mg.ones(2))])
    with pytest.raises(ValueError, match=message):
        opt.add_param_group({"params": [nn.Parameter(mg.ones(3))]})
    assert len(opt.param_groups) == 1


def test_hyperparameter_errors():
    p = nn.Parameter(mg.ones(2))
    with pytest.raises(ValueError, match="LBFGS: Invalid learning rate: -1"):
        optim.LBFGS([p], lr=-1)
    for error in (RuntimeError, ValueError):
        with pytest.raises(error, match="only 'strong_wolfe' is supported; got line_search_fn='armijo'"):
            optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="LBFGS: history_size must be an integer >= 1; got 0"):
        optim.LBFGS([p], history_size=0)
    with pytest.raises(ValueError, match="LBFGS: max_iter must be an integer >= 1; got 2.5"):
        optim.LBFGS([p], max_iter=2.5, max_eval=3)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_every_backend_follows_numpy(backend, line_search_fn):
    steps = {}
    for name in ("numpy", backend):
        with mg.use_backend(name):
            run = _Run(mg, "mlp", max_iter=6, history_size=4, lr=1 if line_search_fn else 0.5,
                       line_search_fn=line_search_fn)
            steps[name] = [run.step() for _ in range(2)]
            assert all(p.backend == name for p in run.params)
            assert run.opt.state[run.params[0]]["d"].backend == name
    _assert_close(steps[backend], steps["numpy"], 1e-9, backend)


def test_parameters_on_two_cpu_backends_follow_numpy():
    if "numba" not in mg.available_backends():
        pytest.skip("the numba backend is unavailable here")
    runs = []
    for mixed in (False, True):
        with mg.use_backend("numpy"):
            run = _Run(mg, "quadratic", max_iter=4, line_search_fn="strong_wolfe")
        if mixed:
            run.params[1].data = run.params[1].detach().to("numba")
        runs.append([run.step() for _ in range(2)])
        assert [p.backend for p in run.params] == ["numpy", "numba" if mixed else "numpy", "numpy"]
    _assert_close(runs[1], runs[0], 1e-12, "mixed")


def test_state_follows_parameters_moved_to_another_backend():
    if "numba" not in mg.available_backends():
        pytest.skip("the numba backend is unavailable here")
    runs = []
    for move in (False, True):
        with mg.use_backend("numpy"):
            mg.manual_seed(0)
            model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
            data = [mg.tensor(_X), mg.tensor(_Y)]
            opt = optim.LBFGS(model.parameters(), max_iter=4, line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                loss = ((model(data[0]) - data[1]) ** 2).mean()
                loss.backward()
                return loss

            opt.step(closure)
            if move:
                model.to("numba")
                data = [t.to("numba") for t in data]
            opt.step(closure)
            runs.append([p.detach().numpy() for p in model.parameters()])
            assert opt.state[model[0].weight]["prev_flat_grad"].backend == ("numba" if move else "numpy")
    _assert_close(runs[1], runs[0], 1e-10, "moved")
