"""micrograd's public op functions (ops.PUBLIC: mg.sum, mg.argsort, ...) as one namespace for this package."""
from types import SimpleNamespace

from ..ops import PUBLIC

ops = SimpleNamespace(**PUBLIC)
