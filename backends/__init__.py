"""Array backends for micrograd: one module per backend, each implementing backends/base.py's primitives."""
