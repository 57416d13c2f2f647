"""Graphviz DOT text for the graph behind a Tensor or a Value (like the classic micrograd's draw_dot)."""
from .engine import Value
from .graph import toposort
from .tensor import Tensor


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tensor_label(t):
    return f"{t.dtype.name} {tuple(t.shape)}"


def _value_graph(root):
    lines = []
    for v in toposort(root, lambda n: n._prev):
        vid = f"v{id(v)}"
        lines.append(f"  {vid} [shape=record, label={_quote(f'data {v.data:.4f} | grad {v.grad:.4f}')}];")
        if v._op:
            lines.append(f"  {vid}_op [label={_quote(v._op)}];")
            lines.append(f"  {vid}_op -> {vid};")
            for p in v._prev:
                lines.append(f"  v{id(p)} -> {vid}_op;")
    return lines


def _tensor_graph(root):
    lines = [f"  out [shape=record, label={_quote('output | ' + _tensor_label(root))}];"]
    if root._node is None:
        return lines
    lines.append(f"  n{id(root._node)} -> out;")
    for node in toposort(root._node, lambda n: n.parents()):
        shapes = ", ".join(f"{tuple(s)}" for s, _ in node.out_meta)
        dt = node.out_meta[0][1].name if node.out_meta else ""
        lines.append(f"  n{id(node)} [shape=box, label={_quote(f'{node.name} | {dt} {shapes}')}];")
        for i, edge in enumerate(node.edges):
            if edge is None:
                continue
            src = edge[0]
            if isinstance(src, Tensor):
                lines.append(f"  t{id(src)} [shape=record, label={_quote('leaf | ' + _tensor_label(src))}];")
                lines.append(f"  t{id(src)} -> n{id(node)};")
            else:
                lines.append(f"  n{id(src)} -> n{id(node)};")
    return lines


def to_dot(root, rankdir="LR"):
    """The graph that produced `root` (a Tensor or a Value) as Graphviz DOT text.

    Tensor graphs show each op with its output shapes and dtype and each leaf that requires grad;
    Value graphs show data and grad of every node. Render with `dot -Tsvg` (Graphviz) if installed.
    """
    if isinstance(root, Value):
        body = _value_graph(root)
    elif isinstance(root, Tensor):
        body = _tensor_graph(root)
    else:
        raise TypeError(f"to_dot: expects a Tensor or a Value; got {type(root).__name__}")
    seen, unique = set(), []
    for line in body:
        if line not in seen:
            seen.add(line)
            unique.append(line)
    return "\n".join(["digraph micrograd {", f"  rankdir={rankdir};", *unique, "}"]) + "\n"
