"""Tensor basics: creation, dtypes and promotion, conversion, operators, and the errors users see."""
import numpy as np
import pytest

import micrograd as mg


def test_dtype_inference_follows_pytorch():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True, False]).dtype == mg.bool_
    assert mg.tensor(np.zeros(2, np.float64)).dtype == mg.float64
    assert mg.tensor(np.zeros(2, np.int32)).dtype == mg.int32
    assert mg.tensor([1, 2], dtype="float64").dtype == mg.float64
    assert mg.tensor([1, 2], dtype=np.float32).dtype == mg.float32


def test_unsupported_dtypes_raise_clearly():
    with pytest.raises(TypeError, match="float16 is not supported"):
        mg.tensor([1.0], dtype="float16")
    with pytest.raises(TypeError, match="float16"):
        mg.tensor(np.zeros(2, np.float16))


def test_promotion_follows_pytorch():
    f32 = mg.tensor(np.ones(2, np.float32))
    f64 = mg.tensor(np.ones(2))
    i64 = mg.tensor([1, 2])
    assert (f32 * 2.0).dtype == mg.float32
    assert (2 * f32).dtype == mg.float32
    assert (f32 + f64).dtype == mg.float64
    assert (i64 * 2).dtype == mg.int64
    assert (i64 * 2.5).dtype == mg.float32  # the default float
    assert (i64 / 2).dtype == mg.float32
    assert (f32 + np.ones(2, np.float64)).dtype == mg.float64  # an array with dimensions counts as a tensor
    assert (f32 * mg.tensor(2.0, dtype=mg.float64)).dtype == mg.float32  # a 0-d tensor does not promote
    assert (i64 + f32).dtype == mg.float32 and (mg.tensor([True]) + 1).dtype == mg.int64


def test_requires_grad_on_integer_tensors_raises():
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype can require gradients"):
        mg.tensor([1, 2], requires_grad=True)


def test_integer_inputs_get_no_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    idx = mg.tensor([0, 1])
    y = (x * idx).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), [0.0, 1.0])
    assert idx.grad is None


def test_conversions():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    arr = x.detach().numpy()  # shares memory, as in PyTorch
    arr[0, 0] = 100
    assert x.tolist() == [[100.0, 2.0], [3.0, 4.0]]
    assert mg.tensor(3.5).item() == 3.5
    assert x.detach().requires_grad is False and x.detach()._data is x._data
    assert x.double().dtype == mg.float64 and x.long().dtype == mg.int64 and x.float() is x
    assert x.to("float64").dtype == mg.float64 and x.to("numpy") is x
    assert len(x) == 2 and x.numel() == 4 and x.ndim == 2 and x.shape == (2, 2)
    assert x.backend == "numpy"
    with pytest.raises(ValueError, match=r"a Tensor with 4 elements cannot be converted to Scalar \(item: shape "
                                         r"\(2, 2\)\)"):
        x.item()


def test_cast_is_differentiable_between_float_dtypes():
    x = mg.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.detach().numpy(), [3.0, 3.0])


def test_tensors_hash_by_identity_and_compare_elementwise():
    a, b = mg.tensor([1.0, 2.0]), mg.tensor([1.0, 3.0])
    assert len({a, b, a}) == 2
    assert (a == b).tolist() == [True, False]
    assert (a != b).tolist() == [False, True]
    assert (a < b).dtype == mg.bool_ and (a <= 1.0).tolist() == [True, False]
    assert (np.array([2.0, 2.0]) > a).tolist() == [True, False]


def test_reflected_operators_with_numbers_and_numpy_arrays():
    x = mg.tensor(np.array([1.0, 2.0]))
    np.testing.assert_allclose((1 - x).detach().numpy(), [0.0, -1.0])
    np.testing.assert_allclose((10.0 / x).detach().numpy(), [10.0, 5.0])
    np.testing.assert_allclose((2 ** x).detach().numpy(), [2.0, 4.0])
    out = np.array([1.0, 1.0]) + x
    assert isinstance(out, mg.Tensor)
    np.testing.assert_allclose((np.eye(2) @ x).detach().numpy(), [1.0, 2.0])


def test_repr_shows_values_dtype_and_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert "grad_fn=<Mul>" in repr(x * 2)
    assert "dtype=float64" in repr(x.double().detach())


def test_factories():
    mg.manual_seed(0)
    a = mg.randn(2, 3)
    mg.manual_seed(0)
    b = mg.randn((2, 3))
    assert a.shape == (2, 3) and a.dtype == mg.float32 and np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert mg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert mg.ones((2,), dtype="int64").tolist() == [1, 1]
    assert mg.full((2,), 7).dtype == mg.int64 and mg.full((2,), 7.0).dtype == mg.float32
    assert mg.arange(5).tolist() == [0, 1, 2, 3, 4] and mg.arange(0, 1, 0.5).dtype == mg.float32
    assert mg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    r = mg.rand(1000, dtype=mg.float64)
    assert r.dtype == mg.float64 and 0 <= r.detach().numpy().min() and r.detach().numpy().max() < 1
    z = mg.zeros_like(a, requires_grad=True)
    assert z.requires_grad and z.shape == a.shape and mg.ones_like(a).detach().numpy().sum() == 6
    with pytest.raises(RuntimeError, match="zeros: Trying to create tensor with negative dimension -1"):
        mg.zeros(-1)


@pytest.mark.parametrize("fn, message", [
    (lambda: mg.ones(2, 3) + mg.ones(4), r"add: shapes cannot be broadcast together; got \(2, 3\) and \(4,\)"),
    (lambda: mg.ones(2, 3) @ mg.ones(4, 5), r"matmul: inner dimensions differ; got \(2, 3\) @ \(4, 5\)"),
    (lambda: mg.ones(2, 3).reshape(4, 2), r"shape '\[4, 2\]' is invalid for input of size 6 \(reshape: tensor of "
                                          r"shape \(2, 3\)\)"),
    (lambda: mg.ones(2, 3).sum(axis=2), r"sum: axis 2 is out of range for a tensor of 2 dimensions; got shape"),
    (lambda: mg.ones(2, 3).mean(axis=(0, -2)), r"mean: repeated axis"),
    (lambda: mg.ones(2, 3).permute(0, 0), r"permute\(\): duplicate dims are not allowed. \(permute: dims \(0, 0\) "
                                          r"for shape \(2, 3\)\)"),
    (lambda: mg.concatenate([mg.ones(2, 3), mg.ones(3, 2)], axis=0), r"Sizes of tensors must match except in "
                                                                     r"dimension 0. Expected size \(2, 3\) but got "
                                                                     r"size \(3, 2\) for tensor number 1"),
    (lambda: mg.ones(2).broadcast_to((3,)), r"The expanded size of the tensor \(3\) must match the existing size "
                                            r"\(2\) at non-singleton dimension 0.  Target sizes: \[3\].  Tensor "
                                            r"sizes: \[2\] \(expand\)"),
])
def test_bad_input_names_the_op_and_the_shapes(fn, message):
    with pytest.raises(ValueError, match=message):
        fn()


def test_pytorchs_lenient_cases_stay_lenient():
    assert mg.ones(2, 3).squeeze(0).shape == (2, 3)  # squeezing a dim that is not 1 does nothing
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        assert np.isnan(mg.ones(2, 3).var(axis=0, ddof=2).numpy()).all()  # 0 / 0 with a warning, no error


def test_out_of_range_index_names_the_shape():
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        mg.ones(2, 3)[5]


def test_truth_value_of_a_multi_element_tensor_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.ones(2))
    assert bool(mg.ones(1))


def test_shape_methods_and_aliases():
    x = mg.arange(24).reshape(2, 3, 4)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.permute((2, 0, 1)).shape == (4, 2, 3)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.unsqueeze(-1).shape == (2, 3, 4, 1) and x.unsqueeze(0).squeeze().shape == (2, 3, 4)
    assert x.reshape(-1, 4).shape == (6, 4) and x.reshape((4, -1)).shape == (4, 6)
    assert x.sum(dim=1, keepdim=True).shape == (2, 1, 4)
    assert x.sum(axis=()).shape == ()  # PyTorch: an empty dim list reduces every dimension
    assert x.argmax(axis=-1).tolist() == [[3, 3, 3], [3, 3, 3]]
    assert x.float().amax(axis=(0, 2)).tolist() == [15.0, 19.0, 23.0]
    assert mg.stack([x, x], axis=1).shape == (2, 2, 3, 4) and mg.cat([x, x], dim=2).shape == (2, 3, 8)
    assert mg.pad(x.float(), ((0, 0), (1, 1), (2, 0))).shape == (2, 5, 6)


def test_max_gradient_goes_to_the_first_maximum_on_ties():
    x = mg.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    x.max(axis=1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    y = mg.tensor(np.array([5.0, 1.0, 5.0]), requires_grad=True)
    y.min().backward()
    assert y.grad.tolist() == [0.0, 1.0, 0.0]


def test_indexing_gradients_scatter_add_on_repeats():
    x = mg.tensor(np.arange(5.0), requires_grad=True)
    y = x[[0, 0, 2, 4, 4, 4]]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0, 0.0, 3.0]
    m = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    m[m > 2].sum().backward()
    assert m.grad.tolist() == [[0, 0, 0], [1, 1, 1]]
    assert m[None, ..., 1:].shape == (1, 2, 2) and m[1, ::-1].tolist() == [5.0, 4.0, 3.0]


def test_where_maximum_minimum_clip():
    a = mg.tensor(np.array([1.0, 5.0, 3.0]), requires_grad=True)
    b = mg.tensor(np.array([2.0, 4.0, 3.0]), requires_grad=True)
    mg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0, 0.5] and b.grad.tolist() == [1.0, 0.0, 0.5]
    c = mg.where(a > 2, a, 0.0)
    assert c.tolist() == [0.0, 5.0, 3.0]
    assert a.clip(2, 4).tolist() == [2.0, 4.0, 3.0] and a.clip(min=2).tolist() == [2.0, 5.0, 3.0]
    with pytest.raises(ValueError, match="torch.clamp: At least one of 'min' or 'max' must not be None"):
        a.clip()


@pytest.mark.parametrize("sizes, message", [
    ((-1, -1, 3), "The expanded size of the tensor \\(-1\\) isn't allowed in a leading, non-existing dimension 0"),
    ((2, 4, 3), "The expanded size of the tensor \\(4\\) must match the existing size \\(2\\) at non-singleton "
                "dimension 1.  Target sizes: \\[2, 4, 3\\].  Tensor sizes: \\[2, 1\\]"),
    ((3,), "expand\\(torch.FloatTensor{\\[2, 1\\]}, size=\\[3\\]\\): the number of sizes provided \\(1\\) must be "
           "greater or equal to the number of dimensions in the tensor \\(2\\)"),
])
def test_expand_refuses_what_pytorch_refuses(sizes, message):
    with pytest.raises(RuntimeError, match=message):
        mg.ones(2, 1).expand(*sizes)
    with pytest.raises(TypeError, match="expand\\(\\) missing 1 required positional argument: .size."):
        mg.ones(2, 1).expand()


def test_expand_keeps_minus_one_dimensions_and_prepends_new_ones():
    x = mg.tensor([[1.0], [2.0]], requires_grad=True)
    y = x.expand(3, -1, 4)
    assert y.shape == (3, 2, 4) and x.expand((2, 5)).shape == (2, 5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[12.0], [12.0]])


def test_dlpack_shares_memory_both_ways(backend):
    """t.__dlpack__ / mg.from_dlpack: zero-copy exchange with NumPy (and PyTorch when installed), PyTorch's error for
    a tensor that requires grad."""
    from micrograd.backend import backend_object
    if backend_object(backend).device != "cpu":
        pytest.skip("the exchange with NumPy needs host memory")
    t = mg.tensor([1.0, 2.0, 3.0], backend=backend)
    assert t.__dlpack_device__() == (1, 0)
    a = np.from_dlpack(t)
    a[0] = 10.0
    assert t.tolist() == [10.0, 2.0, 3.0]
    u = mg.from_dlpack(np.arange(4.0))
    assert u.dtype == mg.float64 and u.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match="Can't export tensors that require gradient"):
        np.from_dlpack(mg.ones(2, requires_grad=True, backend=backend))
    with pytest.raises(TypeError, match="expected an object with __dlpack__"):
        mg.from_dlpack([1, 2])
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the exchange with it is not checked")
    tt = torch.from_dlpack(t)
    tt[1] = 20.0
    assert t.tolist() == [10.0, 20.0, 3.0]
    back = mg.from_dlpack(torch.arange(3, dtype=torch.int64))
    assert back.dtype == mg.int64 and back.tolist() == [0, 1, 2]
