"""`Module`: the one base class for scalar (Value) and tensor models, PyTorch-style."""
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from micrograd.autograd import inplace
from micrograd.autograd.accumulate import reset_grad

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _is_parameter(x):
    # A duck check keeps this file free of imports from the tensor engine.
    return getattr(type(x), "_is_parameter", False)


def _is_tensor(x):
    from micrograd.tensor import Tensor

    return isinstance(x, Tensor)


def _check_name(kind, name):
    if not isinstance(name, str):
        raise TypeError(f"register_{kind}: name must be a str; got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"register_{kind}: name must be non-empty and contain no '.'; got {name!r}")


class Module:
    """Base class for models: holds Parameters, buffers and submodules assigned as attributes.

    Assigning a `Parameter` to an attribute registers it in `_parameters`, a `Module` in `_modules`;
    `register_buffer` adds a non-trainable Tensor to `_buffers`. All three are ordered by registration
    and read back as attributes. Subclasses define `forward`; calling the module calls it.

    Scalar models (Neuron, Layer, MLP) keep Values in plain lists and override `parameters()` (and the
    traversal hooks `named_parameters` / `named_children`), so both kinds share every method here.
    Calling `super().__init__()` is optional: the registries are set up in `__new__`, so classic
    micrograd-style subclasses that never call it keep working.
    """

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}
        return self

    def __init__(self):
        pass

    def forward(self, *args, **kwargs):
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(
            f"{type(self).__name__}.forward: not implemented; define forward() in the subclass"
        )

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # Registration

    def __setattr__(self, name, value):
        d = self.__dict__
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if _is_parameter(value):
            self._forget(name)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} to parameter "
                    f"'{name}'; got {value!r} (a Parameter or None is expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} to submodule "
                    f"'{name}' (a Module or None is expected)"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not _is_tensor(value):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} to buffer "
                    f"'{name}' (a Tensor or None is expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: registered members live in the registries, not __dict__.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            members = d.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for members in (self._parameters, self._buffers, self._modules):
            if name in members:
                del members[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        members = set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(set(super().__dir__()) | members)

    def _forget(self, name):
        """Drop `name` from every registry and the instance dict, before it is registered anew."""
        self.__dict__.pop(name, None)
        for members in (self._parameters, self._buffers, self._modules):
            members.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def register_parameter(self, name, param):
        """Register `param` (a Parameter, or None for an absent one) as attribute `name`."""
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"register_parameter: attribute '{name}' already exists")
        if param is not None and not _is_parameter(param):
            raise TypeError(
                f"register_parameter: '{name}' must be a Parameter or None; got {type(param).__name__}"
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a Tensor (or None) that is state but not a parameter, such as running statistics.

        Args:
            persistent: whether the buffer belongs in the state dict.
        """
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"register_buffer: attribute '{name}' already exists")
        if tensor is not None and not _is_tensor(tensor):
            raise TypeError(
                f"register_buffer: '{name}' must be a Tensor or None; got {type(tensor).__name__}"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register `module` (a Module, or None) as submodule `name`."""
        _check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"add_module: attribute '{name}' already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: '{name}' must be a Module or None; got {type(module).__name__}"
            )
        self._modules[name] = module

    # Traversal

    def named_children(self):
        """Yield (name, module) for each direct submodule, each module once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield each direct submodule once."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for this module (name `prefix`) and every module below it."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self.named_children():
            yield from module.named_modules(memo, _join(prefix, name), remove_duplicate)

    def get_submodule(self, target):
        """The module at the dotted path `target` ("" is this module), as PyTorch's get_submodule."""
        module = self
        for item in target.split(".") if target else ():
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def modules(self):
        """Yield this module and every module below it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, parameter) pairs; a parameter shared by several modules comes once."""
        seen = set()
        for name, p in self._named_members("named_parameters", "_parameters", prefix, recurse):
            if remove_duplicate:
                if id(p) in seen:
                    continue
                seen.add(id(p))
            yield name, p

    def parameters(self, recurse=True):
        """Return the list of parameters, each once (by identity), in registration order. The list also answers
        next(), as PyTorch's generator does (`next(model.parameters())` gives the first parameter)."""
        return _Parameters(p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, buffer) pairs, each buffer once."""
        seen = set()
        for name, b in self._named_members("named_buffers", "_buffers", prefix, recurse):
            if remove_duplicate:
                if id(b) in seen:
                    continue
                seen.add(id(b))
            yield name, b

    def buffers(self, recurse=True):
        """Yield every buffer once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _named_members(self, method, registry, prefix, recurse):
        # Each child lists its own members through the public method, so a subclass that overrides it
        # (a scalar Neuron listing its Values) is seen by every module above it.
        for name, member in getattr(self, registry).items():
            if member is not None:
                yield _join(prefix, name), member
        if recurse:
            for name, child in self.named_children():
                yield from getattr(child, method)(prefix=_join(prefix, name), recurse=True)

    def apply(self, fn):
        """Call `fn` on every submodule (children first) and then on self; return self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # Modes and gradients

    def train(self, mode=True):
        """Set training mode (True) or evaluation mode (False) here and in every submodule; return self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool; got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Set evaluation mode (dropout off, batch norm uses running statistics); return self."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset gradients: a Tensor's to None (PyTorch 2's default) or, with set_to_none=False, to zeros in place;
        a Value's to 0."""
        from micrograd.engine import Value

        for p in self.parameters():
            if isinstance(p, Value):
                p.grad = 0.0
            else:
                reset_grad(p, set_to_none)

    # State and placement

    def _state_items(self, prefix=""):
        """Yield (dotted name, live object) for every parameter and persistent buffer, as state_dict orders them."""
        for name, p in self.named_parameters(prefix=prefix, recurse=False, remove_duplicate=False):
            yield name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield _join(prefix, name), b
        # Every registered name, a module shared under two names included (as PyTorch); then any children
        # a subclass lists itself (the scalar Layer's neurons).
        children = [(name, m) for name, m in self._modules.items() if m is not None]
        names = {name for name, _ in children}
        children += [(name, m) for name, m in self.named_children() if name not in names]
        for name, child in children:
            yield from child._state_items(_join(prefix, name))

    def state_dict(self, keep_vars=False):
        """An ordered dict of name -> Tensor for every parameter and persistent buffer, with PyTorch's names.

        The Tensors are detached and share memory with the module (an optimizer step shows in them);
        `keep_vars=True` gives the Parameters themselves. A scalar model's Values appear as float64 0-d
        Tensors (copies).
        """
        from micrograd.engine import Value
        from micrograd.tensor import Tensor

        out = OrderedDict()
        for name, obj in self._state_items():
            if keep_vars:
                out[name] = obj
            elif isinstance(obj, Value):
                out[name] = Tensor(obj.data, dtype="float64")
            else:
                out[name] = obj.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from `state_dict` into this module's parameters and buffers, in place.

        Values may be Tensors (any backend), NumPy arrays or numbers; each is cast to its parameter's dtype.
        Every name, shape and value is checked before anything changes, so a failed load leaves the
        module as it was.

        Args:
            strict: require the keys to match this module's state_dict() keys exactly.

        Returns:
            IncompatibleKeys(missing_keys, unexpected_keys): lists of names (both empty when strict).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expects a mapping of name -> Tensor or "
                            f"array; got {type(state_dict).__name__}")
        own = list(self._state_items())
        own_names = {name for name, _ in own}
        missing = [name for name, _ in own if name not in state_dict]
        unexpected = [key for key in state_dict if key not in own_names]
        errors = []
        if strict and unexpected:
            errors.append(f"unexpected key(s): {', '.join(repr(str(k)) for k in unexpected)}")
        if strict and missing:
            errors.append(f"missing key(s): {', '.join(repr(k) for k in missing)}")
        staged = []
        for name, target in own:
            if name in state_dict:
                host, problem = _host_value(name, state_dict[name], target)
                if problem:
                    errors.append(problem)
                else:
                    staged.append((target, host))
        if errors:
            raise ValueError(f"{type(self).__name__}.load_state_dict: nothing was loaded; "
                             + "; ".join(errors))
        for target, host in staged:
            if _is_tensor(target):
                b = target._backend
                b.assign_(target._data, b.asarray(host, target.dtype))
                inplace.counter(target)[0] += 1  # an in-place change, as PyTorch's copy_ counts it
            else:
                target.data = float(host)
        return IncompatibleKeys(missing, unexpected)

    def _tensors(self):
        """Every parameter and buffer Tensor (Values excluded), each once."""
        seen = set()
        for _, t in list(self.named_parameters()) + list(self.named_buffers()):
            if _is_tensor(t) and id(t) not in seen:
                seen.add(id(t))
                yield t

    def to(self, *args, **kwargs):
        """Move every parameter and buffer to a device or backend, and/or cast the floating ones to a floating
        dtype, as PyTorch's Module.to: to(device), to(dtype), to(device, dtype), to(tensor), keywords device=,
        dtype=. Works in place: the Parameter objects stay the same, so an optimizer built on them keeps
        working. Gradients move with their parameters. Returns self."""
        from micrograd import devices, dtypes

        target, dtype, _ = devices.parse_to(args, kwargs, f"{type(self).__name__}.to")
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype, f"{type(self).__name__}.to")
            if not dtypes.is_floating(dtype):
                raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                                f"dtype={dtype.name}")
        for t in self._tensors():
            b = t._backend if target is None else devices.backend_of_target(t._backend, target)
            if b is not t._backend:
                t._data = b.asarray(t._backend.to_numpy(t._data), t.dtype)
                t._backend = b
                if t.grad is not None:
                    t.grad = t.grad.detach().to(b)
            if dtype is not None and t.dtype.kind == "f" and t.dtype != dtype:
                t._data = t._backend.astype(t._data, dtype)
                if t.grad is not None:
                    t.grad = t.grad.detach().astype(dtype)
        return self

    def cpu(self):
        """Move parameters and buffers to the CPU backend in force; return self."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move parameters and buffers to the CUDA backend; return self."""
        return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")

    def float(self):  # noqa: A003  (PyTorch's name)
        """Cast floating parameters and buffers to float32 in place; return self."""
        return self.to(dtype="float32")

    def double(self):
        """Cast floating parameters and buffers to float64 in place; return self."""
        return self.to(dtype="float64")

    def half(self):
        return self.to(dtype="float16")

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter (freeze with False); return self."""
        for p in self.parameters():
            if _is_tensor(p):
                p.requires_grad_(requires_grad)
        return self

    # Text

    def extra_repr(self):
        """The text shown inside this module's parentheses in repr; subclasses override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_indent(repr(module), 2)}" for name, module in self.named_children()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


class _Parameters(list):
    """Module.parameters()'s list: a list (micrograd's contract, so `len(model.parameters())` works) that is also
    an iterator over its items, as PyTorch's generator, for `next(model.parameters())`."""

    def __next__(self):
        it = self.__dict__.get("_it")
        if it is None:
            it = self.__dict__["_it"] = iter(list(self))
        return next(it)


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _indent(text, n):
    """Indent every line of `text` but the first by n spaces."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * n + line for line in rest])


def _host_value(name, value, target):
    """(NumPy array ready to copy into `target`, None) or (None, what is wrong with `value`)."""
    import numpy as np

    from micrograd.engine import Value

    if _is_tensor(value):
        host = value._host()
    elif isinstance(value, Value):
        host = np.asarray(value.data)
    else:
        try:
            host = np.asarray(value)
        except (TypeError, ValueError):
            host = None
        if host is None or host.dtype.kind not in "biuf":
            return None, (f"'{name}' must be numeric (a Tensor, a NumPy array or a number); got "
                          f"{type(value).__name__}" + ("" if host is None else f" of dtype {host.dtype}"))
    shape = tuple(target.shape) if _is_tensor(target) else ()
    if host.shape != shape:
        return None, f"size mismatch for '{name}': expected shape {shape}; got {host.shape}"
    kind = target.dtype.kind if _is_tensor(target) else "f"
    if kind in "iu" and host.dtype.kind == "f" and not (np.isfinite(host).all() and (host == np.round(host)).all()):
        return None, f"'{name}' holds integers ({target.dtype.name}); got non-integral values of dtype {host.dtype}"
    return host, None
