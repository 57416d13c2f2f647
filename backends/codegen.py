"""Elementwise kernel definitions (backends/elementwise.py) turned into each backend's code.

A definition's source is parsed once into assignments and returned expressions (the grammar: names, number
literals, + - * /, unary -, single comparisons, np.where(c, a, b), the np.<function>s of FUNCTIONS, and calls
of earlier definitions). From them come:
- `numba_source`: Python source of a loop over flat arrays (and a variant over column blocks of 2-d arrays) for
  Numba to compile, each element's operands loaded into locals first and its outputs stored last;
- `cuda`: the (in_params, out_params, operation) of a CuPy ElementwiseKernel, in CUDA C.
Number literals become the operands' float type (`_T(1.0)`, `((T)1.0)`), and a comparison used as a number
becomes 0 or 1 of that type, so float32 stays float32 as in NumPy 2. Calls of other definitions are inlined.
Only the grammar below is accepted; anything else is an error naming the kernel and the line.
"""
import ast
import hashlib
import inspect
import re
import textwrap

# np.<name> in a definition -> (Numba spelling, CUDA C spelling); np.where(c, a, b) is the select.
FUNCTIONS = {
    "abs": ("abs", "fabs"), "floor": ("math.floor", "floor"), "ceil": ("math.ceil", "ceil"),
    "trunc": ("math.trunc", "trunc"), "sqrt": ("math.sqrt", "sqrt"),
    "exp": ("_exp", "exp"), "expm1": ("math.expm1", "expm1"), "log": ("math.log", "log"),
    "log1p": ("math.log1p", "log1p"), "log2": ("math.log2", "log2"), "log10": ("math.log10", "log10"),
    "sin": ("math.sin", "sin"), "cos": ("math.cos", "cos"), "tan": ("math.tan", "tan"),
    "arcsin": ("math.asin", "asin"), "arccos": ("math.acos", "acos"), "arctan": ("math.atan", "atan"),
    "sinh": ("math.sinh", "sinh"), "cosh": ("math.cosh", "cosh"), "tanh": ("_tanh", "tanh"),
    "arcsinh": ("math.asinh", "asinh"), "arccosh": ("math.acosh", "acosh"), "arctanh": ("math.atanh", "atanh"),
}
ARITHMETIC = frozenset(("abs", "floor", "ceil", "trunc"))  # the rest go through libm: "transcendental"
# Numba's loops vectorise these too: exp and tanh are backends/_numba_math.py's (`_exp`, `_tanh` in the
# generated module), the rest of libm stays scalar there ("scalar_libm").
VECTORISED = ARITHMETIC | {"exp", "tanh"}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_COMPARE = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
NUMBA, C = 0, 1  # emission targets


class Kernel:
    """One elementwise definition: callable as the plain Python function, and the source of compiled versions.

    Attributes:
        name, params (argument names), scalars (those that are numbers), arrays (the others),
        outputs (output names; a bare returned expression is `out`), inplace (outputs that are arguments),
        new_outputs (the others), calls (every function it uses, through inlined definitions too),
        primitive (a backend primitive under its own name).
    """

    def __init__(self, fn, scalars=(), primitive=False, known=None, source=None, fused=False):
        """`source`: the definition's text where inspect cannot find it (a function made by exec). `fused`: compile
        the loop even though it calls libm functions (a long expression, where one pass beats NumPy's many)."""
        self.fn, self.name, self.__doc__ = fn, fn.__name__, fn.__doc__
        self.primitive, self._known, self.fused = primitive, known if known is not None else {}, fused
        try:
            source = source or inspect.getsource(fn)
        except OSError as exc:  # an install without .py sources
            raise ImportError(f"elementwise kernel {self.name}: its definition's source is needed to compile it for "
                              f"each backend, and it cannot be read ({exc}); install micrograd with its sources")
        tree = ast.parse(textwrap.dedent(source)).body[0]
        self.params = [a.arg for a in tree.args.args]
        for p in self.params:
            _check_name(self, tree, p)
        unknown = set(scalars) - set(self.params)
        if unknown:
            self._error(tree, f"scalars {sorted(unknown)} are not arguments")
        self.scalars = tuple(scalars)
        self.arrays = [p for p in self.params if p not in self.scalars]
        self.stmts, self.returns, self.outputs = self._parse(tree)
        self.inplace = [o for o in self.outputs if o in self.params]
        self.new_outputs = [o for o in self.outputs if o not in self.params]
        self.calls = set()
        known = set(self.params)
        for name, node in self.stmts + list(zip(self.outputs, self.returns)):
            self._check(node, known)
            known.add(name)
        self.transcendental = bool(self.calls - ARITHMETIC)
        self.scalar_libm = bool(self.calls - VECTORISED)
        self.key = hashlib.sha1(repr((self.numba_source("T"), self.cuda())).encode()).hexdigest()[:10]

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self):
        return f"<elementwise kernel {self.name}({', '.join(self.params)}) -> {', '.join(self.outputs)}>"

    def _error(self, node, problem):
        raise SyntaxError(f"elementwise kernel {self.name}: {problem} (line {getattr(node, 'lineno', '?')} of "
                          f"its definition)")

    def _parse(self, tree):
        stmts, body = [], [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        for s in body[:-1]:
            if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
                self._error(s, "only `name = expression` statements may precede the return")
            _check_name(self, s, s.targets[0].id)
            stmts.append((s.targets[0].id, s.value))
        last = body[-1] if body else tree
        if not isinstance(last, ast.Return) or last.value is None:
            self._error(last, "the definition must end with a return")
        value = last.value
        if isinstance(value, ast.Tuple):
            if not all(isinstance(e, ast.Name) for e in value.elts):
                self._error(last, "a returned tuple must hold names")
            return stmts, list(value.elts), [e.id for e in value.elts]
        if isinstance(value, ast.Name):
            return stmts, [value], [value.id]
        return stmts, [value], ["out"]

    def _check(self, node, names):
        """Errors for anything outside the grammar in expression `node`, where `names` are defined."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id not in names and not _is_called(node, sub):
                self._error(sub, f"unknown name {sub.id!r} (not an argument or an earlier assignment)")
            if isinstance(sub, ast.Call):
                fname = _callee(sub)
                if fname == "where":
                    if len(sub.args) != 3 or sub.keywords:
                        self._error(sub, "where takes three arguments")
                    if all(isinstance(a, ast.Constant) for a in sub.args[1:]):
                        self._error(sub, "where needs an array in one of its branches (NumPy makes two numbers "
                                         "an int64 or float64 array, not the operands' dtype)")
                elif fname in FUNCTIONS:
                    if len(sub.args) != 1 or sub.keywords:
                        self._error(sub, f"{fname} takes one argument")
                    self.calls.add(fname)
                elif fname in self._known:
                    callee = self._known[fname]
                    if len(callee.outputs) != 1 or len(sub.args) != len(callee.params):
                        self._error(sub, f"{fname} is called with {len(sub.args)} arguments; it takes "
                                         f"{len(callee.params)} and must have one output")
                    self.calls |= callee.calls
                else:
                    self._error(sub, f"unknown function {fname!r} (allowed: np.where, np.{', np.'.join(FUNCTIONS)} "
                                     f"and earlier definitions)")
            elif isinstance(sub, ast.Compare) and (len(sub.ops) != 1 or type(sub.ops[0]) not in _COMPARE):
                self._error(sub, "only single comparisons (< <= > >= == !=) are supported")
            elif isinstance(sub, ast.BinOp) and type(sub.op) not in _BINARY:
                self._error(sub, f"operator {type(sub.op).__name__} is not supported (use + - * /)")
            elif isinstance(sub, ast.UnaryOp) and not isinstance(sub.op, (ast.USub, ast.UAdd)):
                self._error(sub, f"operator {type(sub.op).__name__} is not supported")
            elif isinstance(sub, ast.Constant) and (isinstance(sub.value, bool)
                                                    or not isinstance(sub.value, (int, float))):
                self._error(sub, f"constant {sub.value!r} is not a number")
            elif isinstance(sub, ast.Attribute) and not (isinstance(sub.value, ast.Name) and sub.value.id == "np"):
                self._error(sub, "only np.<function> attributes are supported")
            elif not isinstance(sub, (ast.Call, ast.Compare, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name,
                                      ast.Attribute, ast.Load, ast.operator, ast.unaryop, ast.cmpop)):
                self._error(sub, f"{type(sub).__name__} is not supported in a kernel expression")

    # ---- emission ----------------------------------------------------------------------------------------

    def _emit_body(self, target, env, lines, fresh):
        """Append this definition's assignments to `lines` (env: argument name -> emitted operand); returns the
        emitted outputs."""
        env = dict(env)
        for name, node in self.stmts:
            local = fresh(name)
            lines.append(_assign(target, local, _Expr(target, env, lines, fresh, self._known).emit(node)))
            env[name] = local
        outs = []
        for name, node in zip(self.outputs, self.returns):
            if isinstance(node, ast.Name):
                outs.append(env[node.id] if node.id in env else self._error(node, f"unknown name {node.id!r}"))
            else:
                local = fresh(name)
                lines.append(_assign(target, local, _Expr(target, env, lines, fresh, self._known).emit(node)))
                outs.append(local)
        return outs

    def numba_source(self, suffix):
        """Python source of two functions for Numba (literals typed `_T`, math through `math`):
        `<name>__<suffix>(*operands)` over flat arrays of one length (scalars as numbers, outputs last), and
        `<name>__<suffix>__rows(rows, cols, *operands)` where each array comes as (2-d C-contiguous array,
        column offset) and the kernel runs over its (rows, cols) block."""
        flat = f"{self.name}__{suffix}"
        fresh = _Fresh()
        lines = []
        env = {p: (p if p in self.scalars else fresh(p)) for p in self.params}
        loads = [f"{env[p]} = {p}[_i]" for p in self.arrays]
        outs = self._emit_body(NUMBA, env, lines, fresh)
        stores = [f"{name}[_i] = {value}" for name, value in zip(self.outputs, outs)]
        operands = self.params + self.new_outputs
        first = self.arrays[0] if self.arrays else self.new_outputs[0]
        body = "\n".join("        " + s for s in loads + lines + stores)
        blocks = [o for o in operands if o not in self.scalars]
        row_args = ", ".join(o if o in self.scalars else f"{o}[_r, {o}_o:{o}_o + cols]" for o in operands)
        row_params = ", ".join(o if o in self.scalars else f"{o}, {o}_o" for o in operands)
        assert blocks
        return (f"def {flat}({', '.join(operands)}):\n"
                f"    for _i in range({first}.shape[0]):\n{body}\n\n\n"
                f"def {flat}__rows(rows, cols, {row_params}):\n"
                f"    for _r in range(rows):\n"
                f"        {flat}({row_args})\n")

    def cuda(self):
        """(in_params, out_params, operation) of a CuPy ElementwiseKernel: inputs are the arguments that are not
        written, outputs the in-place arguments then the new outputs; every name gets a trailing underscore
        (CUDA keywords such as `do` stay usable in definitions)."""
        fresh = _Fresh()
        env = {p: f"{p}_" for p in self.params}
        lines = []
        outs = self._emit_body(C, env, lines, fresh)
        stores = [f"{name}_ = {value};" for name, value in zip(self.outputs, outs)]
        ins = ", ".join(f"T {p}_" for p in self.params if p not in self.inplace)
        outputs = ", ".join(f"T {p}_" for p in self.inplace + self.new_outputs)
        return ins, outputs, "\n".join(lines + stores)


def _is_called(expr, name_node):
    """Whether the Name is the function of a call in expr (a definition's name, or np's)."""
    return any(isinstance(n, ast.Call) and (n.func is name_node or getattr(n.func, "value", None) is name_node)
               for n in ast.walk(expr))


def _callee(call):
    """The called name: `np.exp` -> "exp" (a NumPy function), `sigmoid` -> "sigmoid" (a definition); a bare
    NumPy name such as `exp` is not allowed (it reads as a definition), and neither is `np.sigmoid`."""
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "np":
        return f.attr if f.attr in FUNCTIONS or f.attr == "where" else f"np.{f.attr}"
    if isinstance(f, ast.Name) and (f.id in FUNCTIONS or f.id == "where"):
        return f"{f.id}, write np.{f.id}"
    return f.id if isinstance(f, ast.Name) else ast.unparse(f)


def _check_name(kernel, node, name):
    """Generated code adds `_<n>` and `_` suffixes and `_`-prefixed names of its own: definitions avoid both."""
    if name.startswith("_") or name.endswith("_") or re.search(r"_[0-9]+$", name):
        kernel._error(node, f"name {name!r} may not start or end with an underscore or end in _<digits>")


class _Fresh:
    """Fresh local names: name_1, name_2, ... (definition names never start with an underscore)."""

    def __init__(self):
        self.count = {}

    def __call__(self, name):
        self.count[name] = self.count.get(name, 0) + 1
        return f"{name}_{self.count[name]}"


def _assign(target, name, value):
    return f"{name} = {value}" if target == NUMBA else f"T {name} = {value};"


class _Expr:
    """Emits one expression for `target`, inlining calls of other definitions into `lines`."""

    def __init__(self, target, env, lines, fresh, known):
        self.target, self.env, self.lines, self.fresh, self.known = target, env, lines, fresh, known

    def emit(self, node, as_number=True):
        t = self.target
        if isinstance(node, ast.Name):
            return self.env[node.id]
        if isinstance(node, ast.Constant):
            v = repr(float(node.value))
            return f"_T({v})" if t == NUMBA else f"((T){v})"
        if isinstance(node, ast.UnaryOp):
            return f"({'-' if isinstance(node.op, ast.USub) else '+'}{self.emit(node.operand)})"
        if isinstance(node, ast.BinOp):
            return f"({self.emit(node.left)} {_BINARY[type(node.op)]} {self.emit(node.right)})"
        if isinstance(node, ast.Compare):
            cmp = f"({self.emit(node.left)} {_COMPARE[type(node.ops[0])]} {self.emit(node.comparators[0])})"
            if not as_number:
                return cmp
            return f"_T{cmp}" if t == NUMBA else f"((T){cmp})"
        name = _callee(node)
        if name == "where":
            cond, a, b = node.args
            c, x, y = self.emit(cond, as_number=False), self.emit(a), self.emit(b)
            return f"({x} if {c} else {y})" if t == NUMBA else f"({c} ? {x} : {y})"
        if name in FUNCTIONS:
            return f"{FUNCTIONS[name][t]}({self.emit(node.args[0])})"
        callee = self.known[name]
        args = {}
        for param, arg in zip(callee.params, node.args):
            local = self.fresh(param)
            self.lines.append(_assign(t, local, self.emit(arg)))
            args[param] = local
        return callee._emit_body(t, args, self.lines, self.fresh)[0]
