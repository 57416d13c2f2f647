"""Random number generation: `mg.Generator` and the default generator behind `mg.manual_seed`.

Every random draw (randn, rand, randint, dropout masks, parameter initialisation, shuffling) is made on the
host by a NumPy PCG64 generator, then moved to the tensor's backend: one seed gives the same numbers on every
backend and device. The streams are not PyTorch's.
"""
import numpy as np

from .errors import RuntimeValueError

_MASK = (1 << 64) - 1


def _check_seed(seed, op):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{op}: the seed must be an int; got {type(seed).__name__}")
    seed = int(seed)
    if seed < -(1 << 63) or seed > _MASK:
        raise RuntimeValueError(f"Overflow when unpacking long long: {op} takes seeds in [-2**63, 2**64); "
                                f"got {seed}")
    return seed & _MASK  # negative seeds wrap, as in PyTorch


class Generator:
    """A random number generator (PyTorch's Generator): `manual_seed(seed)`, `seed()`, `initial_seed()`,
    `get_state()`/`set_state(state)`. Pass it as `generator=` to the random functions."""

    def __init__(self, device="cpu"):
        from .devices import device as _device
        self.device = _device(device)
        self.seed()

    def manual_seed(self, seed):
        """Reset the generator to the stream of `seed`; returns the generator."""
        self._seed = _check_seed(seed, "manual_seed")
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().generate_state(1, np.uint64)[0]))
        return self._seed

    def initial_seed(self):
        """The seed the generator was last reset with."""
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 tensor (restore it with set_state)."""
        from .factories import tensor
        s = self._rng.bit_generator.state
        words = [s["state"]["state"], s["state"]["inc"], s["has_uint32"], s["uinteger"], self._seed]
        raw = b"".join(int(w).to_bytes(16, "little") for w in words)
        return tensor(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state returned by get_state; returns the generator."""
        raw = np.asarray(new_state._host() if hasattr(new_state, "_host") else new_state, dtype=np.uint8)
        if raw.shape != (80,):
            raise RuntimeValueError(f"set_state: expected a state of 80 bytes from get_state(); got shape "
                                    f"{tuple(raw.shape)}")
        words = [int.from_bytes(raw[i:i + 16].tobytes(), "little") for i in range(0, 80, 16)]
        rng = np.random.default_rng()
        rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": words[0], "inc": words[1]},
                                   "has_uint32": words[2], "uinteger": words[3]}
        self._rng, self._seed = rng, words[4]
        return self

    def __repr__(self):
        return f"<micrograd.Generator object, device={self.device}, initial_seed={self._seed}>"


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (every draw that is given no generator); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    """Reseed the default generator nondeterministically; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def host(generator=None, op="random"):
    """The NumPy generator behind `generator` (an mg.Generator), or the default one's when None."""
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a micrograd Generator; got {type(generator).__name__}")
    return generator._rng
