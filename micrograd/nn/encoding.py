"""nn.functional.one_hot: class indices as one-hot int64 vectors, with PyTorch's checks and messages."""
import numpy as np

from ..errors import RuntimeTypeError, RuntimeValueError
from ..tensor import Tensor


def one_hot(input, num_classes=-1):  # noqa: A002  (PyTorch's argument name)
    """An int64 tensor of shape input.shape + (num_classes,): 1 at each index's class, 0 elsewhere.

    input is an int64 tensor of class indices in [0, num_classes); num_classes=-1 takes the largest index + 1.
    Not differentiable (an integer result), as in PyTorch.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot(): argument 'num_classes' (position 2) must be int, not "
                        f"{type(num_classes).__name__}")
    if input.dtype != np.int64:
        raise RuntimeTypeError(f"one_hot is only applicable to index tensor of type LongTensor. (one_hot: got dtype "
                               f"{input.dtype.name})")
    idx = input._host()
    if idx.size == 0:
        if num_classes <= 0:
            raise RuntimeValueError(f"Can not infer total number of classes from empty tensor. (one_hot: input of "
                                    f"shape {input.shape}, num_classes={num_classes})")
    elif idx.min() < 0:
        raise RuntimeValueError(f"Class values must be non-negative. (one_hot: got {int(idx.min())})")
    elif num_classes == -1:
        num_classes = int(idx.max()) + 1
    elif idx.max() >= num_classes:
        raise RuntimeValueError(f"Class values must be smaller than num_classes. (one_hot: got {int(idx.max())} "
                                f"with num_classes={num_classes})")
    out = (idx[..., None] == np.arange(int(num_classes))).astype(np.int64)
    return Tensor._make(input._backend.asarray(out, np.int64), input._backend, False, None, 0)
