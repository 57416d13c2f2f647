"""backends/codegen.py: what an elementwise definition may say, and what it turns into.

The compiled kernels themselves are checked against the reference on every backend (test_backend_conformance,
test_numba_kernels, the stand-in); here, the grammar's limits and the shape of the generated code.
"""
import numpy as np
import pytest

from micrograd.backends import elementwise
from micrograd.backends.codegen import Kernel


def _kernel(fn, **kw):
    return Kernel(fn, known=elementwise.KERNELS, **kw)


def test_a_definition_is_its_own_numpy_version_and_its_outputs_are_named():
    def clamp_grad(g, x, lo):
        inside = x >= lo
        return g * inside

    k = _kernel(clamp_grad, scalars=("lo",))
    assert k.arrays == ["g", "x"] and k.outputs == ["out"] and not k.inplace and not k.transcendental
    x = np.array([-1.0, 0.5, 2.0], np.float32)
    assert k(np.ones(3, np.float32), x, 0.0).tolist() == [0.0, 1.0, 1.0]
    assert k(np.ones(3, np.float32), x, 0.0).dtype == np.float32  # weak Python numbers


def test_literals_take_the_operands_type_and_calls_are_inlined():
    k = elementwise.KERNELS["lstm_cell_units"]
    src = k.numba_source("float32")
    # sigmoid inlined, three times; exp and tanh are the vectorisable versions (backends/_numba_math.py)
    assert "_T(1.0)" in src and src.count("_exp(") == 3 and "_tanh(" in src and "math." not in src
    assert "sigmoid(" not in src and k.transcendental and not k.scalar_libm
    in_params, out_params, operation = k.cuda()
    assert in_params == "T zi_, T zf_, T zg_, T zo_, T c_" and out_params.startswith("T i_, T f_, T g_")
    assert "((T)1.0)" in operation and operation.count("exp(") == 3
    back = elementwise.KERNELS["lstm_cell_units_backward"]
    assert "T do_" in back.cuda()[1]  # `do`, a C keyword, is a fine name in a definition


def test_in_place_outputs_are_the_returned_arguments():
    k = elementwise.KERNELS["sgd_momentum"]
    assert k.inplace == ["p", "buf"] and k.new_outputs == [] and k.scalars == ("lr", "momentum", "damp")
    ins, outs, operation = k.cuda()
    assert ins == "T g_, T lr_, T momentum_, T damp_" and outs == "T p_, T buf_"
    assert operation.index("buf_1 =") < operation.index("p_1 =")  # p's update reads the new buf


@pytest.mark.parametrize("body, problem", [
    ("    return x ** 2\n", "operator Pow is not supported"),
    ("    return np.sinc(x)\n", "unknown function 'np.sinc'"),
    ("    return exp(x)\n", "unknown function 'exp, write np.exp'"),
    ("    return np.linalg.norm(x)\n", "unknown function 'np.linalg.norm'"),
    ("    y = x\n    y += 1\n    return y\n", "only `name = expression` statements"),
    ("    return 0 < x < 1\n", "only single comparisons"),
    ("    return x if x > 0 else 0\n", "IfExp is not supported"),
    ("    y_1 = x\n    return y_1\n", "may not start or end with an underscore or end in _<digits>"),
    ("    return x, x * 2\n", "a returned tuple must hold names"),
    ("    np.where(x > 0, x, 0)\n", "must end with a return"),
    ("    return np.where(x > 0, x)\n", "where takes three arguments"),
    ("    return True * x\n", "constant True is not a number"),
    ("    return x + y\n", "unknown name 'y'"),
    ("    return np.where(x > 0, 1, 0)\n", "where needs an array in one of its branches"),
])
def test_unsupported_syntax_is_named_with_the_kernel_and_line(body, problem):
    source = f"def bad(x):\n    \"\"\"A definition outside the grammar.\"\"\"\n{body}"
    namespace = {}
    exec(source, namespace)
    with pytest.raises(SyntaxError, match=rf"elementwise kernel bad: .*{problem}.*\(line \d+ of its definition\)"):
        _kernel(namespace["bad"], source=source)


def test_scalars_must_be_arguments():
    def scale(x, a):
        return a * x

    with pytest.raises(SyntaxError, match=r"scalars \['b'\] are not arguments"):
        _kernel(scale, scalars=("b",))
