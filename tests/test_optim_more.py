"""micrograd.optim beyond the update rules: PyTorch's signatures and state_dict layouts for every optimizer, its
implementation switches (foreach, capturable, differentiable, fused), its error messages, every optimizer on
every backend, and the learning-rate schedules (LambdaLR ... OneCycleLR, ReduceLROnPlateau) step by step
against torch.optim.lr_scheduler, their state_dicts and resuming."""
import inspect
import warnings

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd import nn, optim
from micrograd.optim import lr_scheduler
from nn_helpers import needs_torch

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adadelta", "RMSprop", "Adagrad"]
SCHEDULERS = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
              "OneCycleLR", "ReduceLROnPlateau"]


def _signature(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", OPTIMIZERS + SCHEDULERS)
def test_signatures_are_pytorchs(name):
    torch = needs_torch()
    ours = getattr(optim, name, None) or getattr(lr_scheduler, name)
    theirs = getattr(torch.optim, name, None) or getattr(torch.optim.lr_scheduler, name)
    assert _signature(ours.__init__) == _signature(theirs.__init__)
    assert [p[0] for p in _signature(ours.step)] == [p[0] for p in _signature(theirs.step)]


def _params(lib, dtype="float64"):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in [(3, 2), (2,)]]
    if lib is mg:
        return [nn.Parameter(mg.tensor(a)) for a in init]
    return [lib.nn.Parameter(lib.tensor(a)) for a in init]


def _steps(params, opt, lib, steps, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)))
        opt.step()


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(amsgrad=True)), ("AdamW", {}), ("Adadelta", {}),
    ("RMSprop", dict(momentum=0.9, centered=True)), ("RMSprop", {}), ("Adagrad", dict(initial_accumulator_value=0.5)),
])
def test_state_dict_layout_is_pytorchs(name, kwargs):
    torch = needs_torch()
    mp, tp = _params(mg), _params(torch)
    mopt, topt = getattr(optim, name)(mp, **kwargs), getattr(torch.optim, name)(tp, **kwargs)
    assert mopt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    assert mopt.state_dict()["state"].keys() == topt.state_dict()["state"].keys()  # Adagrad: from construction
    _steps(mp, mopt, mg, 2)
    _steps(tp, topt, torch, 2)
    ms, ts = mopt.state_dict(), topt.state_dict()
    assert ms["param_groups"] == ts["param_groups"] and ms["state"].keys() == ts["state"].keys()
    for i, state in ts["state"].items():
        assert list(ms["state"][i]) == list(state)  # same names, same order
        for key, value in state.items():
            if key == "step":
                assert ms["state"][i]["step"] == int(value)
            else:
                np.testing.assert_allclose(ms["state"][i][key].detach().numpy(), value.numpy(), rtol=1e-13)


@pytest.mark.parametrize("name, kwargs", [("Adadelta", dict(weight_decay=0.1)),
                                          ("RMSprop", dict(momentum=0.9, centered=True)),
                                          ("Adagrad", dict(lr_decay=0.1))])
def test_pytorch_state_dict_loads_and_continues_identically(name, kwargs):
    torch = needs_torch()
    mp, tp = _params(mg), _params(torch)
    topt = getattr(torch.optim, name)(tp, lr=0.05, **kwargs)
    _steps(tp, topt, torch, 3)
    sd = topt.state_dict()
    as_numpy = {"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()},
                "param_groups": sd["param_groups"]}
    for m, t in zip(mp, tp):
        m.data.copy_(mg.tensor(t.detach().numpy()))
    mopt = getattr(optim, name)(mp)
    mopt.load_state_dict(as_numpy)
    assert mopt.param_groups[0]["lr"] == 0.05
    _steps(mp, mopt, mg, 3, seed=2)
    _steps(tp, topt, torch, 3, seed=2)
    for m, t in zip(mp, tp):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_foreach_is_accepted_and_changes_nothing(name):
    results = []
    for foreach in (None, False, True):
        params = _params(mg)
        opt = getattr(optim, name)(params, lr=0.01, foreach=foreach)
        _steps(params, opt, mg, 3)
        results.append([p.detach().numpy() for p in params])
        assert opt.param_groups[0]["foreach"] is foreach
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, flag", [(n, f) for n in OPTIMIZERS for f in ("capturable", "differentiable", "fused")
                                        if f in inspect.signature(getattr(optim, n)).parameters])
def test_unsupported_switches_raise_naming_them(name, flag):
    with pytest.raises(NotImplementedError, match=f"{name}: {flag}=True is not supported by micrograd"):
        getattr(optim, name)(_params(mg), **{flag: True})
    opt = getattr(optim, name)(_params(mg))
    sd = opt.state_dict()
    sd["param_groups"][0][flag] = True  # a PyTorch checkpoint made with it
    with pytest.raises(NotImplementedError, match=f"{flag}=True"):
        opt.load_state_dict(sd)
    assert not opt.param_groups[0][flag]


def test_unknown_keywords_raise():
    with pytest.raises(TypeError, match="nesterov"):
        optim.RMSprop(_params(mg), nesterov=True)
    with pytest.raises(ValueError, match="foreach must be None, True or False"):
        optim.Adagrad(_params(mg), foreach="yes")


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.Adadelta(p, lr=-1), "Adadelta: Invalid learning rate: -1"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Adadelta: Invalid rho value: 1.5"),
    (lambda p: optim.Adadelta(p, eps=-1e-6), "Invalid epsilon value: -1e-06"),
    (lambda p: optim.Adadelta(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "RMSprop: Invalid alpha value: -0.5"),
    (lambda p: optim.RMSprop(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.RMSprop(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Adagrad: Invalid lr_decay value: -0.1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adagrad([{"params": p[:1]}, {"params": p[1:], "lr": -2.0}]), "Invalid learning rate: -2.0"),
])
def test_bad_hyperparameters_raise_pytorchs_message(make, match):
    with pytest.raises(ValueError, match=match):
        make(_params(mg))


@pytest.mark.parametrize("name", ["Adadelta", "RMSprop", "Adagrad"])
def test_new_optimizers_on_every_backend(name, backend):
    results = {}
    for which in ("numpy", backend):
        with mg.use_backend(which):
            mg.manual_seed(0)
            model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
            opt = getattr(optim, name)(model.parameters(), lr=0.01)
            x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
            for _ in range(3):
                opt.zero_grad()
                F.cross_entropy(model(mg.tensor(x)), [0, 1, 2, 0]).backward()
                opt.step()
            assert all(p.backend == which for p in model.parameters())
            assert all(t.backend == which for s in opt.state.values() for t in s.values() if isinstance(t, mg.Tensor))
            results[which] = [p.detach().numpy() for p in model.parameters()]
    for a, b in zip(results["numpy"], results[backend]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_step_bumps_the_version_and_updates_in_place():
    for name in ("Adadelta", "RMSprop", "Adagrad"):
        p = nn.Parameter(mg.ones(3))
        data, version = p._data, p._version
        opt = getattr(optim, name)([p])
        p.grad = mg.ones(3)
        opt.step()
        assert p._data is data and p._version == version + 1
        assert (p.detach().numpy() < 1).all()


# learning-rate schedules

class Halving:
    """A callable object: its attributes go into LambdaLR's state_dict, as PyTorch's do."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, epoch):
        return self.base ** (epoch // 4)


SCHEDULES = [
    ("lambda", "SGD", lambda lib, o: lib.LambdaLR(o, [lambda e: 0.9 ** e, Halving()])),
    ("multiplicative", "SGD", lambda lib, o: lib.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 1.0)),
    ("multistep", "SGD", lambda lib, o: lib.MultiStepLR(o, [3, 7, 7, 12], 0.5)),
    ("exponential", "SGD", lambda lib, o: lib.ExponentialLR(o, 0.9)),
    ("onecycle", "SGD", lambda lib, o: lib.OneCycleLR(o, [1.0, 0.5], total_steps=25)),
    ("onecycle_adam_linear_three_phase", "Adam", lambda lib, o: lib.OneCycleLR(
        o, 0.01, epochs=5, steps_per_epoch=5, pct_start=0.25, anneal_strategy="linear", three_phase=True,
        base_momentum=[0.8, 0.7], max_momentum=0.9, div_factor=10.0, final_div_factor=100.0)),
    ("onecycle_rmsprop_no_momentum_cycle", "RMSprop", lambda lib, o: lib.OneCycleLR(
        o, 0.01, total_steps=25, cycle_momentum=False)),
    ("onecycle_rmsprop", "RMSprop", lambda lib, o: lib.OneCycleLR(o, 0.02, total_steps=25)),
    ("cosine", "SGD", lambda lib, o: lib.CosineAnnealingLR(o, T_max=6, eta_min=0.01)),
]


def _two_groups(lib, name):
    if lib is lr_scheduler:
        return getattr(optim, name)([{"params": [nn.Parameter(mg.ones(1))]},
                                     {"params": [nn.Parameter(mg.ones(1))], "lr": 0.3}], lr=0.1)
    torch = needs_torch()
    return getattr(torch.optim, name)([{"params": [torch.nn.Parameter(torch.ones(1))]},
                                       {"params": [torch.nn.Parameter(torch.ones(1))], "lr": 0.3}], lr=0.1)


def _momenta(opt):
    return [g["betas"] if "betas" in g else g.get("momentum") for g in opt.param_groups]


@pytest.mark.parametrize("case", SCHEDULES, ids=[c[0] for c in SCHEDULES])
def test_schedules_match_pytorch_step_by_step(case):
    torch = needs_torch()
    _, name, make = case
    mopt, topt = _two_groups(lr_scheduler, name), _two_groups(torch.optim.lr_scheduler, name)
    ms, ts = make(lr_scheduler, mopt), make(torch.optim.lr_scheduler, topt)
    for _ in range(25):
        assert ms.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        assert [g["lr"] for g in mopt.param_groups] == ms.get_last_lr() and ms.last_epoch == ts.last_epoch
        assert _momenta(mopt) == pytest.approx(_momenta(topt), rel=1e-12)
        mopt.step()
        topt.step()
        ms.step()
        ts.step()
    assert ms.state_dict().keys() == ts.state_dict().keys()


@pytest.mark.parametrize("case", SCHEDULES, ids=[c[0] for c in SCHEDULES])
def test_schedule_resumes_from_a_saved_state(case, tmp_path):
    _, name, make = case
    opt = _two_groups(lr_scheduler, name)
    sched = make(lr_scheduler, opt)
    for _ in range(8):
        opt.step()
        sched.step()
    mg.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "epoch": 8}, tmp_path / "ckpt.pt")
    expected = []
    for _ in range(10):
        opt.step()
        sched.step()
        expected.append((sched.get_last_lr(), _momenta(opt)))
    opt2 = _two_groups(lr_scheduler, name)
    sched2 = make(lr_scheduler, opt2)
    ckpt = mg.load(tmp_path / "ckpt.pt")
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    assert ckpt["epoch"] == 8 and sched2.last_epoch == 8
    got = []
    for _ in range(10):
        opt2.step()
        sched2.step()
        got.append((sched2.get_last_lr(), _momenta(opt2)))
    assert got == expected


def test_multistep_milestones_stay_a_counter_through_save_and_load(tmp_path):
    opt = _two_groups(lr_scheduler, "SGD")
    sched = lr_scheduler.MultiStepLR(opt, [2, 5, 5])
    mg.save(sched.state_dict(), tmp_path / "s")
    state = mg.load(tmp_path / "s")
    assert type(state["milestones"]) is type(sched.milestones) and state["milestones"] == {2: 1, 5: 2}
    assert state == sched.state_dict()


@pytest.mark.parametrize("kwargs", [
    dict(patience=2, cooldown=1, min_lr=[0.001, 0.01], factor=0.5, threshold=0.1, threshold_mode="abs"),
    dict(mode="max", patience=1, factor=0.3, threshold=0.05),
    dict(mode="max", patience=0, threshold_mode="abs", eps=0.05),
    dict(patience=3),
])
def test_reduce_lr_on_plateau_matches_pytorch(kwargs):
    torch = needs_torch()
    mopt, topt = _two_groups(lr_scheduler, "SGD"), _two_groups(torch.optim.lr_scheduler, "SGD")
    ms = lr_scheduler.ReduceLROnPlateau(mopt, **kwargs)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = [1.0, 0.95, 0.9, 0.85, 0.8, 0.5, 0.6, 0.7, 0.5, 0.45, 0.44, 0.43, 0.42, 0.9, 1.1, 1.2] * 3
    for i, metric in enumerate(metrics):
        ms.step(mg.tensor(metric, dtype="float64") if i % 2 else metric)
        ts.step(metric)
        assert ms.get_last_lr() == ts.get_last_lr() == [g["lr"] for g in mopt.param_groups]
        assert (ms.best, ms.num_bad_epochs, ms.cooldown_counter) == (ts.best, ts.num_bad_epochs, ts.cooldown_counter)
    assert ms.state_dict() == ts.state_dict()


def test_reduce_lr_on_plateau_state_round_trips_through_save(tmp_path):
    opt = _two_groups(lr_scheduler, "SGD")
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1)
    mg.save(sched.state_dict(), tmp_path / "s")  # best is -inf before the first step
    again = lr_scheduler.ReduceLROnPlateau(_two_groups(lr_scheduler, "SGD"))
    again.load_state_dict(mg.load(tmp_path / "s"))
    assert again.mode == "max" and again.best == -float("inf") and again._is_better(1.0, 0.5)


def test_step_with_an_epoch_warns_and_uses_the_closed_form():
    torch = needs_torch()
    mopt, topt = _two_groups(lr_scheduler, "SGD"), _two_groups(torch.optim.lr_scheduler, "SGD")
    ms = lr_scheduler.MultiStepLR(mopt, [2, 4], 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own deprecation warning
        ts = torch.optim.lr_scheduler.MultiStepLR(topt, [2, 4], 0.5)
        ts.step(5)
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)` is deprecated"):
        ms.step(5)
    assert ms.get_last_lr() == ts.get_last_lr() == [0.025, 0.075]
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        ms.get_lr()


def test_resuming_with_last_epoch_matches_pytorch():
    torch = needs_torch()
    out = []
    for lib, sched_lib in ((mg, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = _two_groups(sched_lib, "SGD")
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        sched = sched_lib.ExponentialLR(opt, 0.5, last_epoch=3)
        lrs = [sched.get_last_lr()]
        for _ in range(3):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        out.append(lrs)
    assert out[0] == out[1]


@pytest.mark.parametrize("make, error, match", [
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "LambdaLR: Expected 2 lr_lambdas, but got 1"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function, but got float"),
    (lambda o: lr_scheduler.MultiStepLR(o, [2, 3.5]), TypeError, "milestones must be ints; got 3.5"),
    (lambda o: lr_scheduler.ExponentialLR([], 0.9), TypeError, "ExponentialLR: list is not an Optimizer"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0), ValueError,
     r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=-1), ValueError,
     "Expected positive integer steps_per_epoch, but got -1"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, total_steps=10, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda o: lr_scheduler.OneCycleLR(o, [1.0], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 1 values, param_groups has 2."),
    (lambda o: lr_scheduler.OneCycleLR(optim.Adagrad(o.param_groups[0]["params"]), 1.0, total_steps=10), ValueError,
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled; Adagrad has neither"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, r"Factor should be < 1\.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="median"), ValueError, "mode median is unknown!"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold mode pct is unknown!"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
])
def test_scheduler_errors_carry_pytorchs_messages(make, error, match):
    with pytest.raises(error, match=match):
        make(_two_groups(lr_scheduler, "SGD"))


def test_one_cycle_refuses_to_step_past_the_end():
    opt = _two_groups(lr_scheduler, "SGD")
    sched = lr_scheduler.OneCycleLR(opt, 1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()


def test_reduce_lr_on_plateau_after_a_group_is_added():
    opt = _two_groups(lr_scheduler, "SGD")
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [nn.Parameter(mg.ones(1))], "lr": 1.0})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match=r"The number of param groups in the `optimizer` \(3\) differs"):
        sched.step(2.0)
    same = lr_scheduler.ReduceLROnPlateau(_two_groups(lr_scheduler, "SGD"), patience=0, min_lr=0.05)
    same.optimizer.add_param_group({"params": [nn.Parameter(mg.ones(1))], "lr": 1.0})
    same.step(1.0)
    same.step(2.0)
    assert same.get_last_lr() == pytest.approx([0.05, 0.05, 0.1])
