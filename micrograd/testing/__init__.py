"""Helpers for testing code built on micrograd: Hypothesis strategies and property checks.

`micrograd.testing.strategies` (needs Hypothesis) draws Tensors, broadcastable shapes, axes and backends,
and `check_function(fn, arity, domain)` property-tests a function or an `mg.Function` subclass against
float64 finite differences and the numpy backend on every backend available here. The gradient checkers
themselves are `mg.gradcheck` and `mg.gradgradcheck`.
"""
