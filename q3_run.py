"""Question 3(f): train word vectors on the Stanford Sentiment Treebank.

    python q3_run.py                 # the course's run: 40,000 iterations, in seconds
    python q3_run.py --help          # every switch

The defaults are the course's (dim 10, context 5, 10 negatives, batches of
50 windows, step 0.3 halved every 20,000 iterations, skip-gram with negative
sampling). Two training paths compute the same model with ``q3_sgd.sgd``:

* the default **fast path**: the training engine (``w2v_engine.Objective``)
  computes the losses of ``q3_word2vec.py`` for a whole minibatch at once and
  returns a sparse gradient that ``sgd`` applies to the few thousand rows the
  minibatch touches, never to the (2V, D) matrix. It draws the windows and
  negative samples of many iterations at once with a
  ``numpy.random.Generator``, in a worker process running ahead of training
  (``--no-worker``: in this process, same results). tests/test_engine.py
  proves it computes what the per-window functions compute;
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
3. the fast path's generator is ``np.random.default_rng(S)``; the engine
   draws a chunk of iterations from the state the previous chunk left it in,
   in the worker or not, so the run depends only on the seed and the settings.

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
                    CheckpointConfigError, TrainingDivergedError, sgd)
from q3_word2vec import (cbow, negSamplingCostAndGradient, skipgram, softmaxCostAndGradient,
                         word2vec_sgd_wrapper)
from utils.checkpoint import DEFAULT_KEEP
from utils.folder_lock import checkpoint_lock
from utils.treebank import StanfordSentiment
from utils.cli import DEBUG_ENV, UsageError, one_line_warning, run, writable_file
from utils.cost_curve import CostHistory, plot_cost_curve, print_speed_progress
from utils.glove import write_word2vec_text
from utils.neighbours import check_words, nearest_words
from w2v_engine import Objective

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
COST_SANITY = 10.0       # a default run should end at or below this smoothed cost (course: 9.6-9.8)
CHECKPOINT_DIR = DEFAULT_CHECKPOINT_DIR   # "checkpoints"
VECTORS_OUT = "q3_word_vectors.txt"
PLOT_OUT = "q3_word_vectors.png"
COST_PLOT_OUT = "q3_cost.png"

# the words the course plots
VISUALIZE_WORDS = ["the", "a", "an", ",", ".", "?", "!", "``", "''", "--",
                   "good", "great", "cool", "brilliant", "wonderful", "well", "amazing",
                   "worth", "sweet", "enjoyable", "boring", "bad", "waste", "dumb", "annoying"]

NEIGHBOUR_WORDS = ["good", "great", "bad", "boring", "the"]   # default --neighbours (plotted)
NEIGHBOURS_K = 5         # nearest words printed per word

CLASSIC_MODELS = {"skipgram": skipgram, "cbow": cbow}
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
    g.add_argument("--keep", type=int, default=DEFAULT_KEEP,
                   help="checkpoints kept in --checkpoint-dir (the newest ones; older ones are "
                        "deleted after each save)")
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
    g.add_argument("--no-plot", action="store_true",
                   help="do not write the plots (--plot-out, --cost-plot-out)")
    g.add_argument("--plot-out", default=PLOT_OUT, help="path of the 2-D plot of 25 words")
    g.add_argument("--cost-plot-out", default=COST_PLOT_OUT,
                   help="path of the plot of the cost against the iteration")
    g.add_argument("--vectors-out", default=VECTORS_OUT,
                   help="word2vec text file of the input + output vectors")
    g.add_argument("--neighbours", nargs="*", metavar="WORD", default=NEIGHBOUR_WORDS,
                   help=f"print the {NEIGHBOURS_K} nearest words (cosine similarity of the "
                        "input + output vectors) of each WORD at the end; with no WORD, none. "
                        "On a finished run this trains nothing")
    g.add_argument("--data", default=None,
                   help="SST folder (default: utils/datasets/stanfordSentimentTreebank)")
    p.add_argument("--debug", action="store_true",
                   help=f"show the Python traceback of an error (or set {DEBUG_ENV}=1)")
    args = p.parse_args(argv)
    for name in ("iterations", "dim", "context", "negatives", "batch", "save_every",
                 "print_every", "keep"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.step > 0:
        p.error(f"--step must be positive, got {args.step}")
    if not 0 <= args.seed < 2 ** 32:           # what np.random.seed accepts
        p.error(f"--seed must be in 0 .. 2**32 - 1, got {args.seed}")
    return args


def check_outputs(args):
    """Fail now, not after the training, if an output cannot be written."""
    writable_file(args.vectors_out, "--vectors-out")
    if not args.no_plot:
        writable_file(args.plot_out, "--plot-out")
        writable_file(args.cost_plot_out, "--cost-plot-out")
    # --checkpoint-dir: checkpoint_lock in main creates and checks it, before any training


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
    if not dataset.allSentences():     # subsampling keeps only sentences of 2 or more words
        raise UsageError(f"the SST folder {dataset.path} leaves no sentence of two or more words "
                         "to train on; use the full data (bash get_datasets.sh)")
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
def plot_word_vectors(path, tokens, vectors, words=VISUALIZE_WORDS):
    """Save the 2-D SVD projection of the centred vectors of `words` (those in `tokens`).

    Parameters
    ----------
    vectors : ndarray, shape (V, D)
        Input + output vectors.
    """
    from utils.plotting import plt, save_figure      # matplotlib only when a plot is drawn

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
    save_figure(fig, path, dpi=100)
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
        ``wordVectors`` ((2V, D) input rows then output rows), ``tokens``, ``V``,
        ``history`` (the `CostHistory`), ``saved`` ((iteration, path) of the final
        checkpoint, which `save_params` checked is the newest that readers will take).
    """
    t_start = time.perf_counter()
    seed_all(args.seed)
    dataset, tokens = load_dataset(args.data)
    check_words(args.neighbours, tokens)           # an unknown word fails now, not after training
    V = len(tokens)
    seed_all(args.seed)
    wordVectors = initial_vectors(V, args.dim)            # (2V, dim)
    negsample = args.loss == "negsample"
    config = {"vocab_size": V, "dim": args.dim, "context": args.context, "batch": args.batch,
              "negatives": args.negatives if negsample else None, "model": args.model,
              "loss": args.loss, "seed": args.seed,
              "path": "classic" if args.classic else "fast"}
    objective = None
    if args.classic:
        f = make_classic_f(CLASSIC_MODELS[args.model], tokens, dataset, args.context,
                           CLASSIC_LOSSES[args.loss], args.negatives, args.batch)
        generators = []
        config["sample_chunk"] = None
    else:
        objective = Objective(dataset, args.model, args.loss, args.batch, args.context,
                              args.negatives, args.dim, np.random.default_rng(args.seed),
                              worker=not args.no_worker)
        f, generators = objective, [objective.sampler]   # the sampler's state is checkpointed
        config["sample_chunk"] = objective.chunk         # fixes the random stream: must match
    startup = time.perf_counter() - t_start
    print(f"SST: {V} tokens, {dataset.numSentences()} sentences; start-up {startup:.2f} s; "
          f"training {args.model} / {args.loss}, dim {args.dim}, "
          f"{'classic per-window' if args.classic else 'batched sparse'} path", flush=True)

    history = CostHistory(f)            # every cost, saved in checkpoints (bounded memory)
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        run = sgd(history, wordVectors, args.step, args.iterations, None, True,
                  args.print_every, checkpoint_dir=args.checkpoint_dir,
                  save_every=args.save_every, smooth_every=SMOOTH_EVERY, config=config,
                  generators=generators + [history], progress=print_speed_progress,
                  fresh=args.fresh, keep=args.keep, details=True)
    finally:
        if objective is not None:
            objective.close()                      # stops and reaps the worker process
    train_time, train_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"startup": startup, "train_time": train_time, "train_cpu": train_cpu,
            "start_iteration": run.resumed_from[0] if run.resumed_from else 0,
            "iterations": args.iterations, "expcost": run.expcost, "wordVectors": run.x,
            "tokens": tokens, "V": V, "history": history, "saved": run.last_saved}


def main(argv=None):
    """Train, write the outputs; exit status 0, or 1 (error), 2 (checkpoint config), 130 (^C).

    Errors in the user's input (data, paths, checkpoints) are raised as ValueError or OSError
    and reported by ``utils.cli.run`` as one line.
    """
    args = parse_args(argv)
    check_outputs(args)
    warnings.showwarning = one_line_warning
    try:
        with checkpoint_lock(args.checkpoint_dir):     # one run per folder; freed even by kill -9
            result = train(args)
    except CheckpointConfigError as err:
        err.exit_status = 2
        raise
    except TrainingDivergedError as err:
        raise UsageError(str(err)) from err
    except KeyboardInterrupt:
        print(f"\nq3_run.py: interrupted. Run the same command again to continue from the "
              f"newest checkpoint in {args.checkpoint_dir}.", file=sys.stderr)
        return 130

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
        plot_cost_curve(args.cost_plot_out, result["history"], SMOOTH_EVERY, ANNEAL_EVERY,
                        final=result["expcost"])
        print(f"wrote {args.plot_out} and {args.cost_plot_out}")
    if args.neighbours:
        print(f"nearest words (cosine similarity of the input + output vectors, "
              f"{summed.shape[1]}-d):")
        for word, near in zip(args.neighbours, nearest_words(summed, result["tokens"],
                                                             args.neighbours, NEIGHBOURS_K)):
            print(f"  {word:>12}: " + ", ".join(f"{w} {c:.3f}" for w, c in near))
    return status


if __name__ == "__main__":
    sys.exit(run("q3_run.py", main))
