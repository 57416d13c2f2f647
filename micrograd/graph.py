"""Graph walking shared by the scalar and tensor engines: iterative, so depth is unbounded."""


def toposort(root, parents):
    """Return the nodes reachable from `root` in topological order (inputs before users).

    Args:
        root: the node to start from.
        parents: a function mapping a node to an iterable of its input nodes.

    Iterative depth-first search with an explicit stack, so graphs millions of nodes deep work. The order
    is a deterministic function of the graph (parents are visited in the order `parents` yields them).
    """
    order = []
    visited = {id(root)}
    stack = [(root, iter(parents(root)))]
    while stack:
        node, it = stack[-1]
        for p in it:
            if id(p) not in visited:
                visited.add(id(p))
                stack.append((p, iter(parents(p))))
                break
        else:
            stack.pop()
            order.append(node)
    return order
