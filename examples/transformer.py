"""A small decoder-only transformer: a character-level language model of Python's own standard library source.

    python examples/transformer.py [--backend numpy] [--epochs 3] [--limit 1000000] [--out runs/transformer]

The text is the standard library's top-level .py files (found offline with `sysconfig`), as ASCII; the
last tenth is held out for validation. The model embeds each character and its position, then runs
pre-LayerNorm blocks of causal multi-head self-attention (softmax(Q K^T / sqrt(d)) V, each position
attending only to itself and earlier ones) and an MLP, and predicts the next character. It reports the
validation loss and bits per character (bpc) next to a unigram baseline (character frequencies alone),
and prints a sample it writes. An epoch is one pass over the training text in windows of --context
characters; --limit N uses the first N characters of the corpus (default: 1,000,000).
"""
import glob
import math
import os
import sysconfig
import time

import numpy as np

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F
from micrograd.utils.data import DataLoader, TensorDataset

import common


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions <= t."""

    def __init__(self, dim, heads, context):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        # True where attending is allowed: on and below the diagonal. Not a parameter, not saved.
        self.register_buffer("allowed", mg.tensor(np.tril(np.ones((context, context), dtype=bool))), persistent=False)

    def forward(self, x):
        n, t, d = x.shape
        h = self.heads

        def split_heads(y):  # (n, t, d) -> (n, heads, t, d / heads)
            return y.reshape(n, t, h, d // h).transpose(1, 2)

        q, k, v = split_heads(self.query(x)), split_heads(self.key(x)), split_heads(self.value(x))
        scores = (q @ k.mT) * (1 / math.sqrt(d // h))  # (n, heads, t, t): how much t attends to each s
        scores = mg.where(self.allowed[:t, :t], scores, -math.inf)
        out = scores.softmax(axis=-1) @ v  # (n, heads, t, d / heads)
        return self.proj(out.transpose(1, 2).reshape(n, t, d))


class Block(nn.Module):
    def __init__(self, dim, heads, context):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = CausalSelfAttention(dim, heads, context)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(approximate="tanh"), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    def __init__(self, vocab_size, context, dim=128, heads=4, layers=4):
        super().__init__()
        self.context = context
        self.token = nn.Embedding(vocab_size, dim)
        self.position = nn.Embedding(context, dim)
        self.blocks = nn.Sequential(*[Block(dim, heads, context) for _ in range(layers)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab_size)
        for emb in (self.token, self.position):  # N(0, 1) embeddings would swamp the residual stream
            nn.init.normal_(emb.weight, std=0.02)

    def forward(self, idx):
        """Next-character logits (N, T, vocab) for character ids idx (N, T)."""
        t = idx.shape[1]
        x = self.token(idx) + self.position(np.arange(t))
        return self.head(self.ln(self.blocks(x)))


def stdlib_text(limit):
    """(train, validation) text: the first `limit` characters of the standard library's top-level modules
    (sorted by name, as ASCII); the last tenth is held out for validation."""
    parts, size = [], 0
    for path in sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            parts.append(f.read().encode("ascii", errors="replace").decode("ascii"))
        size += len(parts[-1])
        if size >= limit:
            break
    text = "".join(parts)[:limit]
    split = len(text) * 9 // 10
    return text[:split], text[split:]


def windows(ids, context):
    """Non-overlapping (context + 1)-long windows of ids: inputs are [:-1], next-character targets [1:]."""
    n = (len(ids) - 1) // context
    return np.stack([ids[i * context:i * context + context + 1] for i in range(n)])


def unigram_bits(train_ids, val_ids, vocab_size):
    """Bits per character of the validation text under the training text's character frequencies (add-one)."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    return float(-np.log2(counts / counts.sum())[val_ids].mean())


def train(args, model, loader, optimizer, scheduler, epoch, history):
    """One pass over the training windows: predict each next character, then backward and step."""
    model.train()
    bar = common.progress(loader, f"epoch {epoch}/{args.epochs}")
    for i, (batch,) in enumerate(bar):  # a TensorDataset of one tensor gives one-item batches
        logits = model(batch[:, :-1])  # forward pass: (N, T, vocab)
        loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())  # targets: the inputs moved by one
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()  # once per batch: the rate follows half a cosine over the whole run
        running_loss = history.step(epoch - 1 + (i + 1) / len(loader), loss.item())
        bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)


def evaluate(model, loader):
    """Mean next-character cross-entropy (nats) over the validation windows."""
    model.eval()
    total, count = 0.0, 0
    with mg.no_grad():
        for (batch,) in loader:
            logits = model(batch[:, :-1])
            total += F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten(), reduction="sum").item()
            count += batch[:, 1:].numel()
    return total / count


def generate(model, prompt_ids, length, rng, temperature=0.8):
    """Sample `length` characters after `prompt_ids`, each from softmax(logits / temperature)."""
    model.eval()
    ids = list(prompt_ids)
    with mg.no_grad():
        for _ in range(length):
            context = np.array([ids[-model.context:]])
            logits = model(context)[0, -1].numpy().astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train()
    return ids


def main():
    p = common.parser(__doc__, epochs=3, batch_size=32, lr=2e-3,
                      limit_help="use the first N characters of the corpus (default 1,000,000)")
    p.add_argument("--context", type=common.at_least(1), default=64, help="characters the model sees at once")
    p.add_argument("--dim", type=common.at_least(1), default=128, help="width of the residual stream")
    p.add_argument("--layers", type=common.at_least(1), default=4, help="transformer blocks")
    p.add_argument("--heads", type=common.at_least(1), default=4, help="attention heads per block")
    p.add_argument("--sample", type=common.at_least(0), default=400, help="characters to generate at the end")
    args = common.setup(p, "transformer")
    if args.dim % args.heads:
        p.error(f"argument --dim: must be a multiple of --heads ({args.heads}), which split it evenly; "
                f"got {args.dim}")

    train_text, val_text = stdlib_text(args.limit or 1_000_000)
    if len(val_text) < args.context + 1:  # a window: --context inputs and the character after them
        p.error(f"argument --limit: the held-out tenth has length {len(val_text)}, shorter than one context window "
                f"+ 1 ({args.context + 1} characters for --context {args.context}); the minimum --limit is "
                f"{10 * args.context + 1} (or use a smaller --context)")
    chars = sorted(set(train_text + val_text))
    stoi = {c: i for i, c in enumerate(chars)}
    train_ids = np.array([stoi[c] for c in train_text], dtype=np.int64)
    val_ids = np.array([stoi[c] for c in val_text], dtype=np.int64)
    train_set = TensorDataset(mg.as_tensor(windows(train_ids, args.context)))
    val_set = TensorDataset(mg.as_tensor(windows(val_ids, args.context)))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=mg.Generator().manual_seed(args.seed))
    val_loader = DataLoader(val_set, batch_size=64)
    baseline = unigram_bits(train_ids, val_ids, len(chars))

    model = CharTransformer(len(chars), args.context, args.dim, args.heads, args.layers)
    optimizer = mg.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(train_loader))
    print(f"{model}\nparameters: {sum(p.numel() for p in model.parameters()):,}; {len(chars)} characters; "
          f"{len(train_ids):,} training and {len(val_ids):,} validation characters; {args.backend} backend")
    print(f"unigram baseline: {baseline:.3f} bits per character")

    history = common.History()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train(args, model, train_loader, optimizer, scheduler, epoch, history)
        val_loss = evaluate(model, val_loader)
        history.log(epoch, time.perf_counter() - start, val_loss=val_loss, val_bpc=common.bits(val_loss),
                    unigram_bpc=baseline)

    rng = np.random.default_rng(args.seed)
    prompt = "def " if set("def ") <= stoi.keys() else train_text[0]  # a tiny --limit may lack those characters
    sample = generate(model, [stoi[c] for c in prompt], args.sample, rng)
    print(f"--- sample (temperature 0.8) ---\n{''.join(chars[i] for i in sample)}\n--- end of sample ---")
    print(f"validation: loss {val_loss:.4f} nats = {common.bits(val_loss):.3f} bits per character; unigram "
          f"baseline {baseline:.3f} bpc")
    common.finish(args, history, model, optimizer, val_loss=val_loss, val_bpc=common.bits(val_loss),
                  unigram_bpc=baseline)


if __name__ == "__main__":
    main()
