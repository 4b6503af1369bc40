#!/usr/bin/python3
"""PyTorch twin of `textclf bench`: the benchmark config, built in PyTorch, timed the same way.

attograd's end-to-end figures are only meaningful next to PyTorch measured in the same run on
the same machine (see /work/shared/ANCHORS.md, "The benchmark config"). This script builds
exactly that model, trains it on one fixed synthetic batch and prints the same figures as
`textclf bench`: ms per step (median) and samples/s, plus peak RSS.

The model (B = batch 32, T = sequence 64, C = d_model 128, H = 4 heads, V = vocabulary 8000,
K = 4 classes):

    tokens (B, T) ──► token embedding (V, C, padding_idx 0) + position embedding (T, C)
                  ──► x (B, T, C)
    a = MultiheadAttention(x, x, x, key_padding_mask)   attention dropout 0.1
    h = LayerNorm(x + Dropout(a))                       residual dropout 0.1
    pooled = mean of h over non-padding positions       (B, C)
    logits = Linear(pooled)                             (B, K)
    loss = CrossEntropy(logits, labels);  Adam, lr 1e-3

One training step = zero_grad, forward, loss, backward, optimizer.step, each step timed with
time.perf_counter; the median is reported because the machines are shared and noisy.
--threads N limits every pool PyTorch uses to N threads: its intra-op pool, and (through
OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS, set before torch loads) the BLAS
library's, which would otherwise run on every core.

Run it with Debian's Python, which is where Debian's PyTorch lives:

    /usr/bin/python3 bench/torch_twin.py --threads 1
    /usr/bin/python3 bench/torch_twin.py --both-threads
    /usr/bin/python3 bench/torch_twin.py --mode infer --threads 1 --json
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError:
    sys.exit(
        "torch_twin: cannot import torch with " + sys.executable + ".\n"
        "  This benchmark uses Debian's PyTorch: install it with\n"
        "      apt-get install python3-torch\n"
        "  and run the script with Debian's interpreter:\n"
        "      /usr/bin/python3 bench/torch_twin.py ...\n"
        "  (a python3 found first on PATH, e.g. pyenv's, does not see Debian's packages)."
    )

# The benchmark config (ANCHORS.md). attograd's `textclf bench` uses the same numbers.
VOCAB = 8000      # V, token id 0 is padding
D_MODEL = 128     # C
HEADS = 4         # H, head size 32
SEQ = 64          # T
PAD_TAIL = 16     # the last 16 positions of every sequence are padding
BATCH = 32        # B
CLASSES = 4       # K
DROPOUT = 0.1
LR = 1e-3
SEED = 0


class TextClassifier(nn.Module):
    """Embeddings -> one self-attention block -> LayerNorm -> masked mean pool -> Linear."""

    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(VOCAB, D_MODEL, padding_idx=0)
        self.position_embedding = nn.Embedding(SEQ, D_MODEL)
        self.attention = nn.MultiheadAttention(D_MODEL, HEADS, dropout=DROPOUT, batch_first=True)
        self.dropout = nn.Dropout(DROPOUT)
        self.norm = nn.LayerNorm(D_MODEL)
        self.classifier = nn.Linear(D_MODEL, CLASSES)
        # Position ids 0..T-1, a buffer so it is built once, not every step.
        self.register_buffer("positions", torch.arange(SEQ), persistent=False)

    def forward(self, tokens):                       # tokens (B, T) int64
        padding = tokens == 0                        # (B, T), True where padding
        x = self.token_embedding(tokens) + self.position_embedding(self.positions)  # (B, T, C)
        # NOTE: need_weights=False. The default (True) also returns the attention weights
        # averaged over heads, extra work the attograd side does not do. (PyTorch 1.13's fused
        # inference "fast path" is never taken here: it requires the module's dropout to be 0.)
        a, _ = self.attention(x, x, x, key_padding_mask=padding, need_weights=False)
        h = self.norm(x + self.dropout(a))           # (B, T, C)
        # Masked mean pooling: average over the non-padding positions only.
        keep = (~padding).unsqueeze(-1).to(h.dtype)  # (B, T, 1)
        pooled = (h * keep).sum(dim=1) / keep.sum(dim=1)  # (B, C)
        return self.classifier(pooled)               # (B, K) logits


def synthetic_batch():
    """One fixed batch, generated once and reused every step (as `textclf bench` does)."""
    g = torch.Generator().manual_seed(SEED)
    tokens = torch.randint(1, VOCAB, (BATCH, SEQ), generator=g)   # ids 1..7999
    tokens[:, SEQ - PAD_TAIL:] = 0                                # last 16 positions: padding
    labels = torch.randint(0, CLASSES, (BATCH,), generator=g)
    return tokens, labels


def time_steps(step, warmup, steps):
    """Run `step` warmup times untimed, then `steps` times; return per-step wall and CPU times in ms.

    CPU time (all threads of the process) is what `textclf bench` also reports: on a shared,
    loaded machine wall time measures the load as much as the code."""
    for _ in range(warmup):
        step()
    times, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return times, cpu


def run(args):
    """Measure one configuration in this process; return the figures as a dict."""
    # Threads must be set before any parallel work runs (set_num_interop_threads fails after).
    torch.set_num_interop_threads(1)
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)                          # same initial weights every run

    model = TextClassifier()
    tokens, labels = synthetic_batch()

    if args.mode == "train":
        model.train()                                # dropout on
        loss_fn = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=LR)

        def step():
            # set_to_none=True (PyTorch 2's default; 1.13's was False): attograd's zero_grad
            # drops gradients too, so both skip zero-filling them
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(tokens), labels)
            loss.backward()
            optimizer.step()
    else:
        model.eval()                                 # dropout off

        def step():
            with torch.no_grad():
                model(tokens)

    times, cpu = time_steps(step, args.warmup, args.steps)
    median = statistics.median(times)
    return {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "mode": args.mode,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "ms_per_step": round(median, 3),
        "ms_per_step_mean": round(statistics.fmean(times), 3),
        "samples_per_s": round(BATCH * 1e3 / median, 1),
        "cpu_ms_per_step": round(statistics.median(cpu), 3),
        # ru_maxrss is in KiB on Linux: the process's peak resident set, model and all.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_subprocess(args, threads):
    """Run this script for `threads` in a fresh process, so peak RSS is that run's alone."""
    cmd = [sys.executable, os.path.abspath(__file__), "--json",
           "--threads", str(threads), "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--mode", args.mode]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_table(results):
    unit = "ms/step" if results[0]["mode"] == "train" else "ms/batch"
    print(f"PyTorch {results[0]['torch_version']}, benchmark config "
          f"(B={BATCH} T={SEQ} C={D_MODEL} H={HEADS} V={VOCAB} K={CLASSES}), "
          f"mode {results[0]['mode']}, {results[0]['steps']} timed steps")
    print(f"{'threads':>7}  {unit + ' (median)':>18}  {'mean':>8}  {'samples/s':>10}  {'peak RSS MB':>11}")
    for r in results:
        print(f"{r['threads']:>7}  {r['ms_per_step']:>18.2f}  {r['ms_per_step_mean']:>8.2f}  "
              f"{r['samples_per_s']:>10.1f}  {r['peak_rss_mb']:>11.1f}")


# The thread pools PyTorch's CPU kernels may reach besides its own intra-op pool. Debian's torch
# calls the system BLAS (OpenBLAS), whose pool starts with one thread per core whatever
# torch.set_num_threads says: measured here, "1 thread" then used 115 ms of CPU per 57 ms step.
# The libraries read these variables when they load, so they must be set before torch is imported.
BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_blas_threads(threads):
    """Re-runs this script with every BLAS/OpenMP pool limited to `threads`, unless it already is."""
    want = str(threads)
    if all(os.environ.get(v) == want for v in BLAS_THREAD_VARS):
        return
    env = dict(os.environ, **{v: want for v in BLAS_THREAD_VARS})
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    p = argparse.ArgumentParser(description="PyTorch twin of `textclf bench` (the benchmark config).")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    p.add_argument("--steps", type=int, default=50, help="timed steps (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    p.add_argument("--mode", choices=["train", "infer"], default="train",
                   help="train: full training step; infer: eval-mode forward under no_grad")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--both-threads", action="store_true",
                   help="run for 1 and 2 threads, each in its own process")
    args = p.parse_args()
    if args.threads < 1 or args.steps < 1 or args.warmup < 0:
        p.error("--threads and --steps must be >= 1, --warmup >= 0")

    if args.both_threads:
        results = [run_subprocess(args, t) for t in (1, 2)]
    else:
        pin_blas_threads(args.threads)
        results = [run(args)]

    if args.json:
        for r in results:
            print(json.dumps(r))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
