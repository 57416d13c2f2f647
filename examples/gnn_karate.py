"""A graph convolutional network (Kipf & Welling) on Zachary's karate club, semi-supervised.

    python examples/gnn_karate.py [--backend numpy] [--epochs 200] [--lr 0.01] [--out runs/gnn_karate]

The club split into two after a dispute; each member (node) followed either the instructor (Mr. Hi,
node 0) or the administrator (the Officer, node 33). The GCN sees the whole graph but only those two
labels, and predicts the side of the other 32 members. Each layer mixes every node's features with its
neighbours' through the normalised adjacency A_hat = D^-1/2 (A + I) D^-1/2, where A counts the
interactions Zachary observed between two members:

    H1 = ReLU(A_hat X W1),    logits = A_hat H1 W2,    X = one-hot node ids.

Target: at least 90% accuracy on the 32 unlabelled members. The graph is one batch, so --batch-size
and --limit are accepted (as by every example) but unused.
"""
import os

import networkx as nx
import numpy as np
from matplotlib.figure import Figure

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F

import common

CLUBS = ("Mr. Hi", "Officer")


class GraphConv(nn.Module):
    """One GCN layer: A_hat @ (H W + b)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, a_hat, h):
        return a_hat @ self.linear(h)


class GCN(nn.Module):
    def __init__(self, in_features, hidden, classes, dropout=0.5):
        super().__init__()
        self.conv1 = GraphConv(in_features, hidden)
        self.conv2 = GraphConv(hidden, classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, a_hat, x):
        h = self.dropout(self.conv1(a_hat, x).relu())
        return self.conv2(a_hat, h)


def normalized_adjacency(graph):
    """D^-1/2 (A + I) D^-1/2 with A weighted by the number of interactions between two members."""
    a = nx.to_numpy_array(graph, weight="weight") + np.eye(graph.number_of_nodes())
    d = a.sum(axis=1) ** -0.5
    return (d[:, None] * a * d[None, :]).astype(np.float32)


def draw(graph, predicted, labelled, path):
    """The club, each member coloured by the predicted side; the two labelled members ringed in black."""
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    pos = nx.spring_layout(graph, seed=0)
    colors = ["tab:blue" if p == 0 else "tab:orange" for p in predicted]
    edge = ["black" if i in labelled else "white" for i in graph.nodes]
    nx.draw_networkx(graph, pos, ax=ax, node_color=colors, edgecolors=edge, linewidths=2, font_size=8,
                     edge_color="0.7")
    ax.set_title("predicted side: blue = Mr. Hi, orange = Officer (ringed: labelled)")
    ax.axis("off")
    fig.savefig(path, dpi=100)


def predict(model, a_hat, x):
    """Each member's predicted club (0 or 1), with dropout off."""
    model.eval()
    with mg.no_grad():
        return model(a_hat, x).argmax(dim=1).numpy()


def main():
    p = common.parser(__doc__, epochs=200, batch_size=None, lr=0.01, batch_help="unused: the graph is one batch",
                      limit_help="unused: the graph is one batch")
    p.add_argument("--hidden", type=common.at_least(1), default=16, help="hidden features per node")
    args = common.setup(p, "gnn_karate")

    graph = nx.karate_club_graph()
    n = graph.number_of_nodes()
    labels = np.array([CLUBS.index(graph.nodes[i]["club"]) for i in range(n)])
    labelled = np.array([0, 33])  # one member of each club: the instructor and the administrator
    unlabelled = np.setdiff1d(np.arange(n), labelled)
    a_hat = mg.tensor(normalized_adjacency(graph))
    x = mg.eye(n)

    model = GCN(n, args.hidden, len(CLUBS))
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr, weight_decay=5e-4)
    print(f"{model}\nparameters: {sum(p.numel() for p in model.parameters()):,}; {n} members, "
          f"{graph.number_of_edges()} ties, labelled: {labelled.tolist()}, {args.backend} backend")

    history = common.History()
    bar = common.progress(range(1, args.epochs + 1), "training")
    for epoch in bar:
        model.train()
        logits = model(a_hat, x)  # forward pass over the whole graph
        loss = F.cross_entropy(logits[labelled], labels[labelled])  # only the two labelled members count
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        predicted = predict(model, a_hat, x)
        accuracy = float((predicted[unlabelled] == labels[unlabelled]).mean())
        bar.set_postfix(loss=f"{loss.item():.4f}", accuracy=f"{accuracy:.3f}", refresh=False)
        history.step(epoch, loss.item())
        history.log(epoch, echo=epoch % 50 == 0 or epoch == args.epochs, unlabelled_accuracy=accuracy)

    draw(graph, predicted, set(labelled.tolist()), os.path.join(args.out, "gnn_karate_graph.png"))
    wrong = unlabelled[predicted[unlabelled] != labels[unlabelled]]
    print(f"misclassified members: {wrong.tolist()}")
    common.finish(args, history, model, optimizer, test_accuracy=accuracy)


if __name__ == "__main__":
    main()
