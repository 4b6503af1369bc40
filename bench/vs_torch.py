#!/usr/bin/python3
"""attograd against PyTorch on the benchmark config's training step, side by side, in one run.

Runs `textclf bench --json` and its PyTorch twin (bench/torch_twin.py) alternately, each in a fresh
process, for 1 and 2 threads, several rounds each; then prints the medians and the ratios
(ratio > 1: attograd is better):

    throughput ratio  = PyTorch ms/step / attograd ms/step      (wall time, the figure that counts)
    CPU ratio         = PyTorch CPU ms/step / attograd CPU ms/step   (steadier on a loaded machine)
    RSS ratio         = PyTorch peak RSS / attograd peak RSS

Alternating (A B A B ...) rather than running all of A then all of B spreads the machine's
drifting load over both. The 2-thread ratio is against PyTorch's best (1 or 2 threads), as the
kernels issue asks.

    /usr/bin/python3 bench/vs_torch.py                      # 3 rounds, 50 steps each
    /usr/bin/python3 bench/vs_torch.py --rounds 5 --steps 100 --json
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd):
    """Runs cmd and returns the last line of its standard output as JSON."""
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description="attograd vs PyTorch, benchmark-config training step")
    p.add_argument("--textclf", default=os.path.join(ROOT, "build", "examples", "text_classifier", "textclf"),
                   help="the textclf binary (default: build/examples/text_classifier/textclf)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per thread count (default 3)")
    p.add_argument("--steps", type=int, default=50, help="timed steps per run (default 50)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object per thread count")
    args = p.parse_args()
    if not os.access(args.textclf, os.X_OK):
        sys.exit(f"vs_torch: {args.textclf} is not an executable; build it first (./scripts/train or ninja -C build)")
    if args.rounds < 1 or args.steps < 1:
        p.error("--rounds and --steps must be >= 1")

    runs = {}  # (framework, threads) -> list of result dicts
    for threads in (1, 2):
        for _ in range(args.rounds):
            ours = [args.textclf, "bench", "--json", "--threads", str(threads), "--steps", str(args.steps)]
            twin = [sys.executable, os.path.join(HERE, "torch_twin.py"), "--json", "--threads", str(threads),
                    "--steps", str(args.steps)]
            runs.setdefault(("attograd", threads), []).append(run_json(ours))
            runs.setdefault(("pytorch", threads), []).append(run_json(twin))

    def med(framework, threads, key):
        return statistics.median(r[key] for r in runs[(framework, threads)])

    torch_best = min(med("pytorch", t, "ms_per_step") for t in (1, 2))
    summary = []
    for threads in (1, 2):
        ours_ms, torch_ms = med("attograd", threads, "ms_per_step"), med("pytorch", threads, "ms_per_step")
        row = {
            "threads": threads,
            "attograd_ms_per_step": ours_ms,
            "pytorch_ms_per_step": torch_ms,
            "ratio": torch_ms / ours_ms,
            "ratio_vs_pytorch_best": torch_best / ours_ms,
            "attograd_cpu_ms_per_step": med("attograd", threads, "cpu_ms_per_step"),
            "pytorch_cpu_ms_per_step": med("pytorch", threads, "cpu_ms_per_step"),
            "attograd_peak_rss_mb": med("attograd", threads, "peak_rss_mb"),
            "pytorch_peak_rss_mb": med("pytorch", threads, "peak_rss_mb"),
        }
        row["cpu_ratio"] = row["pytorch_cpu_ms_per_step"] / row["attograd_cpu_ms_per_step"]
        row["rss_ratio"] = row["pytorch_peak_rss_mb"] / row["attograd_peak_rss_mb"]
        summary.append(row)

    if args.json:
        for row in summary:
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}))
        return
    print(f"benchmark config training step, medians of {args.rounds} alternating runs of {args.steps} steps")
    print(f"{'threads':>7}  {'attograd ms':>11}  {'PyTorch ms':>10}  {'ratio':>6}  {'vs best':>7}  "
          f"{'CPU ratio':>9}  {'RSS MB ours/torch':>17}  {'RSS ratio':>9}")
    for r in summary:
        rss = f"{r['attograd_peak_rss_mb']:.0f}/{r['pytorch_peak_rss_mb']:.0f}"
        print(f"{r['threads']:>7}  {r['attograd_ms_per_step']:>11.2f}  {r['pytorch_ms_per_step']:>10.2f}  "
              f"{r['ratio']:>6.2f}  {r['ratio_vs_pytorch_best']:>7.2f}  {r['cpu_ratio']:>9.2f}  {rss:>17}  "
              f"{r['rss_ratio']:>9.2f}")


if __name__ == "__main__":
    main()
