"""PyTorch's torch.utils.hooks: the handle a hook registration returns."""


class RemovableHandle:
    """Removes the hook it was returned for: `handle.remove()`, or leaving a `with handle:` block."""

    def __init__(self, hooks, hook, on_remove=None):
        self._hooks, self._hook, self._on_remove = hooks, hook, on_remove

    def remove(self):
        """Unregister the hook (a second call does nothing)."""
        if self._hooks is not None:
            try:
                self._hooks.remove(self._hook)
            except ValueError:
                pass
            else:
                if self._on_remove is not None:
                    self._on_remove()
            self._hooks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
