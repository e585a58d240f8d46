"""What each speed trick of the training engine buys in the default 40,000-iteration run.

    python bench/bench_tricks.py                 # every trick, 3 pairs each: about 8 minutes
    python bench/bench_tricks.py --pairs 5 scatter-flat worker

For each trick, the default ``python q3_run.py`` run is timed with the engine as
it is ("on") and with that one trick replaced by its plain equivalent ("off"),
alternating on/off in fresh processes (``--pairs`` of each); the gain is
``1 - median(on) / median(off)``, the share of the run the trick saves. The
engine keeps a trick only if it saves at least KEEP_SHARE (3 %) of the run;
bench/README.md lists the measured gains.

Tricks the engine has (switched off here by replacing the function that does it):

* ``prepare``:     index arrays of skip-gram + negative-sampling minibatches built a whole
                   chunk of iterations at a time, ahead (off: ``word2vec_batch`` each iteration);
* ``worker``:      the chunks drawn in a worker process on the other core (off: ``--no-worker``);
* ``scatter-flat``: the update as one ``np.add.at`` on the flat view of the matrix with
                   precomputed element indices (off: ``np.add.at(x, rows, values)`` row-wise);
* ``scatter-pairs``: pairs of floats added as one complex number in that scatter (off: floats);
* ``factors``:     the step folded into the (P, K+1) dJ/ds before the gradient values are formed
                   (off: the (P*(K+2), D) values multiplied by it).

Tricks the engine had before and dropped (switched on here by putting their code back, so
``--only-removed`` shows they still do not pay):

* ``matvec``:      ``np.matvec`` / ``np.vecmat`` gufuncs instead of ``np.matmul`` (numpy >= 2.2);
* ``fused-softplus``: cost and sigmoid from one exp(-|z|), the log taken of products of K+1
                   factors (fewer log calls), sums as dot products with a cached ones vector.

(``cached signs``, a cached read-only (P, K+1) matrix of [-1, 1, ..., 1] to multiply by, has no
equivalent any more: the engine negates column 0 in place instead of multiplying.)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEEP_SHARE = 0.03
PAIRS = 3

# Each variant is Python code run before the training, in the child process.
KEPT = {
    "prepare": """
from w2v_engine import objective as o
init = o.Objective.__init__
def no_prepare(self, dataset, model, loss, batch, C, K, dim, rng, worker=True):
    init(self, dataset, model, loss, batch, C, K, dim, rng, worker)
    self.sampler.close()
    self.sampler = o.BatchSampler(dataset, rng, batch, C, K, self.model, loss == "negsample",
                                  prefetch=worker)
    self._call = self._batched
o.Objective.__init__ = no_prepare
""",
    "worker": "EXTRA_ARGS.append('--no-worker')",
    "scatter-flat": """
import numpy as np
from w2v_engine import prepared as p
def add_to(self, x, factor=1.0, scatter=None):
    np.add.at(x, self.prepared.rows, self._values(factor))
p.SkipgramNegGradient.add_to = add_to
""",
    "scatter-pairs": """
import numpy as np
from w2v_engine import sparse, sampler
def floats(width, dtype):
    return np.dtype(dtype), width
sparse.pair_layout = sampler.pair_layout = floats
""",
    "factors": """
from w2v_engine import prepared as p
values = p.SkipgramNegGradient._values
def unfolded(self, factor, out=None):
    v = values(self, 1.0, out)
    v *= factor
    return v
p.SkipgramNegGradient._values = unfolded
""",
}
REMOVED = {
    "matvec": """
import numpy as np
from w2v_engine import batched as b, prepared as p
from q2_sigmoid import sigmoid
def negsample_loss(v_hat, U_idx):
    z = np.matvec(U_idx, v_hat)
    z[:, 0] *= -1.0
    cost = float(np.sum(np.maximum(z, 0.0)) + np.sum(np.log1p(np.exp(-np.abs(z)))))
    delta = sigmoid(z)
    delta[:, 0] *= -1.0
    return cost, delta
def negsample_grads(delta, v_hat, U_idx, grad_v=None, grad_U_values=None):
    P, K1 = delta.shape
    np.vecmat(delta, U_idx, out=grad_v)
    np.multiply(delta[:, :, None], v_hat[:, None, :], out=grad_U_values.reshape(P, K1, -1))
    return grad_v, grad_U_values
b.negsample_loss = p.negsample_loss = negsample_loss
b.negsample_grads = p.negsample_grads = negsample_grads
""",
    "fused-softplus": """
import numpy as np
from w2v_engine import batched as b, prepared as p
ONES = np.ones(4096)
def negsample_loss(v_hat, U_idx):
    z = np.matmul(U_idx, v_hat[:, :, None])[:, :, 0]
    z[:, 0] *= -1.0
    M = z.shape[1]
    e = np.copysign(z, -1.0)
    np.exp(e, out=e)                                   # exp(-|z|)
    q = e + 1.0
    log_q = np.log(q.reshape(M, -1).prod(axis=0))      # one log per M factors
    step = np.sign(z)
    np.maximum(step, 0.0, out=step)
    cost = float(z.reshape(-1).dot(step.reshape(-1)) + log_q.dot(ONES[:log_q.shape[0]]))
    np.maximum(e, step, out=e)
    e /= q                                             # sigmoid(z)
    e[:, 0] *= -1.0
    return cost, e
b.negsample_loss = p.negsample_loss = negsample_loss
""",
}

# Runs the default training in this tree after `setup`; prints the training time as JSON.
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
print(json.dumps({{"train_time": r["train_time"], "expcost": r["expcost"]}}))
"""


def one_run(setup):
    code = _ONE_RUN.format(root=ROOT, setup=setup)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"bench_tricks: a run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["train_time"]


def measure(name, setup, pairs, kept):
    """Median training time with the trick and without it, runs alternating."""
    with_trick, without = [], []
    for i in range(pairs):
        order = ((True, False) if i % 2 == 0 else (False, True))
        for on in order:
            # a kept trick is on in the code as it is; a removed one is on with its setup
            code = ("" if on else setup) if kept else (setup if on else "")
            (with_trick if on else without).append(one_run(code))
    on, off = statistics.median(with_trick), statistics.median(without)
    return on, off, 1 - on / off


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tricks", nargs="*", help=f"which ({', '.join([*KEPT, *REMOVED])}); "
                                                  "default: all")
    parser.add_argument("--pairs", type=int, default=PAIRS, help="runs with and without each")
    parser.add_argument("--only-removed", action="store_true", help="only the dropped tricks")
    args = parser.parse_args(argv)
    names = args.tricks or ([*REMOVED] if args.only_removed else [*KEPT, *REMOVED])
    unknown = [n for n in names if n not in KEPT and n not in REMOVED]
    if unknown:
        parser.error(f"unknown trick(s) {', '.join(unknown)}; choose from "
                     f"{', '.join([*KEPT, *REMOVED])}")
    print(f"default q3_run.py training, median of {args.pairs} runs with and without each trick")
    print(f"{'trick':<16} {'status':<8} {'with':>8} {'without':>8} {'saves':>7}")
    failed = []
    for name in names:
        kept = name in KEPT
        on, off, share = measure(name, (KEPT if kept else REMOVED)[name], args.pairs, kept)
        status = "kept" if kept else "removed"
        print(f"{name:<16} {status:<8} {on:7.2f}s {off:7.2f}s {share:7.1%}", flush=True)
        if kept != (share >= KEEP_SHARE):
            failed.append(name)
    if failed:
        print(f"bench_tricks: against the {KEEP_SHARE:.0%} rule: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    print(f"every kept trick saves >= {KEEP_SHARE:.0%} of the run; no removed one would")
    return 0


if __name__ == "__main__":
    sys.exit(main())
