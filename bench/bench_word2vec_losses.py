"""Question 3(c): how much cheaper is negative sampling than the full softmax?

Times cost + gradient of both losses on an SST-sized vocabulary (W = 19,539 words), D = 10 and 50,
K = 10 negatives, three ways:

* classic  — q3_word2vec's per-window functions for one predicted vector
             (softmaxCostAndGradient vs negSamplingCostAndGradient, which draws its K samples with
             dataset.sampleTokenIdx() and, by the classic signature, returns a dense (W, D) gradient);
* kernel   — the engine's kernels for one predicted vector (w2v_engine.batched.softmax_loss vs
             negsample_core): sparse output gradient, no sampling;
* batched  — the engine's skipgram_batch on a realistic minibatch: 50 windows, context size
             C1 ~ U{1..5} (about 300 centre-context pairs), negatives drawn beforehand.

The two losses of each row are timed interleaved in one process (best of several repeats), so the
ratio is meaningful even on a noisy machine; absolute times are not. Runtime about 30-45 s.

Usage: python bench/bench_word2vec_losses.py [--repeats 9] [--seconds 0.2]
"""
import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import q3_word2vec as w2v  # noqa: E402  (path set above)
from w2v_engine import batched  # noqa: E402

# ---- configuration ------------------------------------------------------------------------------
W = 19539            # SST vocabulary size including UNK
DIMS = (10, 50)
K = 10               # negative samples
N_WINDOWS, C = 50, 5  # a training minibatch: 50 windows, context size up to 5
TABLE_SIZE = 1_000_000  # unigram^0.75 sample table, as the SST loader builds
SEED = 31415


class TableDataset:
    """sampleTokenIdx() as the SST loader does it: a random entry of a unigram^0.75 table."""

    def __init__(self, rng):
        p = 1.0 / np.arange(1, W + 1) ** 0.75     # Zipf-like word frequencies ^ 0.75
        self.table = rng.choice(W, size=TABLE_SIZE, p=p / p.sum()).tolist()

    def sampleTokenIdx(self):
        return self.table[random.randint(0, TABLE_SIZE - 1)]


def best_time(fn, seconds, repeats):
    """Best per-call time (s) over `repeats` runs of about `seconds` each."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(seconds / once))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def pair_ratio(f_softmax, f_negsample, seconds, repeats):
    """Interleave the two timings (repeat by repeat) so machine load hits both alike."""
    ts, tn = float("inf"), float("inf")
    for _ in range(repeats):
        ts = min(ts, best_time(f_softmax, seconds, 1))
        tn = min(tn, best_time(f_negsample, seconds, 1))
    return ts, tn


def make_batch(rng):
    """centres (n,), contexts (n, 2C) padded with -1, as the trainer hands them over."""
    centres = rng.integers(W, size=N_WINDOWS)
    contexts = rng.integers(W, size=(N_WINDOWS, 2 * C))
    c1 = rng.integers(1, C + 1, size=N_WINDOWS)
    contexts[np.arange(2 * C)[None, :] >= 2 * c1[:, None]] = -1
    targets = batched.negative_sample_targets(batched.skipgram_batch, centres, contexts)
    negatives = (targets[:, None] + rng.integers(1, W, size=(targets.size, K))) % W
    return centres, contexts, negatives


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="timing repeats per case (best is kept)")
    parser.add_argument("--seconds", type=float, default=0.2, help="approximate length of one repeat")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(SEED)
    random.seed(SEED)
    dataset = TableDataset(rng)
    centres, contexts, negatives = make_batch(rng)
    P = negatives.shape[0]
    print(f"W = {W}, K = {K}; batched = skipgram_batch on {N_WINDOWS} windows, {P} centre-context pairs; "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs")
    print(f"{'D':>3}  {'path':<8} {'softmax':>12} {'neg. sampling':>14} {'ratio':>7}")
    for D in DIMS:
        V = (rng.random((W, D)) - 0.5) / D
        U = rng.standard_normal((W, D)) * 0.1
        v, target = V[7], 123
        t_idx, neg_idx = np.array([target]), np.array([negatives[0]])
        cases = [
            ("classic",
             lambda: w2v.softmaxCostAndGradient(v, target, U, dataset),
             lambda: w2v.negSamplingCostAndGradient(v, target, U, dataset, K)),
            ("kernel",
             lambda: batched.softmax_loss(v[None, :], t_idx, U),
             lambda: batched.negsample_core(v[None, :], t_idx, neg_idx, U)),
            ("batched",
             lambda: batched.skipgram_batch(centres, contexts, V, U),
             lambda: batched.skipgram_batch(centres, contexts, V, U, negatives)),
        ]
        for name, f_soft, f_neg in cases:
            ts, tn = pair_ratio(f_soft, f_neg, args.seconds, args.repeats)
            print(f"{D:>3}  {name:<8} {ts * 1e6:>10.1f}us {tn * 1e6:>12.1f}us {ts / tn:>6.0f}x")
    print("ratio = softmax time / negative-sampling time (same process, interleaved, best of "
          f"{args.repeats}); batched times are per minibatch of {N_WINDOWS} windows")


if __name__ == "__main__":
    main()
