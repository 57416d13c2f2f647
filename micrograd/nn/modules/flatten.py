"""Flatten: merges a range of dimensions into one."""
from ..module import Module
from .util import as_input


class Flatten(Module):
    """Flattens dimensions start_dim..end_dim into one (default: all but the batch dimension)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return as_input(self, x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
