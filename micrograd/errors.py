"""Error classes for the errors PyTorch raises as RuntimeError (or, in its dataset classes, AssertionError).

micrograd's own errors are ValueError and TypeError ("<op>: <problem>; got <detail>"). Where PyTorch raises a
RuntimeError for the same mistake, micrograd raises one of these with PyTorch's message, so that code written
for either keeps catching it: `except RuntimeError` and `except ValueError` (or `TypeError`) both work.
"""


class RuntimeValueError(RuntimeError, ValueError):
    """A RuntimeError in PyTorch, a ValueError in micrograd's own terms (a bad value, shape or state)."""


class RuntimeTypeError(RuntimeError, TypeError):
    """A RuntimeError in PyTorch, a TypeError in micrograd's own terms (a bad dtype or kind of argument)."""


class AssertionValueError(AssertionError, ValueError):
    """An AssertionError in PyTorch (the dataset classes' checks), a ValueError in micrograd's own terms."""
