"""Small training programs written in PyTorch's idioms, each run twice: with `torch` and with micrograd in its place.
Fed the same initial weights (PyTorch's state_dict loaded into micrograd's model, or the same NumPy arrays) and the
same batches, both must print the same losses (float64, on every CPU backend).

The programs cover what teaching code does: manual SGD on raw tensors with `p.data += -lr * p.grad`, embeddings
and `view`, BatchNorm written by hand with running statistics updated in place under no_grad, `retain_grad`,
DataLoader over a TensorDataset, optimizers with schedulers, Conv2d/BatchNorm2d/MaxPool2d, an LSTM with gradient
clipping, causal self-attention with `tril`/`masked_fill`, `f"{loss:.4f}"` and `.item()`.
"""
import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0): not compared")

RNG = np.random.default_rng(1234)
TOKENS = RNG.integers(0, 11, size=(64, 5))  # contexts of 4 characters and the next one, from an alphabet of 11


def char_mlp(torch, F, steps=20):
    """Bengio-style character MLP on raw tensors, manual SGD (the lecture's loop)."""
    g = np.random.default_rng(0)
    C = torch.tensor(g.standard_normal((11, 6)))
    W1 = torch.tensor(g.standard_normal((24, 32)) * 0.2)
    b1 = torch.tensor(g.standard_normal(32) * 0.01)
    W2 = torch.tensor(g.standard_normal((32, 11)) * 0.01)
    b2 = torch.zeros(11, dtype=torch.float64)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    X, Y = torch.tensor(TOKENS[:, :4]), torch.tensor(TOKENS[:, 4])
    losses = []
    for i in range(steps):
        ix = torch.tensor(np.arange(i * 7, i * 7 + 16) % 64)
        emb = C[X[ix]]
        h = torch.tanh(emb.view(-1, 24) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 10 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
    return losses


def manual_batchnorm(torch, F, steps=20):
    """A hidden layer with hand-written BatchNorm: unbiased var, running statistics updated in place under no_grad,
    retain_grad on an intermediate, and `p -= lr * p.grad` under no_grad."""
    g = np.random.default_rng(1)
    W1 = torch.tensor(g.standard_normal((4, 16)) * 0.5, requires_grad=True)
    gain = torch.ones((1, 16), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((1, 16), dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor(g.standard_normal((16, 11)) * 0.1, requires_grad=True)
    mean_running = torch.zeros((1, 16), dtype=torch.float64)
    std_running = torch.ones((1, 16), dtype=torch.float64)
    X = torch.tensor(TOKENS[:, :4].astype(np.float64) / 10)
    Y = torch.tensor(TOKENS[:, 4])
    losses = []
    for i in range(steps):
        ix = torch.tensor(np.arange(i * 5, i * 5 + 32) % 64)
        hpre = X[ix] @ W1
        mean, std = hpre.mean(0, keepdim=True), hpre.std(0, keepdim=True)
        hpre = gain * (hpre - mean) / std + bias
        hpre.retain_grad()
        with torch.no_grad():
            mean_running = 0.9 * mean_running + 0.1 * mean
            std_running.mul_(0.9).add_(0.1 * std)
        logits = torch.tanh(hpre) @ W2
        loss = F.cross_entropy(logits, Y[ix])
        for p in (W1, gain, bias, W2):
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in (W1, gain, bias, W2):
                p -= 0.2 * p.grad
        losses.append(f"{loss:.12f}")
        losses.append(float(hpre.grad.abs().sum()))
    losses.append(float(std_running.sum() + mean_running.sum()))
    return losses


def _classifier(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, 11))


def dataloader_adam(torch, F, model, steps=None):
    """A module trained over a DataLoader with Adam and StepLR, evaluated under no_grad each epoch."""
    X = torch.tensor(TOKENS[:, :4].astype(np.float64) / 10)
    Y = torch.tensor(TOKENS[:, 4])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=16, shuffle=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    losses = []
    for epoch in range(4):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        model.eval()
        with torch.no_grad():
            correct = (model(X).argmax(dim=1) == Y).sum().item()
        losses.append(correct)
    return losses


class _CNN:
    @staticmethod
    def build(torch):
        nn = torch.nn
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 2 * 2, 11))


def cnn_sgd(torch, F, model):
    """Conv2d + BatchNorm2d + MaxPool2d with SGD and Nesterov momentum."""
    images = torch.tensor(np.random.default_rng(2).standard_normal((64, 1, 8, 8)))
    Y = torch.tensor(TOKENS[:, 4])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    losses = []
    for i in range(12):
        ix = slice((i * 16) % 64, (i * 16) % 64 + 16)
        loss = F.cross_entropy(model(images[ix]), Y[ix])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


class _LSTM:
    @staticmethod
    def build(torch):
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = torch.nn.Embedding(11, 5)
                self.lstm = torch.nn.LSTM(5, 8, num_layers=2, batch_first=True)
                self.head = torch.nn.Linear(8, 11)

            def forward(self, x):
                out, (h, c) = self.lstm(self.embed(x))
                return self.head(out[:, -1, :])
        return Net()


def lstm_clip(torch, F, model):
    """An LSTM over character sequences with gradient clipping and RMSprop."""
    X, Y = torch.tensor(TOKENS[:, :4]), torch.tensor(TOKENS[:, 4])
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01)
    losses = []
    for i in range(10):
        ix = torch.tensor(np.arange(i * 9, i * 9 + 16) % 64)
        loss = F.cross_entropy(model(X[ix]), Y[ix])
        optimizer.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses += [loss.item(), float(norm)]
    return losses


class _Attention:
    @staticmethod
    def build(torch):
        class Head(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = torch.nn.Embedding(11, 8)
                self.pos = torch.nn.Embedding(4, 8)
                self.key = torch.nn.Linear(8, 8, bias=False)
                self.query = torch.nn.Linear(8, 8, bias=False)
                self.value = torch.nn.Linear(8, 8, bias=False)
                self.norm = torch.nn.LayerNorm(8)
                self.head = torch.nn.Linear(8, 11)
                self.register_buffer("tril", torch.tril(torch.ones(4, 4)))

            def forward(self, idx):
                B, T = idx.shape
                x = self.embed(idx) + self.pos(torch.arange(T))
                k, q, v = self.key(x), self.query(x), self.value(x)
                wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
                wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
                wei = F.softmax(wei, dim=-1)
                x = self.norm(x + wei @ v)
                return self.head(x)
        F = torch.nn.functional
        return Head()


def attention_adamw(torch, F, model):
    """Causal self-attention trained on next-character targets with AdamW and OneCycleLR."""
    X = torch.tensor(TOKENS[:, :4])
    Y = torch.tensor(TOKENS[:, 1:])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=10)
    losses = []
    for i in range(10):
        ix = torch.tensor(np.arange(i * 11, i * 11 + 16) % 64)
        logits = model(X[ix])
        B, T, C = logits.shape
        loss = F.cross_entropy(logits.view(B * T, C), Y[ix].view(B * T))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def _run(program, build, backend):
    """(PyTorch's outputs, micrograd's) for `program`, with PyTorch's initial weights loaded into micrograd."""
    results = []
    for lib in (torch, mg):
        lib.set_default_dtype(lib.float64)
        try:
            if build is None:
                with (mg.use_backend(backend) if lib is mg else _nothing()):
                    results.append(program(lib, lib.nn.functional))
                continue
            lib.manual_seed(0)
            model = build(lib)
            if lib is mg:
                model.load_state_dict({k: v.detach().numpy() for k, v in weights.items()})
                model.to(backend)
            else:
                weights = {k: v.detach().clone() for k, v in model.state_dict().items()}  # before training
            with (mg.use_backend(backend) if lib is mg else _nothing()):
                results.append(program(lib, lib.nn.functional, model))
        finally:
            lib.set_default_dtype(lib.float32)
    return results


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


PROGRAMS = {"char_mlp": (char_mlp, None), "manual_batchnorm": (manual_batchnorm, None),
            "dataloader_adam": (dataloader_adam, _classifier), "cnn_sgd": (cnn_sgd, _CNN.build),
            "lstm_clip": (lstm_clip, _LSTM.build), "attention_adamw": (attention_adamw, _Attention.build)}


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_gives_pytorchs_numbers(name, backend):
    if backend not in mg.available_backends():
        pytest.skip(f"backend {backend} unavailable here")
    theirs, mine = _run(*PROGRAMS[name], backend)
    assert len(mine) == len(theirs)
    for k, (a, b) in enumerate(zip(theirs, mine)):
        if isinstance(a, str):
            assert a == b, (k, a, b)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=f"{name}: output {k}")
