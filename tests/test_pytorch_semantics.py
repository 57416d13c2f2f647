"""PyTorch's semantics, rule by rule: in-place updates and their autograd errors, item assignment, views, `.data`,
the manual SGD step in each spelling, devices, dtype aliases and promotion, defaults, and gradients at NaN, +-inf
and 0. Each rule states PyTorch's behaviour; where PyTorch is installed, the tests also compare with it directly.
"""
import numpy as np
import pytest

import micrograd as mg
from micrograd.errors import RuntimeTypeError, RuntimeValueError

try:
    import torch
except ImportError:  # the direct comparisons skip; the stated rules still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")


def _raises(fn, match, kind=RuntimeError):
    with pytest.raises(kind, match=match) as info:
        fn()
    return info.value


# ---- the in-place rules ----------------------------------------------------------------------------------------

def test_inplace_on_a_leaf_that_requires_grad_raises_pytorchs_error_of_both_classes():
    w = mg.randn(3, requires_grad=True)
    err = _raises(lambda: w.add_(1), "a leaf Variable that requires grad is being used in an in-place operation")
    assert isinstance(err, RuntimeError) and isinstance(err, ValueError) and isinstance(err, RuntimeValueError)
    _raises(lambda: w[0].mul_(2), "a view of a leaf Variable that requires grad")
    with mg.no_grad():
        w.add_(1)  # allowed under no_grad, as PyTorch
    assert w.is_leaf and w._version == 1


def test_inplace_on_a_non_leaf_rewires_its_history():
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = x * 2
    y.mul_(x)        # y = 2 x^2
    y += 1
    y.exp_()         # y = exp(2 x^2 + 1)
    y.sum().backward()
    xs = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), 4 * xs * np.exp(2 * xs ** 2 + 1))
    assert y.grad_fn is not None and y._version == 3


def test_a_saved_tensor_changed_in_place_makes_backward_name_the_op_and_the_versions():
    x = mg.randn(3, requires_grad=True)
    y = x.exp()      # Exp saves its output
    y.add_(1)
    _raises(lambda: y.sum().backward(),
            r"modified by an inplace operation: \[FloatTensor \[3\]\], which is output 0 of Exp, is at version 1; "
            r"expected version 0 instead")


def test_inplace_through_a_view_updates_the_base_with_correct_gradients():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64, requires_grad=True)
    y = x * 1
    y[0].mul_(3)                 # basic indexing
    y.t()[1].add_(10)            # a transpose's row is y's column 1
    y.view(4)[0:1].pow_(2)
    np.testing.assert_allclose(y.detach().numpy(), [[9.0, 16.0], [3.0, 14.0]])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[18.0, 3.0], [1.0, 1.0]])


def test_writing_to_an_expanded_tensor_raises():
    y = mg.randn(3, requires_grad=True) * 2
    _raises(lambda: y.expand(2, 3).add_(1), "more than one element of the written-to tensor refers to a single "
                                            "memory location")


@pytest.mark.parametrize("split", [lambda y: y.split(2), lambda y: y.chunk(2), lambda y: y.unbind(0)])
def test_views_from_multi_output_functions_may_not_be_modified_in_place(split):
    y = mg.randn(4, requires_grad=True) * 2
    _raises(lambda: split(y)[0].add_(1), "is a view and is being modified inplace. This view is the output of a "
                                         "function that returns multiple views")
    with mg.no_grad():
        split(y)[0].add_(1)   # without grad mode the rule does not apply, as PyTorch


def test_a_view_made_under_no_grad_may_not_be_changed_in_place_with_grad_mode_on():
    x = mg.randn(4, requires_grad=True)
    y = x * 2
    with mg.no_grad():
        v = y[:2]
    _raises(lambda: v.mul_(x[:2]), "A view was created in no_grad mode and is being modified inplace with grad "
                                   "mode enabled")


def test_integer_tensors_take_no_float_result_in_place():
    t = mg.tensor([1, 2])
    err = _raises(lambda: t.add_(0.5), "result type Float can't be cast to the desired output type Long")
    assert isinstance(err, RuntimeTypeError) or isinstance(err, RuntimeValueError)
    t += 2
    assert t.tolist() == [3, 4] and t.dtype == mg.int64


def test_matmul_augmented_assignment_rebinds_as_in_pytorch():
    a = mg.ones(2, 2)
    b = a
    a @= mg.eye(2) * 2
    assert b.tolist() == [[1.0, 1.0], [1.0, 1.0]] and a.tolist() == [[2.0, 2.0], [2.0, 2.0]]


# ---- item assignment ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("index", [(0,), (slice(1, None),), (Ellipsis, 1), ([0, 2],), "mask", (1, [0, 1])])
def test_item_assignment_is_differentiable_in_the_target_and_the_value(index):
    if index == "mask":
        index = (mg.tensor([True, False, True]),)
    x = mg.arange(12.0, dtype=mg.float64).reshape(3, 4).requires_grad_()
    shape = np.empty((3, 4))[tuple(np.asarray(i.numpy()) if isinstance(i, mg.Tensor) else i for i in index)].shape
    v = mg.full(shape[-1:] if shape else (), 5.0, dtype=mg.float64, requires_grad=True)  # broadcast over shape
    y = x * 1
    y[index] = v * 2
    (y * mg.arange(12.0, dtype=mg.float64).reshape(3, 4)).sum().backward()
    hit = np.zeros((3, 4), bool)
    hit[tuple(np.asarray(i.numpy()) if isinstance(i, mg.Tensor) else i for i in index)] = True
    weights = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(x.grad.numpy(), np.where(hit, 0.0, weights))
    picked = weights[tuple(np.asarray(i.numpy()) if isinstance(i, mg.Tensor) else i for i in index)]
    expected = 2 * picked.reshape(-1, *(shape[-1:] if shape else ())).sum(axis=0)
    np.testing.assert_allclose(v.grad.numpy(), expected)


def test_item_assignment_with_a_mask_names_the_problem_not_index():
    logits = mg.zeros(2, 3)
    logits[logits == 0] = float("-inf")
    assert bool((logits == float("-inf")).all())
    _raises(lambda: logits.__setitem__(mg.tensor([True]), 1.0), "shape of the mask", IndexError)


# ---- .data, numpy() ------------------------------------------------------------------------------------------

def test_data_is_a_detached_tensor_sharing_storage():
    p = mg.randn(3, requires_grad=True)
    d = p.data
    assert isinstance(d, mg.Tensor) and not d.requires_grad and d.is_leaf
    d.mul_(0)
    assert p.tolist() == [0.0, 0.0, 0.0]
    p.data = mg.ones(3)
    assert p.tolist() == [1.0, 1.0, 1.0] and p.requires_grad


def test_numpy_shares_memory_and_refuses_a_tensor_that_requires_grad():
    t = mg.zeros(3)
    a = t.numpy()
    a[0] = 7.0
    assert t[0].item() == 7.0
    assert np.asarray(t).dtype == np.float32 and np.asarray(t).shape == (3,)
    w = mg.zeros(3, requires_grad=True)
    _raises(lambda: w.numpy(), r"Can't call numpy\(\) on Tensor that requires grad. Use tensor.detach\(\).numpy\(\)")
    _raises(lambda: np.asarray(w), r"Use tensor.detach\(\).numpy\(\) instead")


# ---- the manual SGD step, in each spelling -------------------------------------------------------------------

def _sgd_step(spelling):
    model = mg.nn.Linear(3, 2)
    with mg.no_grad():
        model.weight.copy_(mg.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.fill_(0.5)
    x = mg.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    before = [p.detach().clone().numpy() for p in model.parameters()]
    (model(x) ** 2).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    lr = 0.1
    for p in model.parameters():
        if spelling == "isub":
            with mg.no_grad():
                p -= lr * p.grad
        elif spelling == "data_isub":
            p.data -= lr * p.grad
        elif spelling == "data_add_":
            p.data.add_(p.grad, alpha=-lr)
        elif spelling == "sub_":
            with mg.no_grad():
                p.sub_(lr * p.grad)
        else:
            p.data = p.data - lr * p.grad
    return before, grads, [p.detach().numpy() for p in model.parameters()], model


@pytest.mark.parametrize("spelling", ["isub", "data_isub", "data_add_", "sub_", "data_assign"])
def test_each_spelling_of_the_manual_sgd_step_updates_the_parameters(spelling):
    before, grads, after, model = _sgd_step(spelling)
    for b, g, a in zip(before, grads, after):
        np.testing.assert_allclose(a, b - 0.1 * g, rtol=1e-6)
        assert np.abs(g).sum() > 0
    assert all(p.is_leaf and p.requires_grad for p in model.parameters())


def test_the_manual_sgd_step_outside_no_grad_raises_pytorchs_error():
    p = mg.randn(2, requires_grad=True)
    (p * p).sum().backward()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        p -= 0.1 * p.grad


@needs_torch
@pytest.mark.parametrize("spelling", ["isub", "data_isub", "data_add_"])
def test_the_manual_sgd_step_matches_pytorch(spelling):
    _, _, after, _ = _sgd_step(spelling)
    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.fill_(0.5)
    (model(torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])) ** 2).sum().backward()
    for p in model.parameters():
        with torch.no_grad():
            p -= 0.1 * p.grad
    for mine, theirs in zip(after, model.parameters()):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-6)


def test_optimizers_and_load_state_dict_bump_the_version_of_what_they_change():
    model = mg.nn.Linear(2, 2)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    w = model.weight
    saved = w * 1
    v0 = w._version
    model(mg.ones(1, 2)).sum().backward()
    opt.step()
    assert w._version > v0
    v1 = w._version
    model.load_state_dict({k: t * 0 for k, t in model.state_dict().items()})
    assert w._version > v1 and saved.requires_grad


# ---- devices -------------------------------------------------------------------------------------------------

def test_devices_follow_pytorchs_forms():
    assert str(mg.device("cuda:1")) == "cuda:1" and mg.device("cuda", 1) == mg.device("cuda:1")
    assert mg.device("cpu").type == "cpu" and mg.device("cpu").index is None
    t = mg.ones(2)
    assert t.device == mg.device("cpu") and t.device != "cpu" and t.device.type == "cpu"  # as PyTorch
    assert t.to("cpu") is t and t.cpu() is t and t.to(mg.device("cpu")) is t
    assert t.to(mg.float64).dtype == mg.float64 and t.to("cpu", mg.float64).dtype == mg.float64
    assert t.to(mg.zeros(1, dtype=mg.int64)).dtype == mg.int64
    assert t.to(dtype=mg.float64, device="cpu").dtype == mg.float64
    assert mg.zeros(2, device="cpu").device.type == "cpu" and str(mg.arange(3, device=mg.device("cpu")).device) == "cpu"
    _raises(lambda: mg.device("tpu"), "Expected one of cpu, cuda")


def test_cuda_requests_without_cuda_fail_clearly():
    if mg.cuda.is_available():
        pytest.skip("a CUDA device is present: the requests succeed")
    assert mg.cuda.device_count() == 0
    mg.cuda.manual_seed(0)
    mg.cuda.manual_seed_all(0)  # no-ops without CUDA, as PyTorch's
    _raises(lambda: mg.ones(2).cuda(), "cupy")
    _raises(lambda: mg.zeros(2, device="cuda"), "cupy")


def test_module_to_takes_a_device_a_dtype_or_both():
    model = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.ReLU(), mg.nn.Linear(3, 1))
    assert model.to("cpu") is model and model.to(mg.device("cpu")) is model
    model.to(mg.float64)
    assert all(p.dtype == mg.float64 and p.is_leaf and p.requires_grad for p in model.parameters())
    model.to("cpu", dtype=mg.float32)
    assert model(mg.ones(4, 2)).dtype == mg.float32
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.skipif("numba" not in mg.available_backends(), reason="numba is not installed")
def test_tensors_on_the_two_cpu_backends_mix_and_the_first_operand_decides():
    a = mg.ones(3, requires_grad=True)
    b = mg.ones(3, requires_grad=True).to("numba").detach().requires_grad_()
    assert a.device == b.device == mg.device("cpu") and a.backend != b.backend
    c = a * 2 + b
    assert c.backend == a.backend
    d = b + a
    assert d.backend == b.backend
    (c.sum() + d.sum()).backward()
    assert a.grad.backend == a.backend and b.grad.backend == b.backend
    np.testing.assert_allclose(a.grad.numpy(), [3.0] * 3)
    np.testing.assert_allclose(b.grad.numpy(), [2.0] * 3)


# ---- dtypes and promotion ------------------------------------------------------------------------------------

def test_dtype_aliases_and_conversion_methods():
    assert (mg.long, mg.int, mg.float, mg.double, mg.half, mg.short) == (
        mg.int64, mg.int32, mg.float32, mg.float64, mg.float16, mg.int16)
    t = mg.tensor([1.5, -2.5])
    assert t.long().dtype == mg.int64 and t.long().tolist() == [1, -2]
    assert t.int().dtype == mg.int32 and t.double().dtype == mg.float64 and t.short().dtype == mg.int16
    _raises(lambda: t.half(), "float16 is not supported", TypeError)  # micrograd has no half precision
    assert t.bool().dtype == mg.bool and t.float().dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64 and mg.tensor([True]).dtype == mg.bool
    for dt in (mg.int8, mg.int16, mg.int32, mg.int64, mg.uint8):
        assert (mg.tensor([1, 2], dtype=dt) + 1).dtype == dt


PROMOTION = [  # (a, b, PyTorch's result dtype)
    (mg.tensor([1]), mg.tensor([1.0]), mg.float32),
    (mg.tensor([1]), 2, mg.int64),
    (mg.tensor([1]), 2.5, mg.float32),
    (mg.tensor([1.0]), mg.tensor(2.0, dtype=mg.float64), mg.float32),   # a 0-d float64 does not promote
    (mg.tensor([1], dtype=mg.int32), mg.tensor(2), mg.int32),            # nor does a 0-d int64
    (mg.tensor([1], dtype=mg.uint8), mg.tensor([1], dtype=mg.int8), mg.int16),
    (mg.tensor([True]), 1, mg.int64),
    (mg.tensor([1], dtype=mg.int8), mg.tensor([1.0], dtype=mg.float64), mg.float64),
    (mg.tensor(1), mg.tensor(1.0, dtype=mg.float64), mg.float64),
]


@pytest.mark.parametrize("a,b,expected", PROMOTION)
def test_promotion_follows_pytorch(a, b, expected):
    assert (a + b).dtype == expected and (a * b).dtype == expected
    assert mg.result_type(a, b) == expected


def test_true_division_of_integers_gives_the_default_float():
    assert (mg.tensor([1, 2]) / 2).dtype == mg.float32
    assert (mg.tensor([3]) // 2).dtype == mg.int64 and (mg.tensor([3]) // 2).tolist() == [1]


@needs_torch
def test_promotion_agrees_with_torch_result_type_over_every_pair():
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]
    for na in names:
        for nb in names:
            for shape_b in ((2,), ()):
                a = mg.ones(2, dtype=getattr(mg, na))
                b = mg.ones(shape_b, dtype=getattr(mg, nb))
                ta = torch.ones(2, dtype=getattr(torch, na))
                tb = torch.ones(shape_b, dtype=getattr(torch, nb))
                assert str(mg.result_type(a, b)) == str(torch.result_type(ta, tb)).replace("torch.", ""), (na, nb)
        for scalar in (True, 2, 2.5):
            a, ta = mg.ones(2, dtype=getattr(mg, na)), torch.ones(2, dtype=getattr(torch, na))
            assert str(mg.result_type(a, scalar)) == str(torch.result_type(ta, scalar)).replace("torch.", "")


# ---- defaults and return conventions -------------------------------------------------------------------------

def test_defaults_and_return_conventions_are_pytorchs():
    x = mg.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    np.testing.assert_allclose(x.var(0).numpy(), [4.5, 4.5, 4.5])             # unbiased
    np.testing.assert_allclose(x.std().item(), np.std(x.numpy(), ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.var(0, unbiased=False).numpy(), [2.25] * 3)
    np.testing.assert_allclose(x.var(0, correction=0).numpy(), [2.25] * 3)
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2] and indices.dtype == mg.int64
    assert x.max(dim=1).values.tolist() == [5.0, 6.0] and x.min(1, keepdim=True).indices.shape == (2, 1)
    assert x.squeeze(0).shape == (2, 3) and x.unsqueeze(0).squeeze(0).shape == (2, 3)
    assert x.all().dtype == mg.bool and x.all().shape == () and (x > 3).any(1).tolist() == [True, True]
    assert mg.max(x, mg.tensor(4.0)).tolist() == [[4.0, 5.0, 4.0], [4.0, 4.0, 6.0]]   # elementwise, not a dim
    assert x.sum(dim=(), keepdim=False).shape == () and mg.tensor(2.0).sum(-1).item() == 2.0
    assert mg.tensor([1, 2], dtype=mg.int32).sum().dtype == mg.int64
    _raises(lambda: mg.tensor([1, 2]).mean(), "mean\\(\\): could not infer output dtype")


def test_the_gradient_of_a_full_max_is_split_evenly_over_ties_and_max_dim_picks_one():
    x = mg.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]
    x.grad = None
    x.max(0).values.backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0]


def test_a_float_tensor_is_never_taken_as_a_dim():
    x = mg.ones(2, 3)
    with pytest.raises(TypeError):
        x.sum(mg.tensor(1.0))


# ---- gradients at NaN, +-inf and 0 ---------------------------------------------------------------------------

SPECIAL = [0.0, -0.0, 1.0, -1.0, float("nan"), float("inf"), float("-inf"), 2.0]


def _grad1(lib, fn, v):
    x = lib.tensor([v], dtype=lib.float64, requires_grad=True)
    fn(lib, x).sum().backward()
    return x.grad.tolist()[0]


def _grad2(lib, fn, u, v):
    x = lib.tensor([u], dtype=lib.float64, requires_grad=True)
    y = lib.tensor([v], dtype=lib.float64, requires_grad=True)
    fn(lib, x, y).sum().backward()
    return x.grad.tolist()[0], y.grad.tolist()[0]


EXPECTED_UNARY = {  # op -> gradients at SPECIAL, as PyTorch gives them
    "abs": [0.0, 0.0, 1.0, -1.0, 0.0, 1.0, -1.0, 1.0],
    "relu": [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0],
    "x**2": [0.0, -0.0, 2.0, -2.0, float("nan"), float("inf"), float("-inf"), 4.0],
    "x**0": [0.0] * 8,
    "x**0.5": [float("inf"), float("-inf"), 0.5, float("nan"), float("nan"), 0.0, float("nan"), 0.5 * (1 / 2 ** 0.5)],
}
UNARY = {"abs": lambda lib, x: x.abs(), "relu": lambda lib, x: lib.relu(x), "x**2": lambda lib, x: x ** 2,
         "x**0": lambda lib, x: x ** 0, "x**0.5": lambda lib, x: x ** 0.5}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients_at_special_values_are_pytorchs(name):
    got = [_grad1(mg, UNARY[name], v) for v in SPECIAL]
    np.testing.assert_array_equal(got, EXPECTED_UNARY[name], err_msg=name)
    if torch is not None:
        np.testing.assert_array_equal(got, [_grad1(torch, UNARY[name], v) for v in SPECIAL], err_msg=name)


BINARY = {"maximum": lambda lib, a, b: lib.maximum(a, b), "minimum": lambda lib, a, b: lib.minimum(a, b),
          "pow": lambda lib, a, b: lib.pow(a, b), "rpow0": lambda lib, a, b: 0.0 ** b + a * 0}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_at_special_values_follow_pytorchs_rules(name):
    nan = float("nan")
    for u in SPECIAL:
        for v in SPECIAL:
            ga, gb = _grad2(mg, BINARY[name], u, v)
            if name in ("maximum", "minimum"):
                lose_a = (u < v) if name == "maximum" else (u > v)
                lose_b = (u > v) if name == "maximum" else (u < v)
                half = 0.5 if u == v else 1.0
                assert (ga, gb) == (0.0 if lose_a else half, 0.0 if lose_b else half), (name, u, v)
            elif name == "pow":
                if v == 0:
                    assert ga == 0.0, (u, v)        # d/da is 0 where the exponent is 0, even at a = NaN
                if u == 0 and v >= 0:
                    assert gb == 0.0, (u, v)        # d/db is 0 where a == 0 and b >= 0
            if torch is not None:
                np.testing.assert_array_equal((ga, gb), _grad2(torch, BINARY[name], u, v), err_msg=f"{name}{u, v}")
    assert np.isnan(nan)


def test_pow_by_a_python_number_uses_pytorchs_special_forms():
    x = mg.tensor([-0.0, float("-inf"), 4.0], dtype=mg.float64)
    assert str((x ** 0.5).tolist()) == str([-0.0, float("nan"), 2.0])   # sqrt, not power: NaN at -inf
    assert (x ** -1).tolist()[0] == float("-inf")
    assert mg.tensor([3]).pow(2).dtype == mg.int64 and (mg.tensor([4]) ** 0.5).dtype == mg.float32


def test_in_place_ops_on_empty_tensors_work_as_in_pytorch():
    """An empty tensor has no elements to alias (NumPy gives its axes stride 0): in place ops on it are fine, while an
    expanded tensor is still refused."""
    x = mg.zeros(2, 0)
    assert x.mul_(2).shape == (2, 0)
    assert mg.zeros(0, 3).add_(1.0).shape == (0, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        mg.zeros(3).expand(2, 3).mul_(2)
