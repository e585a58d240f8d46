"""Question 4(b): sentence sentiment with averaged word vectors and a regularization sweep.

Each SST sentence becomes the average of its words' vectors (words without a
vector are skipped); an L2-regularised softmax regression (q4_softmaxreg.py)
is trained on the train split for every value of a log-spaced grid, each to
convergence with warm starts; the value with the best dev accuracy is kept.

    python q4_sentiment.py --pretrained          # GloVe 50-d (bash get_datasets.sh)
    python q4_sentiment.py --yourvectors         # the vectors of the last python q3_run.py

Prints a table reg / train / dev / test and, as the last line,
``best reg=<r> train=<x> dev=<y> test=<z>`` (accuracies in percent), and
writes q4_reg_acc.png, q4_dev_conf.png and q4_dev_pred.txt to --out-dir.

Choices made on dev only, never on test (the measurements are in README.md):
* an intercept (an unregularised bias per class) or none: ``--intercept auto``
  (default) sweeps both and keeps the one with the better dev accuracy;
* --yourvectors: the sum or the concatenation of the input and output
  vectors, the better on dev (``--combine`` forces one);
* words that have no vector (GloVe lacks 1,785 SST tokens) are left out of
  the average instead of being averaged in as zeros;
* features are not standardised: with the same grid it lowered dev accuracy.
"""
import argparse
import os
import sys
import time
import warnings

if __name__ == "__main__":
    # The matrices here are small ((8539, 50) @ (50, 5)): BLAS threads only add synchronisation.
    # Measured on a busy 2-core machine: sweep 7-11 s with 2 OpenBLAS threads, 1.7-2.0 s with 1.
    # Must be set before NumPy loads OpenBLAS; an explicit setting in the environment wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from utils import cli  # noqa: E402
from utils.cli import DEBUG_ENV, UsageError, one_line_warning, writable_folder  # noqa: E402
from utils.checkpoint import DEFAULT_CHECKPOINT_DIR  # noqa: E402  (q3_run.py's --checkpoint-dir default)
from utils.glove import read_word_vectors  # noqa: E402
from utils.lbfgs import REL_TOL  # noqa: E402
from q4_softmaxreg import accuracy, fit_softmax_regression, predict, sentence_features  # noqa: E402

# ---- hyper-parameters -------------------------------------------------------
REGULARIZATION = np.logspace(-7, 0, 29)   # 4 values a decade, 1e-7 .. 1
INTERCEPT = False                          # sweep_regularization's default (the course's model)
INTERCEPT_CHOICES = {"auto": (False, True), "no": (False,), "yes": (True,)}   # --intercept
CLASS_NAMES = ("very negative", "negative", "neutral", "positive", "very positive")
OUTPUT_FILES = ("q4_reg_acc.png", "q4_dev_conf.png", "q4_dev_pred.txt")


class SetupError(UsageError):
    """Something the run needs is missing or unusable; the message says how to fix it."""


# ---- word vectors -----------------------------------------------------------
def glove_vectors(tokens, filepath=None):
    """GloVe vectors of the SST vocabulary, keeping only the words GloVe has.

    Parameters
    ----------
    tokens : dict
        word -> index, the SST vocabulary.
    filepath : str, optional
        GloVe text file; utils/glove.py's default (utils/datasets/glove.6B.50d.txt) if None.

    Returns
    -------
    known : dict
        word -> row of `vectors`, only for words with a GloVe vector.
    vectors : ndarray, shape (len(tokens), 50)
    """
    from utils.glove import DEFAULT_GLOVE_PATH, loadWordVectors
    filepath = DEFAULT_GLOVE_PATH if filepath is None else filepath
    if not os.path.isfile(filepath):
        raise SetupError(f"GloVe file {filepath} not found; create it with `bash get_datasets.sh`")
    vectors = loadWordVectors(tokens, filepath)               # (V, 50), zero rows if missing
    has_vector = np.any(vectors != 0, axis=1)                          # (V,)
    known = {w: i for w, i in tokens.items() if has_vector[i]}
    return known, vectors


def your_vectors(tokens, checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Input and output vectors of the final checkpoint of ``python q3_run.py``.

    Parameters
    ----------
    tokens : dict
        word -> index, the SST vocabulary the vectors were trained on (V words).
    checkpoint_dir : str

    Returns
    -------
    U_in, U_out : ndarray, shape (V, D) each
    iteration : int
        The checkpoint's iteration.
    """
    from utils.checkpoint import list_checkpoints, load_saved_params
    iteration, params, state = load_saved_params(checkpoint_dir)
    unusable = list_checkpoints(checkpoint_dir) if params is None else []
    if unusable:
        raise SetupError(f"none of the {len(unusable)} checkpoints in "
                         f"{checkpoint_dir}/ is usable (see the warnings above); train again "
                         "with `python q3_run.py --fresh`")
    if params is None:
        raise SetupError(f"no word-vector checkpoint in {checkpoint_dir}/; "
                         "train the vectors first with `python q3_run.py`")
    V = len(tokens)
    if params.ndim != 2 or params.shape[0] != 2 * V:
        raise SetupError(f"checkpoint {state['path']} holds parameters of shape {params.shape}, "
                         f"not (2 x {V}, D) for the SST vocabulary; retrain with "
                         "`python q3_run.py --fresh`")
    return params[:V], params[V:], iteration                              # (V, D), (V, D)


# ---- the sweep ----------------------------------------------------------------
def best_index(dev_acc, regs):
    """Index of the best dev accuracy; ties go to the largest regularization (simplest model).

    Parameters
    ----------
    dev_acc, regs : sequences of float, same length
    """
    dev_acc, regs = np.asarray(dev_acc, dtype=float), np.asarray(regs, dtype=float)
    ties = np.flatnonzero(dev_acc == dev_acc.max())
    return int(ties[np.argmax(regs[ties])])


def select_run(results):
    """Index of the sweep whose best dev accuracy is highest; ties go to the first (simplest).

    Parameters
    ----------
    results : list of dict
        As returned by `sweep_regularization`, ordered from the simplest candidate.
    """
    best_dev = [r["dev"][r["best"]] for r in results]
    return int(np.argmax(best_dev))   # argmax returns the first of equal values


def sweep_regularization(train, dev, test, regs, intercept=INTERCEPT, rel_tol=REL_TOL,
                         n_classes=len(CLASS_NAMES)):
    """Train one model per regularization value, to convergence, and score it.

    Models are trained from the largest value to the smallest, each starting
    from the previous solution (a warm start: neighbouring optima are close).

    Parameters
    ----------
    train, dev, test : tuple (features (N_s, D), labels (N_s,))
        `test` may be None.
    regs : sequence of float, length R
    intercept : bool
    rel_tol : float
        Convergence threshold on the relative change of the objective.
    n_classes : int
        C; raised to 1 + the largest label if that is larger.

    Returns
    -------
    result : dict
        ``regs`` (R,), ``train``/``dev``/``test`` accuracies (R,) in percent
        (test NaN without a test set), ``cost`` (R,) final objective,
        ``iterations`` (R,), ``converged`` (R,) bool, ``best`` (index),
        ``weights`` (the best model's, (D [+ 1], C)), ``seconds``.
    """
    regs = np.asarray(regs, dtype=float)
    X_train, y_train = train
    n_classes = max(n_classes, int(max(np.max(y_train), np.max(dev[1]))) + 1)
    R = len(regs)
    acc = {name: np.full(R, np.nan) for name in ("train", "dev", "test")}
    cost, iterations, converged = np.zeros(R), np.zeros(R, dtype=int), np.zeros(R, dtype=bool)
    weights_all = [None] * R
    W = None
    start = time.perf_counter()
    for i in np.argsort(-regs, kind="stable"):          # large -> small reg, warm starts
        W, info = fit_softmax_regression(X_train, y_train, regs[i], n_classes=n_classes,
                                         intercept=intercept, weights0=W, rel_tol=rel_tol)
        if not info["converged"]:   # e.g. reg = 0 on separable data: J has no minimum
            print(f"warning: reg={_fmt_reg(regs[i])}: stopped before convergence "
                  f"({info['reason']}, {info['iterations']} iterations)", file=sys.stderr)
        cost[i], iterations[i], weights_all[i] = info["cost"], info["iterations"], W
        converged[i] = info["converged"]
        for name, split in (("train", train), ("dev", dev), ("test", test)):
            if split is not None:
                acc[name][i] = accuracy(split[1], predict(split[0], W, intercept))
    seconds = time.perf_counter() - start
    best = best_index(acc["dev"], regs)
    return {"regs": regs, **acc, "cost": cost, "iterations": iterations, "converged": converged,
            "best": best,
            "weights": weights_all[best], "seconds": seconds}


def confusion_matrix(y, yhat, n_classes):
    """Counts (C, C): row = true class, column = predicted class. y, yhat: (N,) ints."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y), np.asarray(yhat)), 1)
    return counts


# ---- outputs -------------------------------------------------------------------
def _fmt_reg(r):
    return f"{r:.2e}"


def print_table(result, out=None):
    """The reg / train / dev / test table, one row per value, best row marked with '*'."""
    out = sys.stdout if out is None else out
    print(f"{'reg':>10} {'train':>7} {'dev':>7} {'test':>7}", file=out)
    for i, r in enumerate(result["regs"]):
        mark = "  *" if i == result["best"] else ""
        print(f"{_fmt_reg(r):>10} {result['train'][i]:7.2f} {result['dev'][i]:7.2f} "
              f"{result['test'][i]:7.2f}{mark}", file=out)


def best_line(result):
    """``best reg=<r> train=<x> dev=<y> test=<z>``."""
    b = result["best"]
    return (f"best reg={_fmt_reg(result['regs'][b])} train={result['train'][b]:.2f} "
            f"dev={result['dev'][b]:.2f} test={result['test'][b]:.2f}")


def write_predictions(path, labels, predictions, sentences):
    """q4_dev_pred.txt: header ``True\\tPredicted\\tText``, then one line per sentence (atomic)."""
    from utils.files import atomic_write
    lines = ["True\tPredicted\tText\n"]
    lines += [f"{int(t)}\t{int(p)}\t{' '.join(words)}\n"
              for t, p, words in zip(labels, predictions, sentences)]
    atomic_write(path, lambda fh: fh.write("".join(lines)), binary=False)


def plot_reg_acc(path, result, title):
    """Train and dev accuracy against regularization (log axis), best value marked."""
    from utils.plotting import plt, save_figure
    regs, b = result["regs"], result["best"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(regs, result["train"], "o-", ms=4, label="train")
    ax.plot(regs, result["dev"], "s-", ms=4, label="dev")
    ax.axvline(regs[b], color="grey", ls="--", lw=1)
    ax.plot([regs[b]], [result["dev"][b]], "*", color="red", ms=14,
            label=f"best on dev: reg={_fmt_reg(regs[b])}, dev {result['dev'][b]:.2f} %")
    if np.any(regs <= 0):   # a log axis cannot show 0: linear near 0, log beyond
        ax.set_xscale("symlog", linthresh=float(np.min(regs[regs > 0], initial=1e-6)))
    else:
        ax.set_xscale("log")
    ax.set_xlabel("regularization (reg in 0.5 · reg · ||W||²)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def plot_confusion(path, labels, predictions, title):
    """Dev confusion matrix with class names and the count in each cell."""
    from utils.plotting import plt, save_figure
    C = len(CLASS_NAMES)
    counts = confusion_matrix(labels, predictions, C)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(counts, cmap="Blues")
    fig.colorbar(im, ax=ax, label="sentences")
    ticks = np.arange(C)
    ax.set_xticks(ticks, [n.replace(" ", "\n") for n in CLASS_NAMES])
    ax.set_yticks(ticks, CLASS_NAMES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = counts.max() / 2
    for t in range(C):
        for p in range(C):
            ax.text(p, t, str(counts[t, p]), ha="center", va="center",
                    color="white" if counts[t, p] > threshold else "black")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


# ---- command line ---------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Classify the sentiment of SST sentences (5 classes) with averaged word "
                    "vectors and softmax regression; sweep the regularization, pick it on dev.",
        epilog="Writes q4_reg_acc.png, q4_dev_conf.png and q4_dev_pred.txt to --out-dir.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--yourvectors", action="store_true",
                       help="the word vectors of the last `python q3_run.py` (its final "
                            "checkpoint)")
    which.add_argument("--pretrained", action="store_true",
                       help="GloVe 6B 50-d vectors (utils/datasets/glove.6B.50d.txt, from "
                            "`bash get_datasets.sh`)")
    parser.add_argument("--vectors", metavar="PATH",
                        help="use this word2vec/GloVe text file as it is instead (header line "
                             "'V D' optional)")
    parser.add_argument("--regs", metavar="REG", type=float, nargs="+",
                        help="regularization values to try (default: 29 values, 1e-7 .. 1, "
                             "log-spaced)")
    parser.add_argument("--out-dir", default=".", metavar="DIR",
                        help="folder for the plots and predictions (default: current folder)")
    parser.add_argument("--checkpoint-dir", default=DEFAULT_CHECKPOINT_DIR, metavar="DIR",
                        help="with --yourvectors: q3_run.py's checkpoint folder (default: "
                             "%(default)s)")
    parser.add_argument("--combine", choices=("best", "sum", "concat"), default="best",
                        help="with --yourvectors: sum or concatenate the input and output "
                             "vectors; 'best' (default) tries both and keeps the better on dev")
    parser.add_argument("--intercept", choices=tuple(INTERCEPT_CHOICES), default="auto",
                        help="learn an unregularised bias per class: 'auto' (default) trains "
                             "both kinds and keeps the better on dev")
    parser.add_argument("--debug", action="store_true",
                        help=f"show the Python traceback of an error (or set {DEBUG_ENV}=1)")
    args = parser.parse_args(argv)
    regs = REGULARIZATION if args.regs is None else np.asarray(args.regs, dtype=float)
    if not np.all(np.isfinite(regs)) or np.any(regs < 0):
        parser.error("--regs: every value must be a finite number >= 0")
    args.regs = regs
    if args.combine != "best" and not args.yourvectors:
        parser.error("--combine only applies to --yourvectors")
    if args.vectors and args.combine != "best":
        parser.error("--combine does not apply to --vectors (the file is used as it is)")
    return args


def _load_dataset():
    from utils.treebank import StanfordSentiment
    try:
        return StanfordSentiment()
    except FileNotFoundError as err:
        raise SetupError(str(err).splitlines()[0] if "get_datasets" in str(err) else
                         f"the SST data cannot be read ({err}); fetch it with "
                         "`bash get_datasets.sh`") from None


def _splits(dataset):
    """{split: [(words, class)]}; the loader's warnings (unlabelled sentences) as one line each."""
    from utils.treebank import DatasetFormatError
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            splits = {"train": dataset.getTrainSentences(), "dev": dataset.getDevSentences(),
                      "test": dataset.getTestSentences()}
        except (FileNotFoundError, DatasetFormatError) as err:
            raise SetupError(str(err).splitlines()[0]) from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    empty = [name for name, data in splits.items() if not data]
    if empty:   # nothing to train, choose or report on: a damaged datasetSplit.txt or labels
        raise SetupError(f"no labelled sentence in the {' and '.join(empty)} split(s) of "
                         f"{dataset.path}; check datasetSplit.txt and sentiment_labels.txt "
                         "there, or fetch the data again with `bash get_datasets.sh`")
    return splits


def _featurise(splits, tokens, vectors):
    """{split: (features (N, D), labels (N,))} for every split."""
    return {name: (sentence_features(tokens, vectors, [words for words, _ in data]),
                   np.array([label for _, label in data], dtype=np.int64))
            for name, data in splits.items()}


def main(argv=None):
    args = parse_args(argv)
    warnings.showwarning = one_line_warning         # a skipped checkpoint: one line, no source
    writable_folder(args.out_dir, "--out-dir")      # before the work, not after it
    # Check the vector source before the (slower) SST load, so a missing file fails at once.
    if args.vectors and not os.path.isfile(args.vectors):
        raise SetupError(f"word-vector file {args.vectors} not found; pass an existing file "
                         "to --vectors")
    if args.pretrained and not args.vectors:
        from utils.glove import DEFAULT_GLOVE_PATH
        if not os.path.isfile(DEFAULT_GLOVE_PATH):
            raise SetupError(f"GloVe file {DEFAULT_GLOVE_PATH} not found; create it with "
                             "`bash get_datasets.sh`")
    if args.yourvectors and not args.vectors:
        from utils.checkpoint import list_checkpoints
        if not list_checkpoints(args.checkpoint_dir):
            raise SetupError(f"no word-vector checkpoint in {args.checkpoint_dir}/; train the "
                             "vectors first with `python q3_run.py`")

    dataset = _load_dataset()
    tokens = dataset.tokens()
    splits = _splits(dataset)
    feature_sets = {}   # name -> (description, features by split)
    if args.vectors:
        file_tokens, vectors = read_word_vectors(args.vectors, vocabulary=tokens.keys())
        if not file_tokens:
            raise SetupError(f"{args.vectors}: none of the {len(tokens)} SST words has a vector "
                             "in it; pass a word-vector file of English words")
        print(f"vectors: {args.vectors} as it is ({vectors.shape[1]}-d; "
              f"{len(file_tokens)} of {len(tokens)} SST tokens have a vector)")
        feature_sets["file"] = (f"{os.path.basename(args.vectors)}, {vectors.shape[1]}-d",
                                _featurise(splits, file_tokens, vectors))
    elif args.pretrained:
        known, vectors = glove_vectors(tokens)
        print(f"vectors: GloVe 6B 50-d ({len(known)} of {len(tokens)} SST tokens have a vector; "
              "the others are left out of the averages)")
        feature_sets["glove"] = ("GloVe 50-d", _featurise(splits, known, vectors))
    else:
        U_in, U_out, iteration = your_vectors(tokens, args.checkpoint_dir)
        D = U_in.shape[1]
        print(f"vectors: your q3_run.py vectors, {D}-d, checkpoint of iteration {iteration} "
              f"in {args.checkpoint_dir}/")
        if args.combine in ("best", "sum"):
            feature_sets["sum"] = (f"your vectors, input + output ({D}-d)",
                                   _featurise(splits, tokens, U_in + U_out))
        if args.combine in ("best", "concat"):
            feature_sets["concat"] = (f"your vectors, [input, output] ({2 * D}-d)",
                                      _featurise(splits, tokens, np.hstack([U_in, U_out])))
    print(f"sentences: train {len(splits['train'])}, dev {len(splits['dev'])}, "
          f"test {len(splits['test'])}; {len(args.regs)} regularization values")

    runs = []   # one sweep per (features, intercept) candidate
    for name, (description, feats) in feature_sets.items():
        for intercept in INTERCEPT_CHOICES[args.intercept]:
            result = sweep_regularization(feats["train"], feats["dev"], feats["test"], args.regs,
                                          intercept=intercept)
            label = f"{description}, {'with' if intercept else 'no'} intercept"
            runs.append({"label": label, "features": feats, "intercept": intercept,
                         "result": result})
    chosen = runs[select_run([r["result"] for r in runs])]
    if len(runs) > 1:
        print("model choice on dev (best dev accuracy over the regularization grid):")
        for run in runs:
            r = run["result"]
            print(f"  {run['label']:<54} dev {r['dev'][r['best']]:6.2f} % "
                  f"(reg {_fmt_reg(r['regs'][r['best']])})")
        print(f"using {chosen['label']}")

    result, intercept = chosen["result"], chosen["intercept"]
    X_dev, y_dev = chosen["features"]["dev"]
    dev_pred = predict(X_dev, result["weights"], intercept)
    plot_reg_acc(os.path.join(args.out_dir, OUTPUT_FILES[0]), result,
                 f"Sentiment accuracy vs regularization\n({chosen['label']})")
    plot_confusion(os.path.join(args.out_dir, OUTPUT_FILES[1]), y_dev, dev_pred,
                   f"Dev confusion matrix: {len(y_dev)} sentences, accuracy "
                   f"{accuracy(y_dev, dev_pred):.2f} %\n{chosen['label']}\n"
                   f"reg={_fmt_reg(result['regs'][result['best']])}")
    write_predictions(os.path.join(args.out_dir, OUTPUT_FILES[2]), y_dev, dev_pred,
                      [words for words, _ in splits["dev"]])

    print()
    print_table(result)
    n_models = sum(len(run["result"]["regs"]) for run in runs)
    n_iters = sum(int(run["result"]["iterations"].sum()) for run in runs)
    seconds = sum(run["result"]["seconds"] for run in runs)
    print(f"trained {n_models} models to convergence (relative change of the objective "
          f"< {REL_TOL:g}): {n_iters} L-BFGS iterations, {seconds:.2f} s; "
          f"wrote {', '.join(OUTPUT_FILES)} to {args.out_dir}")
    print(best_line(result))
    return 0

if __name__ == "__main__":
    sys.exit(cli.run("q4_sentiment.py", main))
