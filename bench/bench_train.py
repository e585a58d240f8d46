"""Benchmark of question 3's training (q3_run.py): the targets of the training issue.

    python bench/bench_train.py            # about 20 s

In one process:
1. the default run (40,000 iterations, batched sparse path) with fresh
   checkpoints in a temporary folder: start-up (loading SST, building the
   subsampled corpus and the sampling table, initial vectors), training
   time, final smoothed cost, peak memory;
2. a few iterations (default 30) of the classic per-window path
   (word2vec_sgd_wrapper) with the same settings;
and prints the per-iteration ratio classic / fast.

Targets (exit status 1 if one is missed): training <= 15 s, ratio >= 250,
start-up <= 2 s, peak memory <= 300 MB, final smoothed cost <= 10.
Timings on a shared machine are noisy: the CPU time of the training is
printed next to the wall time, and a run with other jobs on the CPU may
miss the time target that an idle machine meets.
"""
import argparse
import os
import resource
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import q3_run  # noqa: E402

# ---- targets -----------------------------------------------------------------------
TRAIN_SECONDS = 15.0
RATIO = 250.0
STARTUP_SECONDS = 2.0
PEAK_MB = 300.0
FINAL_COST = 10.0
CLASSIC_ITERATIONS = 30


def peak_mb():
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2 ** 20


def run(extra, folder):
    argv = ["--checkpoint-dir", folder, "--fresh", "--print-every", "10000"] + extra
    return q3_run.train(q3_run.parse_args(argv))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=q3_run.ITERATIONS,
                   help="iterations of the fast run (the target is for the default)")
    p.add_argument("--classic-iterations", type=int, default=CLASSIC_ITERATIONS)
    p.add_argument("--data", default=None, help="SST folder (default: utils/datasets/...)")
    args = p.parse_args(argv)
    data = ["--data", args.data] if args.data else []

    with tempfile.TemporaryDirectory() as tmp:
        fast = run(["--iterations", str(args.iterations)] + data, os.path.join(tmp, "fast"))
        fast_peak = peak_mb()
        classic = run(["--classic", "--iterations", str(args.classic_iterations)] + data,
                      os.path.join(tmp, "classic"))

    fast_it = fast["train_time"] / args.iterations
    classic_it = classic["train_time"] / args.classic_iterations
    ratio = classic_it / fast_it
    cpu_ratio = ((classic["train_cpu"] / args.classic_iterations)
                 / (fast["train_cpu"] / args.iterations))
    rows = [
        ("start-up (SST + tables + init)", f"{fast['startup']:.2f} s", f"<= {STARTUP_SECONDS:g} s",
         fast["startup"] <= STARTUP_SECONDS),
        (f"fast training, {args.iterations} iterations",
         f"{fast['train_time']:.2f} s (CPU {fast['train_cpu']:.2f} s)",
         f"<= {TRAIN_SECONDS:g} s" if args.iterations == q3_run.ITERATIONS else "(no target)",
         fast["train_time"] <= TRAIN_SECONDS or args.iterations != q3_run.ITERATIONS),
        ("fast, per iteration", f"{fast_it * 1e6:.0f} us", "", True),
        (f"classic, per iteration ({args.classic_iterations} its)",
         f"{classic_it * 1e3:.1f} ms", "", True),
        ("ratio classic / fast", f"{ratio:.0f}x (CPU time: {cpu_ratio:.0f}x)", f">= {RATIO:g}x",
         ratio >= RATIO),
        ("final smoothed cost", f"{fast['expcost']:.4f}",
         f"<= {FINAL_COST:g}" if args.iterations == q3_run.ITERATIONS else "(no target)",
         fast["expcost"] <= FINAL_COST or args.iterations != q3_run.ITERATIONS),
        ("peak memory, default run", f"{fast_peak:.0f} MB", f"<= {PEAK_MB:g} MB",
         fast_peak <= PEAK_MB),
        ("peak memory, whole bench", f"{peak_mb():.0f} MB", "", True),
    ]
    print()
    width = max(len(r[0]) for r in rows)
    for name, value, target, ok in rows:
        mark = "" if not target else ("  ok" if ok else "  MISSED")
        print(f"{name:<{width}}  {value:<34} {target}{mark}")
    missed = [r[0] for r in rows if not r[3]]
    if missed:
        print(f"\nbench_train: target missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    print("\nbench_train: all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
