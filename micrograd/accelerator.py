"""`mg.accelerator`, PyTorch's device-agnostic names: CUDA (CuPy) is micrograd's only accelerator."""
from . import cuda


def is_available():
    return cuda.is_available()


def current_accelerator(check_available=False):
    """device("cuda") when CUDA is usable, else None."""
    from .devices import device
    return device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count()


def current_device_index():
    return cuda.current_device()


def set_device_index(device):
    cuda.set_device(device)


def synchronize(device=None):
    cuda.synchronize(device)
