"""micrograd.optim: update rules against PyTorch step by step, state_dict round trips that resume training
exactly, learning-rate schedules, clip_grad_norm_, hyperparameter checks, and every backend."""
import math

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd import nn, optim
from micrograd.optim import lr_scheduler
from nn_helpers import needs_torch

SHAPES = [(4, 3), (3,), (2, 2, 2)]

# (id, class name, keyword arguments, second group's overrides)
CONFIGS = [
    ("sgd", "SGD", dict(lr=0.1), {}),
    ("sgd_momentum_dampening_wd", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01), {"lr": 0.2}),
    ("sgd_nesterov_maximize", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True), {}),
    ("adam", "Adam", dict(lr=0.01), {}),
    ("adam_wd_amsgrad_betas", "Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True),
     {"lr": 0.001}),
    ("adam_maximize", "Adam", dict(lr=0.01, maximize=True), {}),
    ("adamw", "AdamW", dict(lr=0.01), {}),
    ("adamw_amsgrad", "AdamW", dict(lr=0.03, weight_decay=0.5, amsgrad=True), {"weight_decay": 0.0}),
    ("adam_decoupled_foreach", "Adam", dict(lr=0.02, weight_decay=0.3, decoupled_weight_decay=True, foreach=False),
     {}),
    ("adadelta", "Adadelta", {}, {}),
    ("adadelta_wd_maximize", "Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True),
     {"rho": 0.95, "lr": 2.0}),
    ("rmsprop", "RMSprop", dict(lr=0.01), {}),
    ("rmsprop_momentum_centered_wd", "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True,
                                                     weight_decay=0.1), {"momentum": 0.0}),
    ("rmsprop_centered_low_alpha_maximize", "RMSprop", dict(lr=0.005, alpha=0.3, eps=1e-6, centered=True,
                                                            maximize=True), {"centered": False, "momentum": 0.5}),
    ("adagrad", "Adagrad", dict(lr=0.1), {}),
    ("adagrad_decay_wd_maximize", "Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, eps=1e-8,
                                                  initial_accumulator_value=0.3, maximize=True),
     {"lr_decay": 0.0, "initial_accumulator_value": 2.0}),  # PyTorch starts every sum at the constructor's value
]
IDS = [c[0] for c in CONFIGS]


def _run_against_torch(config, dtype, steps=25):
    """Apply the same sequence of gradients to the same parameters in both libraries; per-step max |diff|."""
    torch = needs_torch()
    _, cls, kwargs, override = config
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    mp = [nn.Parameter(mg.tensor(a)) for a in init]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], **override}]  # noqa: E731
    mopt = getattr(optim, cls)(groups(mp), **kwargs)
    topt = getattr(torch.optim, cls)(groups(tp), **kwargs)
    worst = 0.0
    for step in range(steps):
        for m, t in zip(mp, tp):
            g = (rng.standard_normal(m.shape) * (1 + step % 3)).astype(dtype)
            m.grad, t.grad = mg.tensor(g), torch.tensor(g)
        mopt.step()
        topt.step()
        for m, t in zip(mp, tp):
            assert m.dtype == np.dtype(dtype)
            worst = max(worst, float(np.abs(m.detach().numpy().astype(np.float64) - t.detach().numpy()).max()))
    return worst


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_update_rule_matches_pytorch_float64(config):
    assert _run_against_torch(config, "float64") < 1e-13


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_update_rule_matches_pytorch_float32(config):
    assert _run_against_torch(config, "float32") < 5e-6


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def test_training_matches_pytorch_end_to_end():
    torch = needs_torch()
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).double()
    mm = _mlp().double()
    mm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    mopt, topt = optim.AdamW(mm.parameters(), lr=0.01), torch.optim.AdamW(tm.parameters(), lr=0.01)
    msched, tsched = lr_scheduler.StepLR(mopt, 3, 0.5), torch.optim.lr_scheduler.StepLR(topt, 3, 0.5)
    rng = np.random.default_rng(1)
    for _ in range(10):
        x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
        ml = F.cross_entropy(mm(mg.tensor(x)), y)
        tl = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
        mopt.zero_grad()
        ml.backward()
        mopt.step()
        msched.step()
        topt.zero_grad()
        tl.backward()
        topt.step()
        tsched.step()
        assert abs(ml.item() - tl.item()) < 1e-12
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(mm.state_dict()[k].detach().numpy(), v.detach().numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("cls, kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01)),
                                         ("AdamW", dict(lr=0.01, amsgrad=True)), ("Adadelta", {}),
                                         ("RMSprop", dict(lr=0.01)), ("Adagrad", dict(lr=0.1))])
def test_each_optimizer_trains_a_tiny_model(cls, kwargs):
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.int64) + (x[:, 2] > 1)
    model = _mlp()
    opt = getattr(optim, cls)(model.parameters(), **kwargs)
    losses = []
    for _ in range(60):
        loss = F.cross_entropy(model(mg.tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])


def test_defaults_are_pytorchs():
    p = [nn.Parameter(mg.zeros(2))]
    flags = dict(foreach=None, differentiable=False, fused=None)
    assert optim.SGD(p).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                                         maximize=False, **flags)
    adam = optim.Adam(p).defaults
    assert adam == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
                        capturable=False, decoupled_weight_decay=False, **flags)
    assert optim.AdamW(p).defaults == dict(adam, weight_decay=1e-2, decoupled_weight_decay=True)


def _train_steps(model, opt, sched, rng, steps):
    for _ in range(steps):
        x, y = rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 3, 8)
        loss = F.cross_entropy(model(mg.tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()


@pytest.mark.parametrize("cls, kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("AdamW", dict(lr=0.01)), ("Adadelta", dict(weight_decay=0.01)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                         ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1))])
def test_checkpoint_resumes_training_exactly(tmp_path, cls, kwargs):
    def build():
        mg.manual_seed(0)
        model = _mlp()
        opt = getattr(optim, cls)([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.05}],
                                  **kwargs)
        return model, opt, lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=1e-3)

    model, opt, sched = build()
    _train_steps(model, opt, sched, np.random.default_rng(0), 5)
    path = tmp_path / "ckpt.npz"
    mg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    _train_steps(model, opt, sched, np.random.default_rng(1), 5)

    model2, opt2, sched2 = build()
    ckpt = mg.load(path)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    _train_steps(model2, opt2, sched2, np.random.default_rng(1), 5)
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=k)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in opt2.param_groups]


def test_pytorch_optimizer_state_dict_loads_and_continues_identically():
    torch = needs_torch()
    rng = np.random.default_rng(3)
    init = [rng.standard_normal(s) for s in SHAPES]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    topt = torch.optim.Adam(tp, lr=0.01, amsgrad=True)
    for _ in range(3):
        for t in tp:
            t.grad = torch.tensor(rng.standard_normal(t.shape))
        topt.step()
    sd = topt.state_dict()
    as_numpy = {"state": {i: {k: v.detach().numpy() for k, v in s.items()} for i, s in sd["state"].items()},
                "param_groups": sd["param_groups"]}
    mp = [nn.Parameter(mg.tensor(t.detach().numpy())) for t in tp]
    mopt = optim.Adam(mp)
    mopt.load_state_dict(as_numpy)
    assert mopt.param_groups[0]["lr"] == 0.01 and mopt.param_groups[0]["amsgrad"]
    for _ in range(3):
        for m, t in zip(mp, tp):
            g = rng.standard_normal(m.shape)
            m.grad, t.grad = mg.tensor(g), torch.tensor(g)
        mopt.step()
        topt.step()
    for m, t in zip(mp, tp):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_state_dict_layout_and_in_place_updates():
    p, q = nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(3))
    opt = optim.SGD([p, q], lr=0.5, momentum=0.9)
    data = p._data
    p.grad = mg.ones(2)
    opt.step()
    assert p._data is data and p.detach().numpy().tolist() == [0.5, 0.5]  # updated in place
    sd = opt.state_dict()
    assert list(sd["state"]) == [0] and sd["state"][0]["momentum_buffer"].detach().numpy().tolist() == [1.0, 1.0]
    assert sd["param_groups"] == [dict(lr=0.5, momentum=0.9, dampening=0, weight_decay=0, nesterov=False,
                                       maximize=False, foreach=None, differentiable=False, fused=None, params=[0, 1])]


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd.pop("state"), "expects a dict with 'state' and 'param_groups'"),
    (lambda sd: sd["param_groups"].append({"params": []}), "has 2 parameter groups; this optimizer has 1"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "parameter group 0 holds 1 parameters in the checkpoint and 2"),
    (lambda sd: sd["state"][0].update(exp_avg=np.zeros(5)), r"state 0 'exp_avg' has shape \(5,\); its parameter "
                                                            r"has shape \(2,\)"),
    (lambda sd: sd["state"][0].update(exp_avg="zeros"), "state 0 'exp_avg' must be numeric"),
    (lambda sd: sd["state"].update({7: {}}), "state entry 7 matches no parameter"),
    (lambda sd: sd["state"][0].update(step=-1), "'step' must be a non-negative integer"),
    (lambda sd: sd["param_groups"][0].update(lr=-1.0), "lr must be a number >= 0"),
])
def test_optimizer_load_state_dict_rejects_bad_input_and_changes_nothing(mutate, match):
    p, q = nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(3))
    opt = optim.Adam([p, q], lr=0.1)
    p.grad, q.grad = mg.ones(2), mg.ones(3)
    opt.step()
    sd = opt.state_dict()
    sd = {"state": {k: dict(v) for k, v in sd["state"].items()},
          "param_groups": [dict(g, params=list(g["params"])) for g in sd["param_groups"]]}
    before = (opt.state, opt.param_groups)
    mutate(sd)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    assert opt.state is before[0] and opt.param_groups is before[1] and opt.param_groups[0]["lr"] == 0.1
    assert opt.state[p]["step"] == 1


@pytest.mark.parametrize("make, error, match", [
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, "lr must be a number >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be a number >= 0.0 and < 1.0"),
    (lambda p: optim.Adam(p, eps=-1), ValueError, "eps must be"),
    (lambda p: optim.AdamW(p, weight_decay="0.1"), ValueError, "weight_decay must be"),
    (lambda p: optim.Adam([]), ValueError, "empty parameter list"),
    (lambda p: optim.Adam(p[0]), TypeError, "not a Tensor|got a Tensor"),
    (lambda p: optim.Adam(set(p)), TypeError, "not a set"),
    (lambda p: optim.Adam([mg.zeros(2, dtype="int64")]), TypeError, "floating-point"),
    (lambda p: optim.Adam([p[0] * 2]), ValueError, "leaf tensors"),
    (lambda p: optim.Adam([p[0], p[0]]), ValueError, "same parameter twice"),
    (lambda p: optim.Adam([{"params": p}, {"params": p}]), ValueError, "more than one parameter group"),
    (lambda p: optim.Adam(["w"]), TypeError, "can only optimize Tensors"),
])
def test_bad_optimizer_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make([nn.Parameter(mg.ones(2))])


def test_zero_grad_and_skipped_parameters():
    p, q = nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(2))
    opt = optim.SGD([p, q], lr=1.0)
    p.grad = mg.ones(2)
    opt.step()
    assert q.detach().numpy().tolist() == [1.0, 1.0] and p.detach().numpy().tolist() == [0.0, 0.0]
    opt.zero_grad(set_to_none=False)
    assert p.grad.detach().numpy().tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_closure_is_called_with_grad_enabled():
    p = nn.Parameter(mg.tensor([3.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and p.item() == 1.5


def test_step_on_every_backend(backend):
    results = {}
    for name in ("numpy", backend):
        with mg.use_backend(name):
            mg.manual_seed(0)
            model = _mlp()
            opt = optim.Adam(model.parameters(), lr=0.01)
            x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
            for _ in range(3):
                opt.zero_grad()
                F.cross_entropy(model(mg.tensor(x)), [0, 1, 2, 0]).backward()
                opt.step()
            assert all(p.backend == name for p in model.parameters())
            results[name] = [p.detach().numpy() for p in model.parameters()]
    for a, b in zip(results["numpy"], results[backend]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# learning-rate schedules

@pytest.mark.parametrize("make", [
    lambda lib, opt: lib.StepLR(opt, step_size=3, gamma=0.5),
    lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
    lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=1),
], ids=["step", "cosine", "cosine_tmax1"])
def test_schedules_match_pytorch(make):
    torch = needs_torch()
    mopt = optim.SGD([{"params": [nn.Parameter(mg.ones(1))]}, {"params": [nn.Parameter(mg.ones(1))], "lr": 0.3}],
                     lr=0.1)
    topt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.ones(1))]},
                            {"params": [torch.nn.Parameter(torch.ones(1))], "lr": 0.3}], lr=0.1)
    ms, ts = make(lr_scheduler, mopt), make(torch.optim.lr_scheduler, topt)
    for _ in range(30):
        assert ms.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        assert [g["lr"] for g in mopt.param_groups] == ms.get_last_lr()
        mopt.step()
        topt.step()
        ms.step()
        ts.step()


def test_scheduler_state_dict_round_trip_and_errors():
    opt = optim.SGD([nn.Parameter(mg.ones(1))], lr=1.0)
    sched = lr_scheduler.StepLR(opt, 2, 0.1)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert state["last_epoch"] == 3 and "optimizer" not in state
    opt2 = optim.SGD([nn.Parameter(mg.ones(1))], lr=1.0)
    sched2 = lr_scheduler.StepLR(opt2, 2, 0.1)
    sched2.load_state_dict(state)
    opt2.load_state_dict(opt.state_dict())
    sched.step()
    sched2.step()
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="unexpected keys"):
        sched2.load_state_dict({"bogus": 1})
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        lr_scheduler.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max must be a positive int"):
        lr_scheduler.CosineAnnealingLR(opt, 2.5)
    with pytest.raises(TypeError, match="StepLR: list is not an Optimizer"):
        lr_scheduler.StepLR([1], 2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optim.SGD([nn.Parameter(mg.ones(1))]), 2, last_epoch=3)


# gradient clipping

@pytest.mark.parametrize("norm_type, max_norm", [(2.0, 1.0), (1.0, 0.5), (math.inf, 0.1), (2.0, 100.0)])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    torch = needs_torch()
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    mp = [nn.Parameter(mg.zeros(s)) for s in SHAPES] + [nn.Parameter(mg.zeros(2))]
    tp = [torch.nn.Parameter(torch.zeros(s)) for s in SHAPES]
    for m, t, g in zip(mp, tp, grads):
        m.grad, t.grad = mg.tensor(g), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(mp, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-6) and total.dtype == mg.float32
    for m, t in zip(mp, tp):
        np.testing.assert_allclose(m.grad.detach().numpy(), t.grad.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_result_and_errors():
    p = nn.Parameter(mg.zeros(2))
    p.grad = mg.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.detach().numpy(), [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([nn.Parameter(mg.zeros(1))], 1.0).item() == 0.0
    p.grad = mg.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="expects Tensors"):
        nn.utils.clip_grad_norm_([1.0], 1.0)
    p.grad = mg.tensor([-3.0, 0.5])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.detach().numpy().tolist() == [-1.0, 0.5]
