"""Tensor's Python operators, attached to the class once micrograd/ops exists (micrograd/tensor.py's last step).

Arithmetic operators promote as PyTorch does (ops.binary); comparisons give bool tensors; the augmented
assignments `+= -= *= /= //= %= **= &= |= ^= <<= >>=` change the tensor in place, with PyTorch's autograd
rules (micrograd/autograd/inplace.py); `@=` rebinds, as in PyTorch. Every op registered as a method in
micrograd/ops becomes a Tensor method, and each of them with an in-place twin a `name_` method.
"""
from . import ops

# operator -> the Function behind it (binary arithmetic, through ops.binary's promotion)
ARITHMETIC = {"add": ops.Add, "sub": ops.Sub, "mul": ops.Mul, "truediv": ops.Div, "pow": ops.Pow,
              "floordiv": ops.FloorDivide, "mod": ops.Remainder}
# operator -> the public function behind it
FUNCTIONS = {"and": ops.bitwise_and, "or": ops.bitwise_or, "xor": ops.bitwise_xor,
             "lshift": ops.bitwise_left_shift, "rshift": ops.bitwise_right_shift, "matmul": ops.matmul}
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")
# augmented assignment -> the in-place method it calls
AUGMENTED = {"iadd": "add_", "isub": "sub_", "imul": "mul_", "itruediv": "div_", "ifloordiv": "floor_divide_",
             "imod": "remainder_", "ipow": "pow_", "iand": "bitwise_and_", "ior": "bitwise_or_",
             "ixor": "bitwise_xor_", "ilshift": "bitwise_left_shift_", "irshift": "bitwise_right_shift_"}


def _arithmetic(fn):
    binary = ops.binary

    def forward(self, other):
        return binary(fn, self, other)

    def reflected(self, other):
        return binary(fn, other, self)
    return forward, reflected


def _function(fn):
    return (lambda self, other: fn(self, other)), (lambda self, other: fn(other, self))


def _comparison(op):
    compare = ops.compare
    return lambda self, other: compare(op, self, other)


def _augmented(method):
    def augmented(self, other):
        return getattr(self, method)(other)
    return augmented


def _inplace_method(cls, name):
    method = getattr(cls, name)

    def method_(self, *args, **kwargs):
        return self._inplace(lambda a: method(a, *args, **kwargs), args)
    method_.__name__ = method_.__qualname__ = name + "_"
    method_.__doc__ = f"In place: self = self.{name}(...), with PyTorch's autograd rules for in-place updates."
    return method_


def install(cls):
    """Attach the operators, the ops' methods and their in-place twins to the Tensor class `cls` (methods the
    class writes out itself win)."""
    made = {}
    for name, fn in ARITHMETIC.items():
        made[f"__{name}__"], made[f"__r{name}__"] = _arithmetic(fn)
    for name, fn in FUNCTIONS.items():
        made[f"__{name}__"], made[f"__r{name}__"] = _function(fn)
    for op in COMPARISONS:
        made[f"__{op}__"] = _comparison(op)
    for name, method in AUGMENTED.items():
        made[f"__{name}__"] = _augmented(method)
    made["__invert__"] = lambda self: ops.bitwise_not(self)
    made["__neg__"] = lambda self: ops.Neg.apply(self)
    made["__pos__"] = lambda self: self
    made["__abs__"] = lambda self: self.abs()
    made["__getitem__"] = lambda self, index: ops.getitem(self, index)
    for name, fn in made.items():
        fn.__name__ = fn.__qualname__ = name
        if name not in vars(cls):
            setattr(cls, name, fn)
    for name, method in ops.METHODS.items():
        if name not in vars(cls):
            setattr(cls, name, method)
    for name in ops.INPLACE:
        if name + "_" not in vars(cls):
            setattr(cls, name + "_", _inplace_method(cls, name))


# PyTorch's top-level in-place functions: torch.relu_(t) is t.relu_()
TOP_LEVEL_INPLACE = ("abs", "clamp", "clamp_max", "clamp_min", "clip", "cos", "erf", "exp", "fill", "log", "neg",
                     "negative", "relu", "sigmoid", "sin", "sqrt", "tanh", "zero")


def inplace_functions():
    """{name_: function} for micrograd's namespace: each calls the tensor's in-place method."""
    out = {}
    for name in TOP_LEVEL_INPLACE:
        def fn(input, *args, _method=name + "_", **kwargs):  # noqa: A002  (PyTorch's argument name)
            return getattr(input, _method)(*args, **kwargs)
        fn.__name__ = fn.__qualname__ = name + "_"
        fn.__doc__ = f"input.{name}_(...): in place."
        out[name + "_"] = fn
    return out
