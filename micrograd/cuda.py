"""`mg.cuda`, PyTorch's names for the CUDA device: availability, device count and selection, seeding.

micrograd's CUDA backend is CuPy (`pip install -e ".[cuda12]"`). It runs on one device per process:
`set_device(N)` picks it before tensors are made there (for several GPUs, run one process per GPU, as
distributed training does).
"""
from . import backend as _registry
from . import random as _random


def is_available():
    """Whether the CuPy backend is usable here (cupy installed, a driver, a device)."""
    return _registry.unavailable_reason("cupy") is None


def _backend(op):
    reason = _registry.unavailable_reason("cupy")
    if reason is not None:
        raise RuntimeError(f"cuda.{op}: no CUDA device is usable here: {reason}")
    return _registry.backend_object("cupy")


def device_count():
    """The number of CUDA devices visible (0 when CUDA is unusable)."""
    if not is_available():
        return 0
    return int(_backend("device_count").xp.cuda.runtime.getDeviceCount())


def current_device():
    """The index of the device the CUDA backend uses in this process."""
    return int(_backend("current_device").device.partition(":")[2])


def set_device(device):
    """Make the CUDA backend use device `device` (an index, "cuda:N" or an mg.device) from now on."""
    from .devices import device as _device
    d = _device(device) if not isinstance(device, int) else _device("cuda", device)
    if d.type != "cuda":
        raise ValueError(f"cuda.set_device: expected a CUDA device; got {d}")
    b = _backend("set_device")
    index = 0 if d.index is None else d.index
    count = device_count()
    if index >= count:
        raise RuntimeError(f"cuda.set_device: CUDA error: invalid device ordinal {index} ({count} visible)")
    b.use_device(index)


def synchronize(device=None):
    """Wait for the CUDA device to finish its work."""
    _backend("synchronize").synchronize()


def get_device_name(device=None):
    b = _backend("get_device_name")
    props = b.xp.cuda.runtime.getDeviceProperties(current_device() if device is None else int(
        str(device).rpartition(":")[2] or 0))
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed):
    """micrograd draws every device's random numbers from the one host generator (mg.manual_seed): seeding
    CUDA seeds it when CUDA is usable; without CUDA the call is ignored, as PyTorch ignores it."""
    if is_available():
        _random.manual_seed(seed)


def manual_seed_all(seed):
    manual_seed(seed)


def empty_cache():
    """Release the CuPy memory pool's unused blocks (nothing to do without CUDA)."""
    if is_available():
        _backend("empty_cache").xp.get_default_memory_pool().free_all_blocks()
