"""What each speed trick of the training engine buys in the default 40,000-iteration run.

    python bench/bench_tricks.py                 # every trick: about 10 minutes
    python bench/bench_tricks.py sign-mask einsum-outer none --rounds 5

The engine keeps a trick only if it saves at least KEEP_SHARE (3 %) of the
default ``python q3_run.py`` run (bench/README.md lists the measured gains).
Whole runs on this shared machine vary by ±10 % from one to the next, more
than most tricks save, so each trick is measured where it acts:

* **per-iteration tricks** (the loss kernel, the gradient, the scatter): two
  copies of the default run's vectors are trained side by side in one process,
  one with the trick ("on"), one without ("off"), on the default run's
  minibatches as they come, a chunk of 50 iterations at a time, alternating
  which goes first (A B, B A, ...), for ``--iterations`` iterations. Both meet
  the same fresh minibatches and the same state of the machine, as in a real
  run; a variant's time is its total. The trick saves the difference per
  iteration, the median of ``--rounds`` rounds taken round-robin over the
  tricks; its share is that time x 40,000 over the default run's time
  without it. The last column says whether both copies end bit-identical.
  (Replaying the same few hundred minibatches again and again, the method used
  before, keeps their rows in the CPU's caches and misjudged the kernel's tricks:
  bench/README.md.)
* **whole-run tricks** (chunked preparation, the worker process), which change
  how the minibatches are made: the default run in fresh processes with and
  without, alternating, ``--pairs`` of each; share ``1 - median(on) / median(off)``.

Kept tricks (switched off here by replacing the function that does it):

* ``prepare``:      the index arrays of skip-gram + negative-sampling minibatches built a whole
                    chunk of iterations at a time, ahead (off: ``word2vec_batch`` each iteration);
* ``worker``:       those chunks drawn in a worker process on the other core (off: ``--no-worker``);
* ``scatter-flat``: the update as one ``np.add.at`` on the flat view of the matrix with
                    precomputed element indices (off: ``np.add.at(x, rows, values)`` row-wise);
* ``scatter-pairs``: pairs of floats added as one complex number in that scatter (off: floats);
* ``shared-exp``:   the cost and the sigmoid of the kernel from one ``exp(-|z|)`` (off: the
                    cost's own exp, then ``q2_sigmoid.sigmoid``);
* ``ones-dot``:     the kernel's sums as dot products with a cached vector of ones
                    (``batched.total``; off: ``np.sum``). Dropped in issue 10 on the old
                    method's figure, put back when this one measured it.

Tricks the engine had before issue 10, or tried since, and dropped (switched on here by putting
their code back):

* ``grouped-logs``: the log taken of products of K+1 factors (one log call per K+1 terms);
* ``matvec``:       ``np.matvec`` / ``np.vecmat`` gufuncs instead of ``np.matmul`` (numpy >= 2.2);
* ``cached-signs``: the scores and the sigmoids multiplied by a cached (P, K+1) matrix of
                    rows [-1, 1, ..., 1] instead of negating column 0 in place;
* ``sign-mask``:    in the kernel, -|z| as ``np.copysign(z, -1)`` and the mask [z > 0] (from
                    ``np.sign``) serving both the cost's sum of max(z, 0), as a dot product,
                    and the sigmoid's numerator max(e, [z > 0]) (the engine: ``np.abs`` then
                    negation, the sum of ``np.maximum(z, 0)`` and ``np.where(z >= 0, 1, e)``);
* ``einsum-outer``: the (P, K+1, D) outer products delta_pj v_p of the gradient by
                    ``np.einsum`` (the engine: a broadcast ``np.multiply``).

``none`` is a control: both copies trained by the same code, so what it "saves" is the
noise of the method on the machine at that moment; a result is worth reading only if
it is well clear of that.
"""
import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

KEEP_SHARE = 0.03        # a trick must save this share of the default run
RUN_ITERATIONS = 40000   # the default run
ITERATIONS = 10000       # per-iteration tricks: iterations trained by each copy in a round
ROUNDS = 3               # per-iteration tricks: rounds over all of them; the median counts
PAIRS = 5                # whole-run tricks: runs with and without
STEP = 0.3               # q3_run's step (the updates are real SGD updates)


# ---- the variants: each returns the patches [(object, attribute, value)] that make it ----------

def _kernel(ones_dot=True, grouped_logs=False, shared_exp=True, matvec=False, sign_mask=False,
            cached_signs=False):
    """A negative-sampling kernel (batched.negsample_loss) with the given tricks on or off; the
    defaults are the engine's own (`check_kernel_builder` makes sure)."""
    from q2_sigmoid import sigmoid
    ones = np.ones(1 << 16)
    signs = {}

    def total(a):
        a = a.reshape(-1)
        return a.dot(ones[:a.size]) if ones_dot else np.sum(a)

    def negate_target(a):
        if cached_signs:
            P, K1 = a.shape
            if signs.get(K1) is None or signs[K1].shape[0] < P:
                signs[K1] = np.ones((max(P, 1024), K1))
                signs[K1][:, 0] = -1.0
            np.multiply(a, signs[K1][:P], out=a)
        else:
            a[:, 0] *= -1.0

    def negsample_loss(v_hat, U_idx):
        if matvec:
            z = np.matvec(U_idx, v_hat)
        else:
            z = np.matmul(U_idx, v_hat[:, :, None])[:, :, 0]
        negate_target(z)
        if sign_mask:
            e = np.copysign(z, -1.0)
            np.exp(e, out=e)
            pos = np.sign(z)
            np.maximum(pos, 0.0, out=pos)
            positive_part = z.reshape(-1).dot(pos.reshape(-1))
        else:
            e = np.exp(-np.abs(z))
            positive_part = total(np.maximum(z, 0.0))
        q = e + 1.0
        if grouped_logs:   # any grouping: only the total of the logs is needed
            log_terms = np.log(q.reshape(z.shape[1], -1).prod(axis=0))
        else:
            log_terms = np.log1p(e if shared_exp else np.exp(-np.abs(z)))
        cost = float(positive_part + total(log_terms))
        if not shared_exp:
            delta = sigmoid(z)
        elif sign_mask:
            delta = np.maximum(e, pos, out=e)
            delta /= q
        else:
            delta = np.where(z >= 0, 1.0, e) / q
        negate_target(delta)
        return cost, delta
    return negsample_loss


def check_kernel_builder():
    """The builder's default kernel must be the engine's, bit for bit (else the table lies)."""
    from w2v_engine.batched import negsample_loss
    rng = np.random.default_rng(5)
    v_hat, U_idx = rng.standard_normal((40, 10)), rng.standard_normal((40, 11, 10))
    ours, theirs = _kernel()(v_hat, U_idx), negsample_loss(v_hat, U_idx)
    if not (ours[0] == theirs[0] and np.array_equal(ours[1], theirs[1])):
        sys.exit("bench_tricks: the kernel builder no longer matches batched.negsample_loss; "
                 "update _kernel")


def _kernel_patches(**tricks):
    from w2v_engine import batched, prepared
    f = _kernel(**tricks)
    return [(batched, "negsample_loss", f), (prepared, "negsample_loss", f)]


def _grads_patches(matvec=False, einsum=False):
    from w2v_engine import batched, prepared

    def negsample_grads(delta, v_hat, U_idx, grad_v=None, grad_U_values=None):
        P, K1 = delta.shape
        out = grad_U_values.reshape(P, K1, -1)
        if matvec:
            np.vecmat(delta, U_idx, out=grad_v)
        else:
            np.matmul(delta[:, None, :], U_idx, out=grad_v[:, None, :])
        if einsum:
            np.einsum("pj,pd->pjd", delta, v_hat, out=out)
        else:
            np.multiply(delta[:, :, None], v_hat[:, None, :], out=out)
        return grad_v, grad_U_values
    return [(batched, "negsample_grads", negsample_grads),
            (prepared, "negsample_grads", negsample_grads)]


def _row_wise_scatter():
    from w2v_engine import prepared

    def add_to(self, x, factor=1.0, scatter=None):
        np.add.at(x, self.prepared.rows, self._values(factor))
    return [(prepared.SkipgramNegGradient, "add_to", add_to)]


def _float_pairs():
    from w2v_engine import sampler, sparse

    def floats(width, dtype):
        return np.dtype(dtype), width
    return [(sparse, "pair_layout", floats), (sampler, "pair_layout", floats)]


# name -> (kept?, patches that switch the trick on, patches that switch it off)
PER_ITERATION = {
    "scatter-flat": (True, list, _row_wise_scatter),
    "scatter-pairs": (True, list, _float_pairs),
    # kernel and gradient tricks: both variants through the same builder, so that the builder's
    # own overhead (if any) is on both sides
    "shared-exp": (True, _kernel_patches, lambda: _kernel_patches(shared_exp=False)),
    "ones-dot": (True, _kernel_patches, lambda: _kernel_patches(ones_dot=False)),
    "grouped-logs": (False, lambda: _kernel_patches(grouped_logs=True), _kernel_patches),
    "matvec": (False, lambda: _kernel_patches(matvec=True) + _grads_patches(matvec=True),
               lambda: _kernel_patches() + _grads_patches()),
    "cached-signs": (False, lambda: _kernel_patches(cached_signs=True), _kernel_patches),
    "sign-mask": (False, lambda: _kernel_patches(sign_mask=True), _kernel_patches),
    "einsum-outer": (False, lambda: _grads_patches(einsum=True), _grads_patches),
    "none": (False, list, list),   # control: both loops the same; shows the noise of the method
}
WHOLE_RUN = {
    "prepare": (True, """
from w2v_engine import objective as o
init = o.Objective.__init__
def no_prepare(self, dataset, model, loss, batch, C, K, dim, rng, worker=True):
    init(self, dataset, model, loss, batch, C, K, dim, rng, worker)
    self.sampler.close()
    self.sampler = o.BatchSampler(dataset, rng, batch, C, K, self.model, loss == "negsample",
                                  prefetch=worker)
    self._call = self._batched
o.Objective.__init__ = no_prepare
"""),
    "worker": (True, "EXTRA_ARGS.append('--no-worker')"),
}


@contextlib.contextmanager
def patched(patches):
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    for obj, name, value in patches:
        setattr(obj, name, value)
    try:
        yield
    finally:
        for obj, name, value in reversed(saved):
            setattr(obj, name, value)


# ---- per-iteration tricks: two copies trained side by side on the live minibatches ---------

def per_iteration_saving(dataset, on, off, iterations, seed=31415):
    """Seconds per iteration the trick saves, and whether both copies end bit-identical.

    Each variant has its own sampler (made under its patches: a layout switch acts when the
    indices are made; no worker, its drawing is not timed) from the same seed, so both
    see the default run's minibatches. Chunk by chunk, each copy of the vectors is trained
    on the chunk's minibatches under its own patches, the order alternating.
    """
    import q3_run
    from w2v_engine import Objective
    from w2v_engine.prepared import skipgram_negsample_fast
    from w2v_engine.sparse import RowScatter
    np.random.seed(seed)
    x0 = q3_run.initial_vectors(len(dataset.tokens()), q3_run.DIM)
    runs = {}
    for state, patches in ((True, on), (False, off)):
        p = patches()
        with patched(p):
            objective = Objective(dataset, "skipgram", "negsample", q3_run.BATCH, q3_run.CONTEXT,
                                  q3_run.NEGATIVES, q3_run.DIM, np.random.default_rng(seed),
                                  worker=False)
        runs[state] = (p, objective, RowScatter(), x0.copy())
    chunk = runs[True][1].chunk
    spent = {True: 0.0, False: 0.0}
    chunks = max(1, iterations // chunk)
    for c in range(chunks):
        for state in ((True, False) if c % 2 == 0 else (False, True)):
            p, objective, scatter, x = runs[state]
            batches = [objective.sampler.next_prepared() for _ in range(chunk)]
            with patched(p):
                t = time.perf_counter()
                for prepared in batches:
                    _, grad = skipgram_negsample_fast(x, prepared, 1.0 / q3_run.BATCH, scatter)
                    grad.add_to(x, -STEP)
                spent[state] += time.perf_counter() - t
    for _, objective, _, _ in runs.values():
        objective.close()
    same = np.array_equal(runs[True][3], runs[False][3])
    return (spent[False] - spent[True]) / (chunks * chunk), same


# ---- whole-run tricks: fresh processes -----------------------------------------------------------

_ONE_RUN = """
import contextlib, io, json, os, sys, tempfile
sys.path.insert(0, {root!r})
EXTRA_ARGS = []
{setup}
import q3_run
with tempfile.TemporaryDirectory() as ck:
    args = q3_run.parse_args(["--checkpoint-dir", ck, "--fresh", "--print-every", "100000",
                              "--no-plot", "--vectors-out", os.path.join(ck, "v.txt")]
                             + EXTRA_ARGS)
    with contextlib.redirect_stdout(io.StringIO()):
        r = q3_run.train(args)
print(json.dumps({{"train_time": r["train_time"]}}))
"""


def one_run(setup=""):
    """Training time (s) of a default q3_run.py run in a fresh process, after `setup`."""
    code = _ONE_RUN.format(root=ROOT, setup=setup)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"bench_tricks: a run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["train_time"]


def whole_run_times(setup, pairs):
    """Median training time with the trick (the code as it is) and without (`setup`)."""
    on, off = [], []
    for i in range(pairs):
        for state in ((True, False) if i % 2 == 0 else (False, True)):
            (on if state else off).append(one_run("" if state else setup))
    return statistics.median(on), statistics.median(off)


def main(argv=None):
    names = [*WHOLE_RUN, *PER_ITERATION]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tricks", nargs="*", help=f"which ({', '.join(names)}); default: all")
    parser.add_argument("--pairs", type=int, default=PAIRS,
                        help="whole-run tricks: default runs with and without each")
    parser.add_argument("--iterations", type=int, default=ITERATIONS,
                        help="per-iteration tricks: iterations trained with and without each, "
                             "per round")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="per-iteration tricks: rounds over all of them (median counts)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.tricks if n not in names]
    if unknown:
        parser.error(f"unknown trick(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    chosen = args.tricks or names

    run_times, rows = [], []
    for name in [n for n in chosen if n in WHOLE_RUN]:
        kept, setup = WHOLE_RUN[name]
        on, off = whole_run_times(setup, args.pairs)
        run_times.append(on)
        rows.append((name, kept, 1 - on / off, f"whole run: {on:.2f} s with, {off:.2f} s without "
                                               f"(median of {args.pairs})"))
        print(f"  {rows[-1][0]}: {rows[-1][3]}", flush=True)
    per_iteration = [n for n in chosen if n in PER_ITERATION]
    if per_iteration:
        if not run_times:
            run_times = [one_run() for _ in range(3)]
        run_time = statistics.median(run_times)
        print(f"  default run: {run_time:.2f} s of training ({run_time / RUN_ITERATIONS * 1e6:.0f} "
              f"us per iteration)", flush=True)
        from utils.treebank import StanfordSentiment
        with contextlib.redirect_stdout(io.StringIO()):
            dataset = StanfordSentiment()
            dataset.tokens()
        check_kernel_builder()
        savings = {name: [] for name in per_iteration}
        same = {name: True for name in per_iteration}
        for r in range(args.rounds):     # round-robin: a slow spell of the machine hits all tricks
            for name in per_iteration:
                kept, on, off = PER_ITERATION[name]
                saved, identical = per_iteration_saving(dataset, on, off, args.iterations)
                savings[name].append(saved)
                same[name] &= identical
                print(f"  round {r + 1}, {name}: {saved * 1e6:+.1f} us per iteration", flush=True)
        for name in per_iteration:
            kept = PER_ITERATION[name][0]
            saved = statistics.median(savings[name])
            total = saved * RUN_ITERATIONS
            low, high = min(savings[name]) * 1e6, max(savings[name]) * 1e6
            rows.append((name, kept, total / (run_time + total),   # as 1 - on / off
                         f"{saved * 1e6:+.1f} us per iteration (median of {args.rounds} rounds "
                         f"of {args.iterations} iterations: {low:+.1f} .. {high:+.1f}); vectors "
                         f"{'bit-identical' if same[name] else 'DIFFERENT'}"))

    print(f"\n{'trick':<14} {'status':<8} {'saves':>7}  measured as")
    failed = []
    for name, kept, share, how in rows:
        status = "control" if name == "none" else "kept" if kept else "removed"
        print(f"{name:<14} {status:<8} {share:7.1%}  {how}")
        if name != "none" and kept != (share >= KEEP_SHARE):
            failed.append(name)
    if failed:
        print(f"bench_tricks: against the {KEEP_SHARE:.0%} rule: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    print(f"every kept trick saves >= {KEEP_SHARE:.0%} of the run; no removed one would")
    return 0


if __name__ == "__main__":
    sys.exit(main())
