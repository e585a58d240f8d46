"""Benchmark of question 4: the regularization sweep of q4_sentiment.py.

Targets (issue "Question 4"), checked here, exit status 1 on a miss:
  * ``python q4_sentiment.py --pretrained`` and ``--yourvectors``, end to end
    (loading, the full default sweep, plots): <= 60 s each on this 2-core machine;
  * every model of the sweep ends within 1e-4 of the objective that the same
    optimiser reaches when it runs on until J stops decreasing (here on the full
    training set, every value of the grid).

Timings here are noisy, so the sweep is also put in relation to the classic
route measured in the same process: the course's fixed-step ``sgd`` (10,000
iterations per value of the grid, extrapolated from a shorter run), with the
course's step 3.0 and with the safe step 1/L of gradient descent.

    python bench/bench_sentiment.py
    python bench/bench_sentiment.py --baseline REV [--pairs N]

With ``--baseline REV`` it instead runs ``python q4_sentiment.py --pretrained`` end to end in
this tree and in git revision REV (exported to a temporary folder that uses this tree's data),
alternating, N times each (default 7): the median end-to-end time and sweep time of each, their
ratios (target: this tree <= 1.15 x REV, end to end), and whether both print the same final line.

Needs the data (``bash get_datasets.sh``). For --yourvectors it uses the newest
checkpoint in checkpoints/ or, if there is none, trains the default vectors
into a temporary folder first (``python q3_run.py``, about 15-20 s).
Exit status: 0 all targets met, 1 a target missed, 2 something needed is missing.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # as q4_sentiment.py does when run
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import q4_sentiment as qs  # noqa: E402
from q4_softmaxreg import fit_softmax_regression, softmax_wrapper  # noqa: E402
from utils.checkpoint import list_checkpoints  # noqa: E402
from utils.data_paths import DEFAULT_GLOVE_PATH, DEFAULT_SST_PATH  # noqa: E402
from revision import export_revision  # noqa: E402  (bench/revision.py)

# ---- targets and settings ---------------------------------------------------------------
MAX_SECONDS = 60.0          # end-to-end run of q4_sentiment.py, either option
MAX_OBJECTIVE_GAP = 1e-4    # J(ours) - J(run until J stops decreasing)
CLASSIC_STEP = 3.0          # the course's q4: sgd(..., weights, 3.0, 10000, PRINT_EVERY=100)
CLASSIC_ITERATIONS = 10000
CLASSIC_MEASURED = 1000     # iterations actually run; the cost per iteration is constant
BASELINE_RATIO = 1.15       # --baseline: this tree's end-to-end time / the revision's (medians)
PAIRS = 7


def run_script(args, label, tree=ROOT):
    """Time ``python q4_sentiment.py <args>`` of `tree` with a temp --out-dir; returns
    (seconds, sweep_s, last line), or None if it failed."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, os.path.join(tree, "q4_sentiment.py"), *args,
                               "--out-dir", out], cwd=tree, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"{label}: q4_sentiment.py failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
        return None
    lines = proc.stdout.strip().splitlines()
    sweep = float(re.search(r"iterations, ([\d.]+) s;", proc.stdout).group(1))
    return seconds, sweep, lines[-1]


def ensure_checkpoint(tmp):
    """Folder holding a final q3_run.py checkpoint: checkpoints/ or a fresh default run in tmp."""
    default = os.path.join(ROOT, qs.DEFAULT_CHECKPOINT_DIR)
    if list_checkpoints(default):
        return default
    print("no checkpoint in checkpoints/: training the default vectors (python q3_run.py) ...")
    ck = os.path.join(tmp, "checkpoints")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "q3_run.py"), "--checkpoint-dir", ck,
                           "--no-plot", "--vectors-out", os.path.join(tmp, "vectors.txt"),
                           "--print-every", "100000"], cwd=tmp, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"q3_run.py failed:\n{proc.stderr.strip()}")
        return None
    return ck


def objective_gaps(train, regs):
    """Largest J(ours) - J(long run) over the warm-started grid (same starting points)."""
    X, y = train
    worst, W = 0.0, None
    for reg in np.sort(regs)[::-1]:
        _, long = fit_softmax_regression(X, y, reg, weights0=W, rel_tol=0.0, max_iter=3000)
        W, info = fit_softmax_regression(X, y, reg, weights0=W)
        worst = max(worst, info["cost"] - long["cost"])
    return worst


def classic_route(train, reg, our_cost, step):
    """Seconds an iteration of fixed-step full-batch descent; its J minus ours at the end."""
    X, y = train
    W = np.zeros((X.shape[1], len(qs.CLASS_NAMES)))
    start = time.perf_counter()
    for _ in range(CLASSIC_MEASURED):   # what q3_sgd.sgd does per iteration, without printing
        cost, grad = softmax_wrapper(X, y, W, reg)
        W = W - step * grad
    per_iter = (time.perf_counter() - start) / CLASSIC_MEASURED
    final = softmax_wrapper(X, y, W, reg)[0]
    return per_iter, final - our_cost


def paired(rev, pairs):
    """``q4_sentiment.py --pretrained`` of this tree and of `rev`, alternating; exit status 1 if
    this tree is slower end to end than BASELINE_RATIO x the revision."""
    times = {"this tree": ([], []), rev: ([], [])}            # end to end, sweep
    lines = {"this tree": set(), rev: set()}
    with tempfile.TemporaryDirectory() as tmp:
        export_revision(rev, tmp, "bench_sentiment")
        for i in range(pairs):
            order = (("this tree", ROOT), (rev, tmp))
            for name, tree in order if i % 2 == 0 else order[::-1]:
                timed = run_script(["--pretrained"], name, tree)
                if timed is None:
                    return 1
                seconds, sweep, last = timed
                times[name][0].append(seconds)
                times[name][1].append(sweep)
                lines[name].add(last)
                print(f"  {name:<12} {seconds:6.2f} s end to end, sweep {sweep:5.2f} s", flush=True)
    med = {name: [statistics.median(t) for t in pair] for name, pair in times.items()}
    ratio = med["this tree"][0] / med[rev][0]
    print(f"\nmedian end to end: this tree {med['this tree'][0]:.2f} s, {rev} {med[rev][0]:.2f} s; "
          f"ratio {ratio:.3f} (target <= {BASELINE_RATIO:g})")
    print(f"median sweep: this tree {med['this tree'][1]:.2f} s, {rev} {med[rev][1]:.2f} s; ratio "
          f"{med['this tree'][1] / med[rev][1]:.3f}")
    same = lines["this tree"] == lines[rev] and len(lines[rev]) == 1
    print("final line: " + (f"the same in every run: {lines[rev].pop()}" if same else
                            f"DIFFERENT: {lines}"))
    return 0 if ratio <= BASELINE_RATIO and same else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark of question 4's sweep (module doc).")
    parser.add_argument("--baseline", metavar="REV", help="time q4_sentiment.py --pretrained "
                        "against git revision REV instead (paired, alternating)")
    parser.add_argument("--pairs", type=int, default=PAIRS, help="runs of each tree with "
                        "--baseline (default %(default)s)")
    args = parser.parse_args(argv)
    for path in (DEFAULT_SST_PATH, DEFAULT_GLOVE_PATH):
        if not os.path.exists(path):
            print(f"missing {path}: run `bash get_datasets.sh` first")
            return 2
    if args.baseline:
        return paired(args.baseline, args.pairs)
    failures = []
    print(f"machine: {os.cpu_count()} cores; "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")

    # 1. in process: the sweep on GloVe, its optimality, and the classic route for comparison
    (_, feats), = qs.feature_sets(qs.parse_args(["--pretrained"]), qs._load_dataset())[0]
    regs = qs.REGULARIZATION
    start = time.perf_counter()
    result = qs.sweep_regularization(feats["train"], feats["dev"], feats["test"], regs)
    sweep_s = time.perf_counter() - start
    b = result["best"]
    print(f"GloVe sweep in process, no intercept: {len(regs)} models, "
          f"{int(result['iterations'].sum())} L-BFGS iterations, {sweep_s:.2f} s "
          f"({sweep_s / len(regs) * 1000:.1f} ms a model)")
    gap = objective_gaps(feats["train"], regs)
    print(f"largest objective gap to a run until J stops decreasing: {gap:.2e} "
          f"(target <= {MAX_OBJECTIVE_GAP:g})")
    if not gap <= MAX_OBJECTIVE_GAP:
        failures.append(f"objective gap {gap:.2e} > {MAX_OBJECTIVE_GAP:g}")
    X_train = feats["train"][0]
    # softmax cross-entropy has Hessian <= 0.5 X^T X / N (x) I: 1/L is the safe fixed step
    L = 0.5 * np.linalg.eigvalsh(X_train.T @ X_train / len(X_train))[-1] + regs[b]
    for name, step in (("course's step", CLASSIC_STEP), ("safe step 1/L", 1.0 / L)):
        per_iter, classic_gap = classic_route(feats["train"], regs[b], result["cost"][b], step)
        classic_model = per_iter * CLASSIC_ITERATIONS
        print(f"classic fixed-step descent, {name} {step:.3g} (reg {regs[b]:.2e}): "
              f"{per_iter * 1000:.2f} ms an iteration -> {CLASSIC_ITERATIONS} iterations "
              f"{classic_model:.1f} s a model, {classic_model * len(regs):.0f} s for the grid; "
              f"after {CLASSIC_MEASURED} iterations J is {classic_gap:.2e} above ours")
    print(f"ratio classic grid / our sweep: {classic_model * len(regs) / sweep_s:.0f}x")

    # 2. end to end, as a user runs it
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("--pretrained", ["--pretrained"])]
        ck = ensure_checkpoint(tmp)
        if ck is None:
            failures.append("no checkpoint for --yourvectors")
        else:
            runs.append(("--yourvectors", ["--yourvectors", "--checkpoint-dir", ck]))
        for label, args in runs:
            timed = run_script(args, label)
            if timed is None:
                failures.append(f"{label}: the script failed")
                continue
            seconds, sweep, last = timed
            ok = seconds <= MAX_SECONDS
            print(f"python q4_sentiment.py {label}: {seconds:.1f} s end to end "
                  f"(sweep {sweep:.1f} s), target <= {MAX_SECONDS:g} s "
                  f"{'OK' if ok else 'MISSED'}; {last}")
            if not ok:
                failures.append(f"{label}: {seconds:.1f} s > {MAX_SECONDS:g} s")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
