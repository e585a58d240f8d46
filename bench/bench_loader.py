"""Benchmark of the data layer (the SST loader utils/treebank.py, utils/glove.py) on real data.

    python bench/bench_loader.py          # about 10 s; needs `bash get_datasets.sh` first

Each measurement runs in a fresh Python process so that its peak memory (ru_maxrss) is its own:
1. build: StanfordSentiment() + tokens() + allSentences() + sampleTable(): wall time and peak
   memory of the process (the interpreter and numpy included);
2. GloVe: loadWordVectors(tokens) for the 19,539 SST tokens (the reader underneath is
   utils.glove.read_word_vectors, which q4_sentiment.py --vectors uses too);
3. sampling: sample_windows(rng, 50000, 5) against 5,000 classic
   ``getRandomContext(random.randint(1, 5))`` calls, and sample_negatives(rng, targets, 10) for
   50,000 targets against the classic ``sampleTokenIdx`` redraw loop; the speed ratios are per
   window / per sample, measured in the same process.

Targets (exit status 1 if one is missed): build <= 2 s and <= 200 MB, GloVe <= 5 s,
sample_windows(50,000, C=5) <= 50 ms (best of 5), and both batched samplers >= 10x faster
than the classic ones. Timings on a shared machine are noisy; ratios are the stable numbers.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- targets -----------------------------------------------------------------------------
BUILD_SECONDS = 2.0
BUILD_PEAK_MB = 200.0
GLOVE_SECONDS = 5.0
WINDOWS_MS = 50.0          # sample_windows(rng, 50_000, C=5), best of 5
MIN_RATIO = 10.0           # batched vs classic, per window and per negative sample

N_WINDOWS, C, K = 50_000, 5, 10
N_CLASSIC_WINDOWS, N_CLASSIC_NEGATIVES = 5_000, 20_000

# Child programs: each prints one JSON line.
CHILD_BUILD = """
import json, resource, sys, time
import numpy as np
from utils.treebank import StanfordSentiment
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
ds = StanfordSentiment()
ds.tokens(); ds.allSentences(); ds.sampleTable()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "start_kib": rss0, "tokens": len(ds.tokens()), "all": len(ds.allSentences())}))
"""

CHILD_GLOVE = """
import json, time
from utils.treebank import StanfordSentiment
from utils.glove import loadWordVectors
tokens = StanfordSentiment().tokens()
t0 = time.perf_counter()
vectors = loadWordVectors(tokens)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "rows": vectors.shape[0], "found": int(vectors.any(axis=1).sum())}))
"""

CHILD_SAMPLING = f"""
import json, random, time
import numpy as np
from utils.treebank import StanfordSentiment
random.seed(0)
ds = StanfordSentiment(); ds.sampleTable()
rng = np.random.default_rng(0)
ds.sample_windows(rng, 1000, {C})                       # warm-up (window view of C)
fast = []
for _ in range(5):
    t0 = time.perf_counter(); centres, contexts = ds.sample_windows(rng, {N_WINDOWS}, {C})
    fast.append(time.perf_counter() - t0)
t0 = time.perf_counter()
for _ in range({N_CLASSIC_WINDOWS}):
    ds.getRandomContext(random.randint(1, {C}))
classic = time.perf_counter() - t0
targets = centres
neg_fast = []
for _ in range(5):
    t0 = time.perf_counter(); ds.sample_negatives(rng, targets, {K})
    neg_fast.append(time.perf_counter() - t0)
t0 = time.perf_counter()
for i in range({N_CLASSIC_NEGATIVES}):
    target = int(targets[i % targets.size]); idx = ds.sampleTokenIdx()
    while idx == target:
        idx = ds.sampleTokenIdx()
neg_classic = time.perf_counter() - t0
print(json.dumps({{"windows_s": min(fast), "classic_window_s": classic / {N_CLASSIC_WINDOWS},
                  "neg_s": min(neg_fast), "classic_neg_s": neg_classic / {N_CLASSIC_NEGATIVES}}}))
"""


def child(program):
    """Run a child program in a fresh interpreter at the repository root; return its JSON."""
    proc = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": ROOT})
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        sys.exit(f"bench_loader: a measurement failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    from utils.data_paths import DEFAULT_GLOVE_PATH, DEFAULT_SST_PATH
    for path in (DEFAULT_SST_PATH, DEFAULT_GLOVE_PATH):
        if not os.path.exists(path):
            sys.exit(f"bench_loader: {path} not found; run `bash get_datasets.sh` first")

    misses = []

    def check(ok, line, what):
        print(f"{line}  {'OK' if ok else 'MISSED'}")
        if not ok:
            misses.append(what)

    build = child(CHILD_BUILD)
    peak_mb = build["peak_kib"] / 1024
    print(f"tokens {build['tokens']:,}, allSentences {build['all']:,} sentences")
    check(build["seconds"] <= BUILD_SECONDS,
          f"build (StanfordSentiment + tokens + allSentences + sampleTable): "
          f"{build['seconds']:.2f} s (target <= {BUILD_SECONDS:g} s)", "build time")
    check(peak_mb <= BUILD_PEAK_MB,
          f"peak memory of that process: {peak_mb:.0f} MB, of which {build['start_kib'] / 1024:.0f} MB "
          f"before the build (target <= {BUILD_PEAK_MB:g} MB)", "build memory")

    glove = child(CHILD_GLOVE)
    check(glove["seconds"] <= GLOVE_SECONDS,
          f"GloVe loadWordVectors for {glove['rows']:,} tokens ({glove['found']:,} found): "
          f"{glove['seconds']:.2f} s (target <= {GLOVE_SECONDS:g} s)", "GloVe time")

    s = child(CHILD_SAMPLING)
    windows_ms = s["windows_s"] * 1e3
    ratio_w = s["classic_window_s"] * N_WINDOWS / s["windows_s"]
    check(windows_ms <= WINDOWS_MS,
          f"sample_windows(rng, {N_WINDOWS:,}, C={C}): {windows_ms:.1f} ms, best of 5 "
          f"(target <= {WINDOWS_MS:g} ms)", "sample_windows time")
    check(ratio_w >= MIN_RATIO,
          f"classic getRandomContext: {s['classic_window_s'] * 1e6:.1f} us/window -> batched is "
          f"{ratio_w:.0f}x faster (target >= {MIN_RATIO:g}x)", "window ratio")
    n_neg = N_WINDOWS * K
    ratio_n = s["classic_neg_s"] * n_neg / s["neg_s"]
    check(ratio_n >= MIN_RATIO,
          f"sample_negatives({N_WINDOWS:,} targets, K={K}): {s['neg_s'] * 1e3:.1f} ms; classic "
          f"sampleTokenIdx loop {s['classic_neg_s'] * 1e6:.2f} us/sample -> batched is "
          f"{ratio_n:.0f}x faster (target >= {MIN_RATIO:g}x)", "negatives ratio")

    if misses:
        print(f"bench_loader: targets missed: {', '.join(misses)}", file=sys.stderr)
        return 1
    print("bench_loader: all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
