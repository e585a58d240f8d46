"""Question 4(b): sentence sentiment with averaged word vectors and a regularization sweep.

Each SST sentence becomes the average of its words' vectors (words without a
vector are skipped); an L2-regularised softmax regression (q4_softmaxreg.py)
is trained on the train split for every value of a log-spaced grid, each to
convergence with warm starts; the value with the best dev accuracy is kept.

    python q4_sentiment.py --pretrained          # GloVe 50-d (bash get_datasets.sh)
    python q4_sentiment.py --yourvectors         # the vectors of the last python q3_run.py

Prints a table reg / train / dev / test, then ``best reg=<r> train=<x> dev=<y> test=<z>`` (in
percent). Writes q4_<mode>_reg_acc.png, _dev_conf.png and _dev_pred.txt to --out-dir, <mode> being
pretrained, yourvectors or vectors (--vectors FILE): as one set, never over another mode's.

Choices made on dev only, never on test (the measurements are in README.md):
* an intercept (an unregularised bias per class) or none: ``--intercept auto`` (default)
  sweeps both and keeps the one with the better dev accuracy;
* --yourvectors: the sum or the concatenation of the input and output vectors, the better
  on dev (``--combine`` forces one);
* words that have no vector (GloVe lacks 1,785 SST tokens) are left out of the average
  instead of being averaged in as zeros;
* features are not standardised: with the same grid it lowered dev accuracy.
"""
import argparse
import os
import sys
import time
import warnings

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
if __name__ == "__main__":
    # Small matrices ((8539, 50) @ (50, 5)): BLAS threads only add synchronisation (sweep 7-11 s
    # with 2 OpenBLAS threads, 1.7-2.0 s with 1). Set before NumPy loads it; the environment wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from q4_softmaxreg import (MAX_ABS_FEATURE, accuracy, fit_softmax_regression,  # noqa: E402
                           predict, sentence_features)
from utils.checkpoint import (DEFAULT_CHECKPOINT_DIR, list_checkpoints,  # noqa: E402
                              load_saved_params)
from utils.cli import DEBUG_ENV, UsageError, one_line_warning, run, writable_folder  # noqa: E402
from utils.data_paths import DEFAULT_GLOVE_PATH, FETCH_HINT  # noqa: E402
from utils.files import atomic_writes, output_problem  # noqa: E402
from utils.glove import check_vectors, read_word_vectors  # noqa: E402
from utils.lbfgs import REL_TOL  # noqa: E402
from utils.plotting import check_plotting, plt  # noqa: E402
from utils.treebank import StanfordSentiment  # noqa: E402

# ---- hyper-parameters -------------------------------------------------------
REGULARIZATION = np.logspace(-7, 0, 29)   # 4 values a decade, 1e-7 .. 1
INTERCEPT = False                          # sweep_regularization's default (the course's model)
INTERCEPT_CHOICES = {"auto": (False, True), "no": (False,), "yes": (True,)}   # --intercept
CLASS_NAMES = ("very negative", "negative", "neutral", "positive", "very positive")
OUTPUTS = ("reg_acc.png", "dev_conf.png", "dev_pred.txt")   # q4_<mode>_<name> in --out-dir


class SetupError(UsageError):
    """Something the run needs is missing or unusable; the message says how to fix it."""


# ---- data and word vectors ----------------------------------------------------
def _load_dataset():   # no SST: a FileNotFoundError that names `bash get_datasets.sh`
    return StanfordSentiment()


def _splits(dataset):
    """{split: [(words, class)]}; the loader's warnings (unlabelled sentences) as one line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = {"train": dataset.getTrainSentences(), "dev": dataset.getDevSentences(),
                  "test": dataset.getTestSentences()}
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    empty = [name for name, data in splits.items() if not data]
    if empty:   # nothing to train, choose or report on: a damaged datasetSplit.txt or labels
        raise SetupError(f"no labelled sentence in the {' and '.join(empty)} split(s) of "
                         f"{dataset.path}; check datasetSplit.txt and sentiment_labels.txt "
                         "there, or fetch the data again with `bash get_datasets.sh`")
    return splits


def feature_sets(args, dataset):
    """The candidate features of this run from the vectors that `args` names, simplest first:
    [(description, {split: (features (N, D), labels (N,))})], and `_splits(dataset)`. The
    vectors are read first: a bad vectors file is the first thing reported."""
    tokens = dataset.tokens()                                  # word -> index, V SST words
    if args.yourvectors and not args.vectors:
        U_in, U_out, iteration = your_vectors(tokens, args.checkpoint_dir)
        D, where = U_in.shape[1], f"checkpoint of iteration {iteration} in {args.checkpoint_dir}/"
        print(f"vectors: your q3_run.py vectors, {D}-d, {where}")
        fix = "retrain with `python q3_run.py --fresh`"           # the model's limit, as for a file
        concat = np.hstack([U_in, U_out])                          # (V, 2D): every value, first
        check_vectors(concat, tokens, lambda row: where, fix, MAX_ABS_FEATURE)
        both = {"concat": (f"your vectors, [input, output] ({2 * D}-d)", concat)}
        if args.combine != "concat":                               # the sum cannot overflow now
            both["sum"] = (f"your vectors, input + output ({D}-d)", U_in + U_out)
            check_vectors(both["sum"][1], tokens, lambda row: where, fix, MAX_ABS_FEATURE)
        candidates = [(*both[name], tokens) for name in
                      (("sum", "concat") if args.combine == "best" else (args.combine,))]
    else:
        path = args.vectors or DEFAULT_GLOVE_PATH
        known, vectors = read_word_vectors(path, vocabulary=tokens, max_abs=MAX_ABS_FEATURE,
                                           missing_hint="pass an existing file to --vectors"
                                           if args.vectors else FETCH_HINT)
        if not known:
            raise SetupError(f"{path}: none of the {len(tokens)} SST words has a vector in it; "
                             "pass a word-vector file of English words")
        D = vectors.shape[1]
        print(f"vectors: {path + ' as it is' if args.vectors else 'GloVe 6B'} ({D}-d; "
              f"{len(known)} of {len(tokens)} SST tokens have a vector; averages skip the rest)")
        candidates = [(f"{os.path.basename(path)}, {D}-d" if args.vectors else f"GloVe {D}-d",
                       vectors, known)]
    splits = _splits(dataset)
    return [(d, _featurise(splits, words, vectors)) for d, vectors, words in candidates], splits


def your_vectors(tokens, checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Input and output vectors U_in, U_out (V, D) of the final checkpoint of
    ``python q3_run.py`` in `checkpoint_dir`, and its iteration; V = len(tokens)."""
    iteration, params, state = load_saved_params(checkpoint_dir)
    if params is None:
        unusable = len(list_checkpoints(checkpoint_dir))
        raise SetupError(f"none of the {unusable} checkpoints in {checkpoint_dir}/ is usable (see "
                         "the warnings above); train again with `python q3_run.py --fresh`"
                         if unusable else f"no word-vector checkpoint in {checkpoint_dir}/; "
                         "train the vectors first with `python q3_run.py`")
    V = len(tokens)
    if params.ndim != 2 or params.shape[0] != 2 * V:
        raise SetupError(f"checkpoint {state['path']} holds parameters of shape {params.shape}, "
                         f"not (2 x {V}, D) for the SST vocabulary; retrain with "
                         "`python q3_run.py --fresh`")
    return params[:V], params[V:], iteration                              # (V, D), (V, D)


def _featurise(splits, tokens, vectors):
    """{split: (features (N, D), labels (N,))} for every split."""
    return {name: (sentence_features(tokens, vectors, [words for words, _ in data]),
                   np.array([label for _, label in data], dtype=np.int64))
            for name, data in splits.items()}


# ---- the sweep ----------------------------------------------------------------
def best_index(dev_acc, regs):
    """Index of the best dev accuracy; ties go to the largest regularization (simplest model).
    `dev_acc`, `regs`: sequences of float, same length."""
    dev_acc, regs = np.asarray(dev_acc, dtype=float), np.asarray(regs, dtype=float)
    ties = np.flatnonzero(dev_acc == dev_acc.max())
    return int(ties[np.argmax(regs[ties])])


def select_run(results):
    """Index of the sweep whose best dev accuracy is highest; ties go to the first (simplest).
    `results`: `sweep_regularization`'s, ordered from the simplest candidate."""
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
    weights_all, W = [None] * R, None
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
            "best": best, "weights": weights_all[best], "seconds": seconds}


def sweep_all(sets, args):
    """One sweep per (features, intercept) candidate; the runs, and the one chosen on dev."""
    runs = [{"label": f"{description}, {'with' if intercept else 'no'} intercept",
             "features": feats, "intercept": intercept,
             "result": sweep_regularization(feats["train"], feats["dev"], feats["test"],
                                            args.regs, intercept=intercept)}
            for description, feats in sets for intercept in INTERCEPT_CHOICES[args.intercept]]
    chosen = runs[select_run([r["result"] for r in runs])]
    if len(runs) > 1:
        print("model choice on dev (best dev accuracy over the regularization grid):")
        for candidate in runs:
            r = candidate["result"]
            print(f"  {candidate['label']:<54} dev {r['dev'][r['best']]:6.2f} % "
                  f"(reg {_fmt_reg(r['regs'][r['best']])})")
        print(f"using {chosen['label']}")
    return runs, chosen


# ---- outputs -------------------------------------------------------------------
def confusion_matrix(y, yhat, n_classes):
    """Counts (C, C): row = true class, column = predicted class. y, yhat: (N,) ints."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y), np.asarray(yhat)), 1)
    return counts


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


def plot_reg_acc(result, title):
    """Figure: train and dev accuracy against regularization (log axis), best value marked."""
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
    return fig


def plot_confusion(labels, predictions, title):
    """Figure: dev confusion matrix with class names and the count in each cell."""
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
    return fig


def output_paths(args):
    """The outputs of this run, q4_<mode>_<name> in --out-dir, checked before any work."""
    writable_folder(args.out_dir, "--out-dir")
    mode = "vectors" if args.vectors else "yourvectors" if args.yourvectors else "pretrained"
    paths = [os.path.join(args.out_dir, f"q4_{mode}_{name}") for name in OUTPUTS]
    for path in paths:
        problem = output_problem(path)
        if problem:
            raise SetupError(f"cannot write {path}: {problem}, or choose another --out-dir")
    return paths


def write_outputs(paths, chosen, dev_sentences):
    """Plot the chosen run's sweep and dev confusion matrix, list its dev predictions, and write
    the three to `paths` as one set: a failure (a full disk) leaves every previous one as it was.
    `dev_sentences`: the words of each dev sentence, in the order of the dev features."""
    result, intercept = chosen["result"], chosen["intercept"]
    X_dev, y_dev = chosen["features"]["dev"]
    dev_pred = predict(X_dev, result["weights"], intercept)
    reg_acc = plot_reg_acc(result, f"Sentiment accuracy vs regularization\n({chosen['label']})")
    confusion = plot_confusion(y_dev, dev_pred, f"Dev confusion matrix: {len(y_dev)} sentences, "
                               f"accuracy {accuracy(y_dev, dev_pred):.2f} %\n{chosen['label']}\n"
                               f"reg={_fmt_reg(result['regs'][result['best']])}")
    lines = ["True\tPredicted\tText\n"] + [f"{int(t)}\t{int(p)}\t{' '.join(words)}\n"
                                          for t, p, words in zip(y_dev, dev_pred, dev_sentences)]
    try:
        atomic_writes([(paths[0], lambda fh: reg_acc.savefig(fh, format="png", dpi=120)),
                       (paths[1], lambda fh: confusion.savefig(fh, format="png", dpi=120)),
                       (paths[2], lambda fh: fh.write("".join(lines)), False)])
    finally:
        plt.close(reg_acc)
        plt.close(confusion)


# ---- command line ---------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Classify the sentiment of SST sentences (5 classes) with averaged word "
                    "vectors and softmax regression; sweep the regularization, pick it on dev.",
        epilog="Writes q4_<mode>_reg_acc.png, q4_<mode>_dev_conf.png and q4_<mode>_dev_pred.txt "
               "to --out-dir; <mode> is pretrained, yourvectors or vectors (--vectors).")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--yourvectors", action="store_true", help="the word vectors of the "
                       "last `python q3_run.py` (its final checkpoint)")
    which.add_argument("--pretrained", action="store_true", help="GloVe 6B 50-d vectors "
                       "(utils/datasets/glove.6B.50d.txt, from `bash get_datasets.sh`)")
    parser.add_argument("--vectors", metavar="PATH", help="use this word2vec/GloVe text file as "
                        "it is (header line 'V D' optional), alone or instead of the above")
    parser.add_argument("--regs", metavar="REG", type=float, nargs="+", help="regularization "
                        "values to try (default: 29 values, 1e-7 .. 1, log-spaced)")
    parser.add_argument("--out-dir", default=".", metavar="DIR",
                        help="folder for the plots and predictions (default: the current folder)")
    parser.add_argument("--checkpoint-dir", default=DEFAULT_CHECKPOINT_DIR, metavar="DIR", help=
                        "with --yourvectors: q3_run.py's checkpoint folder (default: %(default)s)")
    parser.add_argument("--combine", choices=("best", "sum", "concat"), default="best",
                        help="with --yourvectors: sum or concatenate the input and output "
                             "vectors; 'best' (default) tries both and keeps the better on dev")
    parser.add_argument("--intercept", choices=tuple(INTERCEPT_CHOICES), default="auto",
                        help="learn an unregularised bias per class: 'auto' (default) trains "
                             "both kinds and keeps the better on dev")
    parser.add_argument("--debug", action="store_true",
                        help=f"show the Python traceback of an error (or set {DEBUG_ENV}=1)")
    args = parser.parse_args(argv)
    if not (args.yourvectors or args.pretrained or args.vectors):
        parser.error("one of --yourvectors, --pretrained or --vectors PATH is required")
    args.regs = REGULARIZATION if args.regs is None else np.asarray(args.regs, dtype=float)
    if not np.all(np.isfinite(args.regs)) or np.any(args.regs < 0):
        parser.error("--regs: every value must be a finite number >= 0")
    if args.combine != "best" and not args.yourvectors:
        parser.error("--combine only applies to --yourvectors")
    if args.vectors and args.combine != "best":
        parser.error("--combine does not apply to --vectors (the file is used as it is)")
    return args


def main(argv=None):
    args = parse_args(argv)
    warnings.showwarning = one_line_warning         # a skipped checkpoint: one line, no source
    paths = output_paths(args)                      # before the work, not after it
    check_plotting()                                # a matplotlib that cannot draw fails now
    sets, splits = feature_sets(args, _load_dataset())
    print(f"sentences: train {len(splits['train'])}, dev {len(splits['dev'])}, "
          f"test {len(splits['test'])}; {len(args.regs)} regularization values")
    runs, chosen = sweep_all(sets, args)
    write_outputs(paths, chosen, [words for words, _ in splits["dev"]])
    print()
    print_table(chosen["result"])
    n_models = sum(len(r["result"]["regs"]) for r in runs)
    n_iters = sum(int(r["result"]["iterations"].sum()) for r in runs)
    seconds = sum(r["result"]["seconds"] for r in runs)
    print(f"trained {n_models} models to convergence (relative change of the objective "
          f"< {REL_TOL:g}): {n_iters} L-BFGS iterations, {seconds:.2f} s; wrote "
          f"{', '.join(os.path.basename(p) for p in paths)} to {args.out_dir}")
    print(best_line(chosen["result"]))
    return 0


if __name__ == "__main__":
    sys.exit(run("q4_sentiment.py", main))
