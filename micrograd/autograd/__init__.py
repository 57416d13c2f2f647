"""Graph recording, reverse-mode and forward-mode differentiation for Tensors.

Every differentiable op is a `Function` (function.py): `forward(ctx, *args)` computes with backend primitives
while recording is off; `backward(ctx, *grads)` is written with differentiable Tensor ops, so running it with
recording on (create_graph=True) gives gradients of gradients. The graph is a DAG of `Node`s; a Tensor points
at the node that made it. reverse.py walks it in one iterative pass (reverse mode); accumulate.py sums the gradients
that meet; grad_mode.py holds the recording switch and anomaly detection. forward.py is forward mode: tensors carry
tangents per dual level (forward_ad.py, PyTorch's API) and each op's `jvp` rule pushes them through;
functional.py is torch.autograd.functional's API over micrograd.func's transforms.
"""
from .reverse import backward, grad, run_backward
from .function import Context, Function, Node
from .grad_mode import detect_anomaly, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import forward_ad, functional  # noqa: E402  (forward mode; torch.autograd.functional's API)

__all__ = ["Context", "Function", "Node", "backward", "detect_anomaly", "enable_grad", "forward_ad", "functional",
           "grad", "is_grad_enabled", "no_grad", "run_backward"]
