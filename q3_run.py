"""Question 3(f): train word vectors on the Stanford Sentiment Treebank.

    python q3_run.py                 # the course's run: 40,000 iterations, in seconds
    python q3_run.py --help          # every switch

The defaults are the course's (dim 10, context 5, 10 negatives, batches of
50 windows, step 0.3 halved every 20,000 iterations, skip-gram with negative
sampling). Two training paths compute the same model:

* the default **fast path** draws the windows and negative samples of
  SAMPLE_CHUNK iterations at once with a ``numpy.random.Generator``
  (``StanfordSentiment.sample_windows`` / ``sample_negatives``) and, for
  skip-gram with negative sampling, precomputes everything about those
  minibatches that does not depend on the parameters (which rows each one
  reads and writes: ``q3_word2vec.prepare_skipgram_negsample``). A worker
  process does this ahead of training, on the other CPU core
  (``w2v_engine.prefetch``; ``--no-worker`` keeps it in this process, same
  results). An iteration then costs one gather, the shared negative-sampling
  loss (``q3_word2vec.skipgram_negsample_fast``) and one in-place scatter of
  the sparse gradient by ``sgd``: it touches the few thousand rows of the
  batch, not the (2V, D) matrix. CBOW and the softmax loss use the batched
  ``q3_word2vec.word2vec_batch`` on the drawn windows;
* ``--classic`` goes through the course's per-window
  ``word2vec_sgd_wrapper`` (Python's ``random``, dense gradients): the same
  distributions, another random stream, a few hundred times slower per
  iteration (``bench/bench_train.py`` measures it).

Seeding (``--seed S``, default 31415), in this order:

1. ``random.seed(S)`` and ``np.random.seed(S)``, then the treebank is loaded
   and its subsampled sentences (``allSentences``) and sampling table are
   built at once, so they never depend on when training first asks for them;
2. ``random.seed(S)`` and ``np.random.seed(S)`` again, then the initial
   vectors: input ``(np.random.rand(V, dim) - 0.5) / dim``, output zeros,
   stacked into one (2V, dim) matrix (the course's formula; the course seeds
   NumPy with 9265 here, so its numbers differ from ours unless you pass
   that seed to a copy of its script);
3. the fast path's generator is ``np.random.default_rng(S)``; chunk k of
   SAMPLE_CHUNK iterations is drawn from the state chunk k-1 left it in, in
   the worker or not, so the run depends only on the seed and the settings.

Checkpoints (``--checkpoint-dir``, default ``checkpoints/``) are written every
``--save-every`` iterations and at the last one; a run that is stopped (even
by a kill or a power cut) continues where its newest checkpoint left off when
started again with the same command and ends with exactly the vectors of an
uninterrupted run. Question 4 reads the final vectors with
``q3_sgd.load_saved_params(checkpoint_dir)``.

Outputs: ``q3_word_vectors.png`` (25 words projected to 2-D by an SVD of the
centred input + output vectors) and ``q3_word_vectors.txt`` (input + output
vectors in word2vec text format: a line "V D", then "word v1 ... vD").
"""
import argparse
import random
import sys
import time
import warnings

import numpy as np

from q3_sgd import (ANNEAL_EVERY, DEFAULT_CHECKPOINT_DIR, SAVE_PARAMS_EVERY,
                    CheckpointConfigError, TrainingDivergedError, load_saved_params,
                    print_speed_progress, sgd)
from utils.atomic import atomic_write
from q3_word2vec import (PreparedChunk, cbow, cbow_batch,
                         negative_sample_targets, negSamplingCostAndGradient,
                         prepare_skipgram_negsample, skipgram, skipgram_batch,
                         skipgram_negsample_fast, softmaxCostAndGradient, word2vec_batch,
                         word2vec_sgd_wrapper)
from w2v_engine.prefetch import Prefetcher
from w2v_engine.sparse import pair_layout
from utils.treebank import DatasetFormatError, StanfordSentiment

# ---- hyper-parameters (the course's defaults) -----------------------------------
ITERATIONS = 40000       # SGD iterations
DIM = 10                 # word vector dimension D
CONTEXT = 5              # C: windows have up to C words on each side (C1 = randint(1, C))
NEGATIVES = 10           # K negative samples per target word
BATCH = 50               # windows per iteration; cost and gradient are batch means
STEP = 0.3               # initial SGD step, halved every q3_sgd.ANNEAL_EVERY iterations
MODEL = "skipgram"
LOSS = "negsample"
SEED = 31415
SAVE_EVERY = SAVE_PARAMS_EVERY   # the course's 5000
PRINT_EVERY = 1000       # progress lines (40 for the default run)
SMOOTH_EVERY = 10        # the smoothed cost is updated every 10 iterations, as the course's run did
SAMPLE_CHUNK = 50        # iterations drawn (and prepared) in one go on the fast path: amortises the
                         # draws; 3 chunks in flight hold ~15 MB of index arrays
CHUNK_BYTES = 32 << 20   # fewer iterations per chunk if its arrays could exceed this (large settings)
COST_SANITY = 10.0       # a default run should end at or below this smoothed cost (course: 9.6-9.8)
CHECKPOINT_DIR = DEFAULT_CHECKPOINT_DIR   # "checkpoints"
VECTORS_OUT = "q3_word_vectors.txt"
PLOT_OUT = "q3_word_vectors.png"

# the words the course plots
VISUALIZE_WORDS = ["the", "a", "an", ",", ".", "?", "!", "``", "''", "--",
                   "good", "great", "cool", "brilliant", "wonderful", "well", "amazing",
                   "worth", "sweet", "enjoyable", "boring", "bad", "waste", "dumb", "annoying"]

CLASSIC_MODELS = {"skipgram": skipgram, "cbow": cbow}
BATCH_MODELS = {"skipgram": skipgram_batch, "cbow": cbow_batch}
CLASSIC_LOSSES = {"negsample": negSamplingCostAndGradient, "softmax": softmaxCostAndGradient}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show "(default: ...)" for real values only, not for switches or unset options."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="q3_run.py",
        description="Train word2vec vectors on the Stanford Sentiment Treebank (CS224n "
                    "assignment 1, question 3). Defaults are the course's settings; a run "
                    "resumes from its newest checkpoint when started again.",
        formatter_class=_HelpFormatter)
    g = p.add_argument_group("model")
    g.add_argument("--iterations", type=int, default=ITERATIONS, help="SGD iterations in total")
    g.add_argument("--dim", type=int, default=DIM, help="word vector dimension")
    g.add_argument("--context", type=int, default=CONTEXT,
                   help="maximum context size C (words on each side of the centre)")
    g.add_argument("--negatives", type=int, default=NEGATIVES,
                   help="negative samples K per target (with --loss negsample)")
    g.add_argument("--batch", type=int, default=BATCH, help="windows per SGD iteration")
    g.add_argument("--step", type=float, default=STEP,
                   help=f"initial step, halved every {ANNEAL_EVERY} iterations")
    g.add_argument("--model", choices=sorted(CLASSIC_MODELS), default=MODEL,
                   help="skip-gram predicts the context from the centre word, CBOW the centre "
                        "from the summed context")
    g.add_argument("--loss", choices=sorted(CLASSIC_LOSSES), default=LOSS,
                   help="negative sampling or the full softmax (slow: every output vector)")
    g.add_argument("--seed", type=int, default=SEED,
                   help="seed of Python's random and NumPy's global state (set before loading "
                        "the data and again before the initial vectors) and of the fast path's "
                        "np.random.default_rng")
    g = p.add_argument_group("checkpoints and output")
    g.add_argument("--checkpoint-dir", default=CHECKPOINT_DIR,
                   help="folder of the saved_params_<iter>.npz checkpoints")
    g.add_argument("--save-every", type=int, default=SAVE_EVERY,
                   help="iterations between checkpoints (one is always written at the end)")
    g.add_argument("--print-every", type=int, default=PRINT_EVERY,
                   help="iterations between progress lines")
    g.add_argument("--fresh", action="store_true",
                   help="delete the checkpoints in --checkpoint-dir and start at iteration 0")
    g.add_argument("--classic", action="store_true",
                   help="train through the course's per-window word2vec_sgd_wrapper "
                        "(slow, for comparison)")
    g.add_argument("--no-worker", action="store_true",
                   help="draw the batches in the training process instead of a worker process "
                        "running ahead of it (slower; the results are the same)")
    g.add_argument("--no-plot", action="store_true", help="do not write the plot (--plot-out)")
    g.add_argument("--plot-out", default=PLOT_OUT, help="path of the 2-D plot of 25 words")
    g.add_argument("--vectors-out", default=VECTORS_OUT,
                   help="word2vec text file of the input + output vectors")
    g.add_argument("--data", default=None,
                   help="SST folder (default: utils/datasets/stanfordSentimentTreebank)")
    args = p.parse_args(argv)
    for name in ("iterations", "dim", "context", "negatives", "batch", "save_every",
                 "print_every"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.step > 0:
        p.error(f"--step must be positive, got {args.step}")
    return args


# ---- the fast path's sampler ----------------------------------------------------
class BatchSampler:
    """Windows and negative samples for SGD, drawn `chunk` iterations at a time.

    Chunk k is drawn from the Generator in the state chunk k-1 left it in
    (``StanfordSentiment.sample_windows`` for ``chunk * batch`` windows, then
    ``sample_negatives`` for their targets), so the batches depend only on
    the seed and the settings, never on timing or on where they were drawn.

    Two kinds of chunks:

    * raw: ``next_batch()`` returns the arrays of one iteration: centres
      (batch,), contexts (batch, 2C) padded with -1 and negatives -- (P, K)
      for skip-gram (one row per valid context entry, the order of
      ``contexts[contexts >= 0]``), (batch, K) for CBOW, None for the softmax
      loss;
    * prepared (``prepare_for=(W, D)``, skip-gram with negative sampling
      only): the chunk is also turned into the index arrays of
      ``q3_word2vec.prepare_skipgram_negsample`` and ``next_prepared()``
      returns one iteration's ``SkipgramPrepared``; this is all the work of an
      iteration that does not depend on the parameters.

    With ``prefetch=True`` the chunks are drawn (and prepared) ahead in a
    worker process (``w2v_engine.prefetch``), in parallel with training; the
    chunks are the same as without it. Call `close` at the end (it stops
    the worker).

    Its state for checkpoints (``get_state``/``set_state``) is the Generator's
    state at the start of the current chunk plus the number of batches used
    from it: restoring redraws the chunk and skips those batches, so a resumed
    run sees exactly the batches an uninterrupted one would.

    Parameters
    ----------
    dataset : StanfordSentiment (or any object with its ``sample_windows`` / ``sample_negatives``)
    rng : numpy.random.Generator
    batch, C, K : int
        Windows per iteration, largest half-width, negatives per target.
    model : `skipgram_batch` or `cbow_batch`
    negsample : bool
        Draw negatives (negative-sampling loss) or not (softmax).
    chunk : int or None
        Iterations per chunk; None: `default_chunk` (SAMPLE_CHUNK for the course's settings).
        It fixes the random stream, so a checkpoint records it.
    prepare_for : (W, D) or None
        Vocabulary size and vector dimension the prepared index arrays are for.
    prefetch : bool
        Draw chunks ahead in a worker process where the OS allows it.
    """

    def __init__(self, dataset, rng, batch, C, K, model, negsample, chunk=None, prepare_for=None,
                 prefetch=False):
        self.dataset, self.rng = dataset, rng
        self.batch, self.C, self.K = batch, C, K
        self.model, self.negsample = model, negsample
        self.prepared = prepare_for is not None
        if self.prepared and not (negsample and model is skipgram_batch):
            raise ValueError("BatchSampler: prepare_for is for skip-gram with negative sampling only")
        if self.prepared:
            self.W, self.cols = prepare_for[0], pair_layout(prepare_for[1], np.float64)[1]
        self.chunk = self.default_chunk(self._capacity(1)) if chunk is None else int(chunk)
        self._source = Prefetcher(self._produce, rng, self._capacity(self.chunk),
                                  worker=bool(prefetch))
        self._start_state = rng.bit_generator.state
        self._pos = 0            # batches used from the current chunk
        self._chunk = None       # None: draw (or redraw) the chunk at the next call

    @staticmethod
    def default_chunk(capacity_of_one):
        """SAMPLE_CHUNK iterations, fewer if a chunk could exceed CHUNK_BYTES (large settings)."""
        per_iteration = sum(np.dtype(dt).itemsize * n for dt, n in capacity_of_one.values())
        return max(1, min(SAMPLE_CHUNK, CHUNK_BYTES // max(per_iteration, 1)))

    def _capacity(self, chunk):
        """Largest arrays of a chunk: name -> (dtype, elements); a window has <= 2C context words."""
        n, C2, K = chunk * self.batch, 2 * self.C, self.K
        P = n * C2                                      # (centre, context) pairs, at most
        if self.prepared:
            return {"bounds": (np.int64, chunk + 1), "rows": (np.int64, P * (K + 2)),
                    "flat": (np.int64, P * (K + 2) * self.cols)}
        capacity = {"centres": (np.int64, n), "contexts": (np.int64, n * C2)}
        if self.negsample:
            capacity["bounds"] = (np.int64, chunk + 1)
            capacity["negatives"] = (np.int64, (P if self.model is skipgram_batch else n) * K)
        return capacity

    def _produce(self, rng):
        """Draw one chunk from `rng`: windows, then negatives (then the index arrays if prepared)."""
        n = self.chunk * self.batch
        centres, contexts = self.dataset.sample_windows(rng, n, self.C)   # (n,), (n, 2C)
        centres = centres.astype(np.int64, copy=False)
        contexts = contexts.astype(np.int64, copy=False)
        if not self.negsample:
            return {"centres": centres, "contexts": contexts}
        targets = negative_sample_targets(self.model, centres, contexts)
        # (len(targets), K): one row of negatives per target
        negatives = self.dataset.sample_negatives(rng, targets, self.K).astype(np.int64, copy=False)
        if self.prepared:
            bounds, rows, flat = prepare_skipgram_negsample(centres, contexts, negatives, self.W,
                                                            self.cols, self.batch)
            return {"bounds": bounds, "rows": rows, "flat": flat}
        if self.model is skipgram_batch:
            per_batch = (contexts >= 0).sum(axis=1).reshape(self.chunk, self.batch).sum(axis=1)
        else:
            per_batch = np.full(self.chunk, self.batch)
        bounds = np.zeros(self.chunk + 1, dtype=np.int64)                 # (chunk + 1,)
        np.cumsum(per_batch, out=bounds[1:])
        return {"centres": centres, "contexts": contexts, "negatives": negatives,
                "bounds": bounds}

    def get_state(self):
        """JSON-compatible state: the Generator's state at the chunk start, batches used."""
        start = self._source.start_state if self._start_state is None else self._start_state
        return {"chunk_start": start, "used": self._pos}

    def set_state(self, state):
        """Go back to a `get_state` result (the chunk is redrawn at the next call)."""
        self._source.restart(state["chunk_start"])
        self._start_state = state["chunk_start"]
        self._pos = int(state["used"])
        self._chunk = None

    def close(self):
        """Stop the worker process, if any (a later call starts a new one where this one was)."""
        self._source.close()

    def _fetch(self):
        arrays = self._source.next()
        self._start_state = None                 # the source knows it (parsed only if asked)
        if self.prepared:
            self._chunk = PreparedChunk(arrays["bounds"], arrays["rows"], arrays["flat"])
        else:
            bounds = arrays.get("bounds")
            self._chunk = (arrays["centres"], arrays["contexts"], arrays.get("negatives"),
                           None if bounds is None else bounds.tolist())

    def _advance(self):
        """Make sure the current chunk has a batch left; return its index in the chunk."""
        if self._chunk is None:
            used = self._pos
            self._fetch()
            if used == self.chunk:   # the restored chunk was used up: go on with the next one
                self._fetch()
                used = 0
            self._pos = used
        elif self._pos == self.chunk:
            self._fetch()
            self._pos = 0
        i = self._pos
        self._pos += 1
        return i

    def next_batch(self):
        """(centres (batch,), contexts (batch, 2C), negatives or None) of the next iteration."""
        if self.prepared:
            raise RuntimeError("BatchSampler: a prepared sampler gives next_prepared(), not raw batches")
        i = self._advance()
        centres, contexts, negatives, bounds = self._chunk
        b = self.batch
        neg = None if negatives is None else negatives[bounds[i]:bounds[i + 1]]
        return centres[i * b:(i + 1) * b], contexts[i * b:(i + 1) * b], neg

    def next_prepared(self):
        """The `SkipgramPrepared` of the next iteration (views: valid until the next chunk)."""
        i = self._advance()
        return self._chunk.batch(i)


def make_fast_f(sampler, model, batch):
    """Cost and sparse gradient of one minibatch, as means over its windows (as the classic).

    A prepared sampler (skip-gram + negative sampling) goes through
    ``skipgram_negsample_fast``; the others through ``word2vec_batch``.
    """
    inv_batch = 1.0 / batch
    if sampler.prepared:
        def f(wordVectors):
            return skipgram_negsample_fast(wordVectors, sampler.next_prepared(), inv_batch)
        return f

    def f(wordVectors):
        centres, contexts, negatives = sampler.next_batch()
        cost, grad = word2vec_batch(model, centres, contexts, wordVectors, negatives)
        # in place: word2vec_batch made grad.values for this call only (saves a copy per iteration)
        np.multiply(grad.values, inv_batch, out=grad.values)
        return cost * inv_batch, grad
    return f


def make_classic_f(model, tokens, dataset, C, loss, K, batch):
    """The course's per-window route: word2vec_sgd_wrapper over `batch` windows per call."""
    if loss is negSamplingCostAndGradient:
        def cost_fn(predicted, target, outputVectors, ds):
            return negSamplingCostAndGradient(predicted, target, outputVectors, ds, K)
    else:
        cost_fn = loss

    def f(wordVectors):
        return word2vec_sgd_wrapper(model, tokens, wordVectors, dataset, C, cost_fn, batch)
    return f


# ---- set-up ----------------------------------------------------------------------
def seed_all(seed):
    """Seed Python's random and NumPy's global RandomState."""
    random.seed(seed)
    np.random.seed(seed)


def load_dataset(path=None):
    """The treebank with its subsampled sentences and sampling table built now."""
    dataset = StanfordSentiment(path) if path else StanfordSentiment()
    tokens = dataset.tokens()
    dataset.allSentences()
    dataset.sampleTable()
    return dataset, tokens


def initial_vectors(V, dim):
    """(2V, dim): input vectors (rand - 0.5) / dim on top of zero output vectors."""
    return np.concatenate(((np.random.rand(V, dim) - 0.5) / dim,   # (V, dim) in [-0.5/dim, 0.5/dim)
                           np.zeros((V, dim))), axis=0)


def words_by_index(tokens):
    """List of the words in index order (tokens maps word -> index 0..V-1)."""
    words = [None] * len(tokens)
    for w, i in tokens.items():
        words[i] = w
    return words


# ---- outputs ---------------------------------------------------------------------
def write_word2vec_text(path, words, vectors):
    """Write `vectors` (V, D) as word2vec text ("V D" then "word v1 ... vD"), atomically."""
    V, D = vectors.shape
    if len(words) != V:
        raise ValueError(f"write_word2vec_text: {len(words)} words for {V} vectors")
    body = np.char.add(np.array(words, dtype=str), " ")
    rows = [" ".join(f"{v:.9g}" for v in row) for row in vectors.tolist()]

    def write(fh):
        fh.write(f"{V} {D}\n")
        fh.writelines(f"{w}{r}\n" for w, r in zip(body.tolist(), rows))
    atomic_write(path, write, binary=False)


def plot_word_vectors(path, tokens, vectors, words=VISUALIZE_WORDS):
    """Save the 2-D SVD projection of the centred vectors of `words` (those in `tokens`).

    Parameters
    ----------
    vectors : ndarray, shape (V, D)
        Input + output vectors.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [w for w in words if w in tokens]
    if len(shown) < 2:
        raise ValueError(f"plot_word_vectors: only {len(shown)} of the words to plot are in "
                         "the vocabulary")
    X = vectors[[tokens[w] for w in shown]]              # (n, D)
    X = X - X.mean(axis=0)                              # centred
    _, _, Vt = np.linalg.svd(X, full_matrices=False)     # X = U S Vt; rows of Vt: directions
    coord = X @ Vt[:2].T                                # (n, D) @ (D, 2) -> (n, 2)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(coord[:, 0], coord[:, 1], s=0)
    for (x, y), w in zip(coord, shown):
        ax.text(x, y, w, ha="center", va="center",
                bbox=dict(facecolor="green", alpha=0.1, edgecolor="none"))
    pad = 0.1 * (np.ptp(coord, axis=0) + 1e-12)
    ax.set_xlim(coord[:, 0].min() - pad[0], coord[:, 0].max() + pad[0])
    ax.set_ylim(coord[:, 1].min() - pad[1], coord[:, 1].max() + pad[1])
    ax.set_xlabel("first principal direction")
    ax.set_ylabel("second principal direction")
    ax.set_title("SST word vectors (input + output), 2-D SVD projection")
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=100))
    plt.close(fig)
    return shown


# ---- main ------------------------------------------------------------------------
def train(args):
    """Load the data, train (resuming from a checkpoint if there is one), return a summary.

    Parameters
    ----------
    args : argparse.Namespace
        From `parse_args`.

    Returns
    -------
    summary : dict
        ``startup`` (s: loading SST, tables, initial vectors), ``train_time`` and
        ``train_cpu`` (s, wall and CPU), ``start_iteration`` (0 or the resumed
        checkpoint's), ``iterations``, ``expcost`` (final smoothed cost or None),
        ``wordVectors`` ((2V, D) input rows then output rows), ``tokens``, ``V``.
    """
    t_start = time.perf_counter()
    seed_all(args.seed)
    dataset, tokens = load_dataset(args.data)
    V = len(tokens)
    seed_all(args.seed)
    wordVectors = initial_vectors(V, args.dim)            # (2V, dim)
    negsample = args.loss == "negsample"
    config = {"vocab_size": V, "dim": args.dim, "context": args.context, "batch": args.batch,
              "negatives": args.negatives if negsample else None, "model": args.model,
              "loss": args.loss, "seed": args.seed,
              "path": "classic" if args.classic else "fast"}
    sampler = None
    if args.classic:
        f = make_classic_f(CLASSIC_MODELS[args.model], tokens, dataset, args.context,
                           CLASSIC_LOSSES[args.loss], args.negatives, args.batch)
        generators = []
        config["sample_chunk"] = None
    else:
        rng = np.random.default_rng(args.seed)
        model = BATCH_MODELS[args.model]
        # skip-gram + negative sampling: chunks come with their index arrays precomputed
        prepare_for = (V, args.dim) if negsample and model is skipgram_batch else None
        sampler = BatchSampler(dataset, rng, args.batch, args.context, args.negatives, model,
                               negsample, prepare_for=prepare_for, prefetch=not args.no_worker)
        f = make_fast_f(sampler, model, args.batch)
        generators = [sampler]
        config["sample_chunk"] = sampler.chunk     # fixes the random stream, so it must match
    startup = time.perf_counter() - t_start
    print(f"SST: {V} tokens, {dataset.numSentences()} sentences; start-up {startup:.2f} s; "
          f"training {args.model} / {args.loss}, dim {args.dim}, "
          f"{'classic per-window' if args.classic else 'batched sparse'} path", flush=True)

    start_iter = load_saved_params_quiet(args.checkpoint_dir) if not args.fresh else 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        wordVectors = sgd(f, wordVectors, args.step, args.iterations, None, True,
                          args.print_every, checkpoint_dir=args.checkpoint_dir,
                          save_every=args.save_every, smooth_every=SMOOTH_EVERY, config=config,
                          generators=generators, progress=print_speed_progress, fresh=args.fresh)
    finally:
        if sampler is not None:
            sampler.close()                        # stops and reaps the worker process
    train_time, train_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    iteration, final, state = load_saved_params(args.checkpoint_dir)
    if iteration != args.iterations or not np.array_equal(final, wordVectors):
        raise RuntimeError(f"the final checkpoint in {args.checkpoint_dir} is not the trained "
                           f"vectors (iteration {iteration}); was the folder changed meanwhile?")
    return {"startup": startup, "train_time": train_time, "train_cpu": train_cpu,
            "start_iteration": start_iter,
            "iterations": args.iterations, "expcost": state["expcost"],
            "wordVectors": wordVectors, "tokens": tokens, "V": V}


def load_saved_params_quiet(checkpoint_dir):
    """Iteration of the checkpoint sgd will resume from (0 if none), for the summary only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_saved_params(checkpoint_dir)[0]


def main(argv=None):
    args = parse_args(argv)
    try:
        result = train(args)
    except (CheckpointConfigError, TrainingDivergedError) as err:
        print(f"q3_run.py: {err}", file=sys.stderr)
        return 2 if isinstance(err, CheckpointConfigError) else 1
    except KeyboardInterrupt:
        print(f"\nq3_run.py: interrupted. Run the same command again to continue from the "
              f"newest checkpoint in {args.checkpoint_dir}.", file=sys.stderr)
        return 130
    except (FileNotFoundError, DatasetFormatError) as err:   # missing or malformed data files
        print(f"q3_run.py: {err}", file=sys.stderr)
        return 1

    done = result["iterations"] - result["start_iteration"]
    cost = result["expcost"]
    if done == 0:
        print(f"training: already complete ({result['iterations']} iterations in "
              f"{args.checkpoint_dir}); --fresh trains again")
    else:
        rate = done / result["train_time"] if result["train_time"] > 0 else float("inf")
        print(f"training: {done} iterations in {result['train_time']:.1f} s ({rate:,.0f} it/s)"
              + (f", resumed at iteration {result['start_iteration']}"
                 if result["start_iteration"] else ""))
    status = 0
    course_setting = ((args.model, args.loss, args.context, args.negatives, args.batch)
                      == (MODEL, LOSS, CONTEXT, NEGATIVES, BATCH) and args.iterations >= ITERATIONS)
    if cost is None:
        print("sanity: no smoothed cost yet (fewer iterations than the smoothing period)")
    elif not course_setting:
        print(f"final smoothed cost {cost:.4f} (the course's 9.6-9.8 reference is for the default "
              f"{MODEL}/{LOSS} run of {ITERATIONS} iterations)")
    elif cost <= COST_SANITY:
        print(f"sanity: final smoothed cost {cost:.4f} <= {COST_SANITY:g} "
              "(the course's runs end at 9.6-9.8)  OK")
    else:
        print(f"sanity: final smoothed cost {cost:.4f} > {COST_SANITY:g}, higher than the course's "
              "9.6-9.8: check the step, the data and the changes to the code  FAILED",
              file=sys.stderr)
        status = 1       # the outputs are still written, for inspection
    words = words_by_index(result["tokens"])
    W = result["V"]
    summed = result["wordVectors"][:W] + result["wordVectors"][W:]     # (V, D) input + output
    write_word2vec_text(args.vectors_out, words, summed)
    print(f"wrote {args.vectors_out} ({W} x {summed.shape[1]}, word2vec text format)")
    if not args.no_plot:
        plot_word_vectors(args.plot_out, result["tokens"], summed)
        print(f"wrote {args.plot_out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
