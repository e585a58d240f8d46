"""Question 3(f): train word vectors on the Stanford Sentiment Treebank.

    python q3_run.py                 # the course's run: 40,000 iterations, in seconds
    python q3_run.py --help          # every switch

The defaults are the course's (dim 10, context 5, 10 negatives, batches of
50 windows, step 0.3 halved every 20,000 iterations, skip-gram with negative
sampling). Two training paths compute the same model with ``q3_sgd.sgd``: the
default **fast path**, the training engine (``w2v_engine.Objective``: the losses
of ``q3_word2vec.py`` for a whole minibatch at once, a sparse gradient, the
windows and negative samples of many iterations drawn ahead with a
``numpy.random.Generator`` in a worker process; tests/test_engine.py proves it
computes what the per-window functions compute), and ``--classic``, the course's
per-window ``word2vec_sgd_wrapper`` (Python's ``random``, dense gradients: the
same distributions, another random stream, a few hundred times slower).

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
``--save-every`` iterations and at the last one; the same command started again
after any stop (a kill, a power cut) resumes from the newest and ends with
exactly the vectors of an uninterrupted run. Question 4 reads the final vectors
with ``q3_sgd.load_saved_params(checkpoint_dir)``. Outputs: ``q3_word_vectors.png``,
``q3_cost.png`` and ``q3_word_vectors.txt`` (word2vec text format).
"""
import argparse
import math
import random
import sys
import time
import warnings

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from q3_sgd import (ANNEAL_EVERY, DEFAULT_CHECKPOINT_DIR, SAVE_PARAMS_EVERY,
                    CheckpointConfigError, TrainingDivergedError, sgd)
from q3_word2vec import (cbow, negSamplingCostAndGradient, skipgram, softmaxCostAndGradient,
                         word2vec_sgd_wrapper)
from utils.checkpoint import DEFAULT_KEEP
from utils.cli import DEBUG_ENV, UsageError, one_line_warning, run
from utils.cost_curve import CostHistory, plot_cost_curve, print_speed_progress
from utils.folder_lock import checkpoint_lock
from utils.glove import write_word2vec_text
from utils.neighbours import check_words, nearest_words
from utils.run_checks import check_outputs, confirm_fresh
from utils.treebank import StanfordSentiment
from utils.word_plot import plot_word_vectors
from w2v_engine import Objective
from practice_kit.probe import check_engine_matches_course

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
CROWDED_DIM = 20         # neighbours of vectors this small crowd together: the output says why
TOP_SPEED = {"fast": 100_000, "classic": 1_000}   # iterations/s no machine reaches (time bound)
MAX_DAYS = 30            # --iterations that would take longer even at TOP_SPEED are refused

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
    if not (args.step > 0 and math.isfinite(args.step)):
        p.error(f"--step must be a positive number, got {args.step}")
    if not 0 <= args.seed < 2 ** 32:           # what np.random.seed accepts
        p.error(f"--seed must be in 0 .. 2**32 - 1, got {args.seed}")
    speed = TOP_SPEED["classic" if args.classic else "fast"]
    if args.iterations > MAX_DAYS * 86400 * speed:
        p.error(f"--iterations {args.iterations:,} would take at least "
                f"{args.iterations / speed / 86400:,.0f} days, even at {speed:,} iterations a "
                f"second; ask for at most {MAX_DAYS * 86400 * speed:,} ({MAX_DAYS} days)")
    return args


def check_memory(args, V):
    """Refuse settings whose memory this machine lacks, with the figure: the (2V, D) vectors
    (about three copies: x, a checkpoint being written or read, a dense gradient) and the
    arrays of one minibatch (pairs x (K + 2), or x V for the full softmax, of about D + 1)."""
    vectors = 3 * 8 * 2 * V * args.dim
    width = V if args.loss == "softmax" else args.negatives + 2
    batch = 4 * 8 * args.batch * 2 * args.context * width * (args.dim + 1)
    available = available_memory()
    if available is None or vectors + batch <= available:
        return
    culprit = ("--dim" if vectors >= batch else
               "--batch, --context" + (", --dim or --loss" if args.loss == "softmax" else
                                       ", --negatives or --dim"))
    raise UsageError(f"these settings need about {(vectors + batch) / 2**30:,.1f} GiB of memory "
                     f"(the vectors: 2 x {V:,} words x {args.dim:,} dimensions; a minibatch: "
                     f"{args.batch:,} windows of up to {2 * args.context:,} pairs), but "
                     f"{available / 2**30:,.1f} GiB is available; choose a smaller {culprit}")


def available_memory():
    """Bytes of memory available to a new process (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


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


# ---- main ------------------------------------------------------------------------
def run_settings(args):
    """The settings that make a run's checkpoints (saved in them; a resume must match)."""
    return {"dim": args.dim, "context": args.context, "batch": args.batch,
            "negatives": args.negatives if args.loss == "negsample" else None,
            "model": args.model, "loss": args.loss, "seed": args.seed,
            "path": "classic" if args.classic else "fast"}


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
    if not args.classic:        # the engine trains only in place of course functions it equals
        check_engine_matches_course(args.model, args.loss)    # else a ProbeError naming the function
    seed_all(args.seed)
    dataset, tokens = load_dataset(args.data)
    check_words(args.neighbours, tokens)           # an unknown word fails now, not after training
    V = len(tokens)
    check_memory(args, V)
    seed_all(args.seed)
    wordVectors = initial_vectors(V, args.dim)            # (2V, dim)
    config = {"vocab_size": V, **run_settings(args)}
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
    outputs = [("--vectors-out", args.vectors_out)] + ([] if args.no_plot else [
        ("--plot-out", args.plot_out), ("--cost-plot-out", args.cost_plot_out)])
    check_outputs(outputs, args.checkpoint_dir)     # before any work, as is matplotlib:
    if not args.no_plot:
        from utils.plotting import check_plotting   # (imported only when a plot is drawn)
        try:
            check_plotting()
        except Exception as err:    # whatever breaks matplotlib here: a setting, an install
            raise UsageError(f"matplotlib cannot draw the plots here ({type(err).__name__}: "
                             f"{err}); fix its configuration, or pass --no-plot") from err
    warnings.showwarning = one_line_warning
    try:
        with checkpoint_lock(args.checkpoint_dir):     # one run per folder; freed even by kill -9
            if args.fresh:
                confirm_fresh(args.checkpoint_dir, run_settings(args), args.iterations)
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
    write_outputs(args, result)
    return status


def write_outputs(args, result):
    """The vectors file, the two plots and the nearest words of --neighbours."""
    words = words_by_index(result["tokens"])
    W = result["V"]
    summed = result["wordVectors"][:W] + result["wordVectors"][W:]     # (V, D) input + output
    write_word2vec_text(args.vectors_out, words, summed)
    print(f"wrote {args.vectors_out} ({W} x {summed.shape[1]}, word2vec text format)")
    if not args.no_plot:
        plot_word_vectors(args.plot_out, result["tokens"], summed, VISUALIZE_WORDS,
                          "SST word vectors (input + output), 2-D SVD projection")
        plot_cost_curve(args.cost_plot_out, result["history"], SMOOTH_EVERY, ANNEAL_EVERY,
                        final=result["expcost"])
        print(f"wrote {args.plot_out} and {args.cost_plot_out}")
    if args.neighbours:
        D = summed.shape[1]
        print(f"nearest words (cosine similarity of the input + output vectors, {D}-d):")
        found = nearest_words(summed, result["tokens"], args.neighbours, NEIGHBOURS_K)
        for word, near in zip(args.neighbours, found):
            print(f"  {word:>12}: " + ", ".join(f"{w} {c:.3f}" for w, c in near))
        cosines = [c for near in found for _, c in near]
        if D <= CROWDED_DIM:
            print(f"  (In {D} dimensions the {W:,} words crowd together: these are at cosine "
                  f"{min(cosines):.3f} to {max(cosines):.3f}, and share where a word stands in a "
                  "sentence more than what it means. ANSWERS.md, question 3(g), says why.)")


if __name__ == "__main__":
    sys.exit(run("q3_run.py", main))
