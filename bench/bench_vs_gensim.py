"""Side by side with gensim: the default q3_run.py training against gensim's Word2Vec.

    python -m venv ../gensim-venv
    ../gensim-venv/bin/pip install -r requirements.txt gensim
    ../gensim-venv/bin/python bench/bench_vs_gensim.py         # 1-2 minutes

gensim is not a project dependency: install it in a separate environment as
above (from the repository root). Run with a Python that lacks gensim, the
script prints how to install it and exits with status 0 (a skip, not a
failure).

In one process, one after the other:

1. the SST loader builds the corpus the project trains on (``allSentences()``
   of ``q3_run.load_dataset``, with the default seed), outside the timings;
2. the project's default run, ``q3_run.train`` with the course's settings
   (40,000 iterations x 50 windows = 2,000,000 centre words, its sampling
   worker process, checkpoints in a temporary folder);
3. gensim ``Word2Vec`` with matching settings on the same sentences, with
   ``workers=1`` and then ``workers=2``, on about the same number of centre
   words (a prefix of the corpus for a whole number of epochs, see
   `plan_gensim_corpus`);
4. question 4's sweep (``q4_sentiment``'s functions, same grid, choices made on
   dev) on the project's vectors, as ``q4_sentiment.py --yourvectors`` makes
   it, and on gensim's (``workers=1`` run): its input vectors ``wv`` (10-d) and
   ``[wv, syn1neg]`` (20-d, like the project's concatenation).

It prints centre words per second of the training alone (loading excluded),
the CPU time of all processes and threads involved, and the ``best reg=...``
line of each sweep, then both tables in Markdown for the README.

Settings that match: skip-gram (``sg=1``), negative sampling with 10
negatives (``negative=10``, ``hs=0``) from the unigram count ** 0.75 of the
same counts (gensim's vocabulary is built from the loader's token counts, UNK
included, so both draw from the same noise distribution over the same 19,539
words), ``window=5`` shrunk per centre word (gensim's ``shrink_windows`` draws
the reduction uniformly in 0..4, the same as the project's C1 = randint(1, 5)),
``vector_size=10``, ``min_count=1``, ``sample=0`` (the loader's
``allSentences()`` is already subsampled: 30 copies of every sentence with
frequent words dropped; subsampling it again would drop far more words), the
same seed for both.

Settings that cannot match, and what is used instead:

* learning rate: the project takes steps of 0.3 on the mean gradient of 50
  windows, halved after 20,000 iterations, i.e. 0.006 per window, then 0.003;
  gensim decays linearly per word from ``alpha`` to ``min_alpha``. We use
  ``alpha=0.006``, ``min_alpha=0.003``: the same first and last rate and the
  same mean rate (``--alpha``/``--min-alpha`` change them, e.g. gensim's
  defaults 0.025 and 0.0001);
* which centre words: the project draws each window at random (a uniform
  sentence, then a uniform position in it); gensim passes over the sentences
  in order, every word a centre once per epoch;
* contexts: the project leaves other occurrences of the centre word out of
  its context, gensim only the centre position; the project redraws a
  negative sample equal to the target, gensim skips it;
* updates: the project applies the mean gradient of 50 windows at once,
  gensim updates after every (centre, context) pair; the project also
  computes its cost every iteration (for the smoothed cost it prints), gensim
  does not (``compute_loss=False``, its default);
* initial input vectors: uniform in +-0.5/dim (the course's) against gensim's
  +-1/dim; output vectors start at zero in both.

Timings on a shared machine vary from run to run; both are measured in the
same process, one after the other, so their ratio is the number to trust.
"""
import argparse
import importlib
import math
import os
import resource
import sys
import tempfile
import time

if __name__ == "__main__":
    # The q4 sweeps multiply small matrices, where BLAS threads only add synchronisation; this
    # is what q4_sentiment.py sets when run, so the sweeps here give its numbers. It must be set
    # before NumPy loads OpenBLAS (and only when run: an import, e.g. by the tests, must not
    # change the environment). Training is unaffected: the engine's and gensim's products are
    # far below the sizes where OpenBLAS starts threads (measured: the same time either way).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import q3_run  # noqa: E402
import q4_sentiment as q4  # noqa: E402
from utils.treebank import N_COPIES, SUBSAMPLE_RATE, TABLE_POWER  # noqa: E402

# ---- settings ---------------------------------------------------------------------------
# Centre words of the project's default run: one per window, BATCH windows per iteration.
CENTRE_WORDS = q3_run.ITERATIONS * q3_run.BATCH          # 40,000 x 50 = 2,000,000
GENSIM_WORKERS = (1, 2)        # gensim's worker threads, one run each; q4 uses the first run's
                               # vectors (with 1 worker gensim is deterministic for a seed)
# The project's per-window step is STEP / BATCH (the gradient is a mean over the batch), halved
# once half-way; gensim decays linearly, so it gets the same start, end and mean.
GENSIM_ALPHA = q3_run.STEP / q3_run.BATCH                # 0.006
GENSIM_MIN_ALPHA = GENSIM_ALPHA / 2                       # 0.003
GENSIM_SETTINGS = {             # gensim.models.Word2Vec keywords that match q3_run's defaults
    "sg": 1,                    # skip-gram
    "hs": 0,                    # negative sampling only, no hierarchical softmax
    "negative": q3_run.NEGATIVES,
    "ns_exponent": TABLE_POWER,  # noise distribution: count ** 0.75
    "window": q3_run.CONTEXT,
    "shrink_windows": True,     # per centre word, window uniform in 1..5, as C1 = randint(1, 5)
    "vector_size": q3_run.DIM,
    "min_count": 1,             # keep the whole vocabulary, as the project does
    "sample": 0,                # allSentences() is already subsampled by the loader
    "seed": q3_run.SEED,
}
INSTALL_HINT = ("python -m venv ../gensim-venv && ../gensim-venv/bin/pip install -r "
                "requirements.txt gensim && ../gensim-venv/bin/python bench/bench_vs_gensim.py")
SKIP_MESSAGE = ("bench_vs_gensim: SKIPPED: gensim is not installed in this Python ({python}).\n"
                "gensim is not a project dependency: install it in a separate environment and "
                "run the\nbenchmark there, from the repository root:\n"
                f"    {INSTALL_HINT}")


# ---- helpers ----------------------------------------------------------------------------
def import_gensim():
    """Return the gensim module, or None when it is not installed."""
    try:
        return importlib.import_module("gensim")
    except ImportError:
        return None


def plan_gensim_corpus(sentence_lengths, target_words):
    """Choose a prefix of the corpus and a number of epochs giving about `target_words` words.

    With ``sample=0`` and every word in the vocabulary, gensim makes every word of
    every sentence a centre word once per epoch, so it processes ``epochs * words``.
    The epochs are the fewest whose passes over the whole corpus reach the target;
    each pass then covers the prefix of whole sentences whose length is nearest to
    ``target_words / epochs`` (ties: the shorter prefix).

    Parameters
    ----------
    sentence_lengths : sequence of int, length S
        Words in each sentence of the corpus, in corpus order (all >= 1).
    target_words : int
        Centre words wanted in total (>= 1).

    Returns
    -------
    n_sentences : int
        Sentences of the prefix gensim trains on (1 .. S).
    epochs : int
    words_per_epoch : int
        Words in the prefix; gensim processes ``epochs * words_per_epoch``.

    Examples
    --------
    Lengths 2, 3, 4, 5 (14 words) and a target of 20: 2 epochs of about 10 words;
    the prefixes have 2, 5, 9, 14 words, 9 is nearest: 3 sentences, 18 words in all.

    >>> plan_gensim_corpus([2, 3, 4, 5], 20)
    (3, 2, 9)
    """
    lengths = np.asarray(sentence_lengths, dtype=np.int64)
    if lengths.size == 0 or np.any(lengths < 1):
        raise ValueError("plan_gensim_corpus: the corpus needs sentences of at least one word")
    if target_words < 1:
        raise ValueError(f"plan_gensim_corpus: target_words must be >= 1, got {target_words}")
    cumulative = np.cumsum(lengths)                          # (S,) words in each prefix
    epochs = max(1, math.ceil(target_words / int(cumulative[-1])))
    per_epoch = target_words / epochs
    n = int(np.argmin(np.abs(cumulative - per_epoch))) + 1   # argmin: first (shorter) of ties
    return n, epochs, int(cumulative[n - 1])


def centre_words_per_second(words, seconds):
    """Training speed; inf for a zero time (a clock too coarse for a tiny run)."""
    return words / seconds if seconds > 0 else float("inf")


def children_cpu():
    """CPU seconds (user + system) of this process's finished, reaped child processes."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def in_token_order(keyed_rows, key_to_index, words):
    """Rows of a gensim matrix rearranged into the project's token order, as float64.

    Parameters
    ----------
    keyed_rows : ndarray, shape (V, D)
        gensim's rows, in the order of `key_to_index`.
    key_to_index : dict of str -> int
    words : list of str, length V
        The project's words in token-index order.

    Returns
    -------
    vectors : ndarray of float64, shape (V, D)
        Row i is the vector of ``words[i]``.
    """
    rows = np.fromiter((key_to_index[w] for w in words), dtype=np.int64, count=len(words))
    return np.asarray(keyed_rows, dtype=np.float64)[rows]


# ---- the runs ---------------------------------------------------------------------------
def run_project(iterations):
    """The default q3_run.py training (fresh, in a temporary folder); its timings and vectors.

    Returns
    -------
    summary : dict
        ``q3_run.train``'s summary plus ``centre_words`` and ``cpu`` (s, the training
        process and its sampling worker).
    """
    with tempfile.TemporaryDirectory() as ck:
        args = q3_run.parse_args(["--checkpoint-dir", ck, "--fresh", "--no-plot",
                                  "--iterations", str(iterations), "--print-every", "10000",
                                  "--vectors-out", os.path.join(ck, "vectors.txt")])
        children0 = children_cpu()
        summary = q3_run.train(args)
        # The worker is forked and reaped inside train(): its CPU time is in RUSAGE_CHILDREN.
        summary["cpu"] = summary["train_cpu"] + children_cpu() - children0
    summary["centre_words"] = iterations * args.batch
    return summary


def run_gensim(gensim, corpus, tokenfreq, epochs, workers, alpha, min_alpha):
    """Train gensim's Word2Vec on `corpus`; return the model and what was processed, timed.

    The vocabulary comes from the loader's counts (``build_vocab_from_freq``), not from
    the corpus, so the noise distribution is the project's; only ``train`` is timed.

    Returns
    -------
    model : gensim.models.Word2Vec
    summary : dict
        ``centre_words`` (gensim's count of trained words), ``raw_words``, ``seconds``,
        ``cpu`` (s, all threads of this process).
    """
    model = gensim.models.Word2Vec(workers=workers, alpha=alpha, min_alpha=min_alpha,
                                   epochs=epochs, **GENSIM_SETTINGS)
    model.build_vocab_from_freq(dict(tokenfreq), corpus_count=len(corpus))
    t0, cpu0 = time.perf_counter(), time.process_time()
    trained, raw = model.train(corpus, total_examples=len(corpus), epochs=epochs)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return model, {"centre_words": trained, "raw_words": raw, "seconds": seconds, "cpu": cpu}


def q4_sweeps(splits, tokens, candidates, regs):
    """Question 4's model choice on dev, as ``q4_sentiment.main`` makes it.

    Parameters
    ----------
    splits : dict
        ``q4_sentiment._splits(dataset)``.
    tokens : dict of str -> int
        word -> row of every candidate's vectors.
    candidates : list of (str, ndarray of shape (V, D))
        Description and vectors, simplest first (ties go to the first).
    regs : ndarray
        The regularization grid.

    Returns
    -------
    runs : list of dict
        One per (candidate, intercept): ``label``, ``description``, ``result``
        (``q4_sentiment.sweep_regularization``'s).
    chosen : int
        Index in `runs` of the best dev accuracy (``q4_sentiment.select_run``).
    """
    runs = []
    for description, vectors in candidates:
        feats = q4._featurise(splits, tokens, vectors)
        for intercept in q4.INTERCEPT_CHOICES["auto"]:
            result = q4.sweep_regularization(feats["train"], feats["dev"], feats["test"], regs,
                                             intercept=intercept)
            runs.append({"label": f"{description}, {'with' if intercept else 'no'} intercept",
                         "description": description, "result": result})
    return runs, q4.select_run([r["result"] for r in runs])


def print_choice(title, runs, chosen):
    """Each candidate's best dev accuracy, the choice, and its best line."""
    print(f"{title}:")
    for run in runs:
        r = run["result"]
        print(f"  {run['label']:<58} dev {r['dev'][r['best']]:6.2f} % "
              f"(reg {q4._fmt_reg(r['regs'][r['best']])})")
    print(f"  using {runs[chosen]['label']}")
    print(f"  {q4.best_line(runs[chosen]['result'])}")


def best_of(runs, description):
    """The run with the best dev accuracy among `runs` of one candidate (both intercepts)."""
    mine = [r for r in runs if r["description"] == description]
    return mine[q4.select_run([r["result"] for r in mine])]


# ---- tables -----------------------------------------------------------------------------
def speed_table(rows):
    """Markdown table of the training runs.

    Parameters
    ----------
    rows : list of (str, dict)
        Name and summary with ``centre_words``, ``seconds``, ``cpu``; the last row is the
        reference of the "x" column (gensim with the most workers).
    """
    ref = centre_words_per_second(rows[-1][1]["centre_words"], rows[-1][1]["seconds"])
    lines = ["| training run | centre words | training time | centre words / s "
             f"| vs {rows[-1][0]} | CPU time |", "|---|---:|---:|---:|---:|---:|"]
    for name, s in rows:
        rate = centre_words_per_second(s["centre_words"], s["seconds"])
        lines.append(f"| {name} | {s['centre_words']:,} | {s['seconds']:.2f} s | {rate:,.0f} "
                     f"| {rate / ref:.2f}x | {s['cpu']:.2f} s |")
    return "\n".join(lines)


def q4_table(rows):
    """Markdown table: vectors, what q4 picked on dev, its best line."""
    lines = ["| vectors | picked on dev | q4 final line |", "|---|---|---|"]
    lines += [f"| {name} | {picked} | `{line}` |" for name, picked, line in rows]
    return "\n".join(lines)


# ---- command line -----------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="bench_vs_gensim.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Train the project's default SST word vectors (python q3_run.py) and gensim's
Word2Vec with 1 and 2 worker threads, on the same sentences, with matching
settings and the same number of centre words, in one process. Print the centre
words per second of each training and question 4's final line
'best reg=... train=... dev=... test=...' for each set of vectors (the same
sweep as q4_sentiment.py), then both as Markdown tables for the README.""",
        epilog=f"""\
gensim is not a project dependency. Without it the script prints how to install
it and exits with status 0 (a skip, not a failure). From the repository root:
  python -m venv ../gensim-venv
  ../gensim-venv/bin/pip install -r requirements.txt gensim
  ../gensim-venv/bin/python bench/bench_vs_gensim.py

gensim gets sg=1, hs=0, negative={q3_run.NEGATIVES}, window={q3_run.CONTEXT}, \
vector_size={q3_run.DIM}, min_count=1,
sample=0 (the loader's corpus is already subsampled), the project's word counts
and seed.
The settings that cannot match (the learning-rate schedule, how centre words are
drawn, ...) are explained at the top of bench/bench_vs_gensim.py. Timings vary
on a shared machine; both trainings run in the same process, one after the
other, so compare their ratio.""")
    p.add_argument("--iterations", type=int, default=q3_run.ITERATIONS,
                   help="iterations of the project's run; gensim gets iterations x "
                        f"{q3_run.BATCH} centre words (default: %(default)s, the course's run; "
                        "fewer for a quick check)")
    p.add_argument("--alpha", type=float, default=GENSIM_ALPHA,
                   help="gensim's first learning rate (default: %(default)g, the project's "
                        "step / batch)")
    p.add_argument("--min-alpha", type=float, default=GENSIM_MIN_ALPHA,
                   help="gensim's last learning rate (default: %(default)g, the project's "
                        "halved step / batch)")
    p.add_argument("--regs", metavar="REG", type=float, nargs="+",
                   help="question 4's regularization values (default: q4_sentiment.py's 29, "
                        "1e-7 .. 1; a few for a quick check)")
    args = p.parse_args(argv)
    if args.iterations < 1:
        p.error(f"--iterations must be at least 1, got {args.iterations}")
    if not (args.alpha > 0 and args.min_alpha > 0):
        p.error("--alpha and --min-alpha must be positive")
    args.regs = q4.REGULARIZATION if args.regs is None else np.asarray(args.regs, dtype=float)
    if not np.all(np.isfinite(args.regs)) or np.any(args.regs < 0):
        p.error("--regs: every value must be a finite number >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    gensim = import_gensim()
    if gensim is None:
        print(SKIP_MESSAGE.format(python=sys.executable))
        return 0

    print(f"bench_vs_gensim: Python {sys.version.split()[0]}, NumPy {np.__version__}, "
          f"gensim {gensim.__version__}")
    print("timings vary on a shared machine: both trainings run in this process, one after "
          "the other; compare their ratio")

    # The corpus exactly as q3_run.train builds it: seed, then load (allSentences is drawn
    # with Python's random at load time).
    q3_run.seed_all(q3_run.SEED)
    dataset, tokens = q3_run.load_dataset()
    words = q3_run.words_by_index(tokens)
    ids, offsets = dataset.all_sentences_csr()
    lengths = np.diff(offsets)
    raw_words = int(dataset.sentences_csr()[1][-1])
    print(f"\ncorpus: allSentences() of the loader, {lengths.size:,} sentences, {ids.size:,} "
          f"words: {N_COPIES} copies of the {dataset.numSentences():,} SST sentences "
          f"({N_COPIES} x {raw_words:,} = {N_COPIES * raw_words:,} words) already subsampled "
          f"(word kept with probability sqrt({SUBSAMPLE_RATE:g} x {raw_words + 1:,} / count) "
          f"when below 1), so gensim gets sample=0")

    target = args.iterations * q3_run.BATCH
    n_sentences, epochs, per_epoch = plan_gensim_corpus(lengths, target)
    allsent = dataset.allSentences()
    corpus = [allsent[i] for i in range(n_sentences)]    # lists of str, built before timing
    print(f"gensim corpus: the first {n_sentences:,} sentences ({per_epoch:,} words) x "
          f"{epochs} epoch(s) = {epochs * per_epoch:,} centre words; the project: "
          f"{args.iterations:,} iterations x {q3_run.BATCH} windows = {target:,}")
    settings = ", ".join(f"{k}={v}" for k, v in GENSIM_SETTINGS.items())
    print(f"gensim settings: {settings}, alpha={args.alpha:g} -> min_alpha={args.min_alpha:g} "
          f"(linear; the project: step {q3_run.STEP:g} / {q3_run.BATCH} windows = "
          f"{GENSIM_ALPHA:g} per window, halved every {q3_run.ANNEAL_EVERY:,} iterations)")

    print(f"\n== this project: q3_run.py's default run ({args.iterations:,} iterations) ==",
          flush=True)
    ours = run_project(args.iterations)
    if ours["tokens"] != tokens:
        raise RuntimeError("the project's run used another vocabulary than the corpus here")
    ours["seconds"] = ours["train_time"]
    speed_rows = [("this project, default run (1 sampling worker process)", ours)]
    models = []
    for workers in GENSIM_WORKERS:
        print(f"\n== gensim Word2Vec, workers={workers} ==", flush=True)
        model, summary = run_gensim(gensim, corpus, dataset.tokenfreq, epochs, workers,
                                    args.alpha, args.min_alpha)
        print(f"gensim: {summary['centre_words']:,} centre words trained ({summary['raw_words']:,}"
              f" raw words) in {summary['seconds']:.2f} s "
              f"({centre_words_per_second(summary['centre_words'], summary['seconds']):,.0f}/s, "
              f"CPU {summary['cpu']:.2f} s)")
        if summary["centre_words"] != epochs * per_epoch:   # e.g. a word missing from the vocab
            print(f"note: gensim trained {summary['centre_words']:,} words, not the planned "
                  f"{epochs * per_epoch:,}")
        speed_rows.append((f"gensim {gensim.__version__}, workers={workers}", summary))
        models.append(model)

    print("\n== training speed (the training alone, loading excluded) ==")
    table1 = speed_table(speed_rows)
    print(table1)
    print("CPU time: the project's training process and its sampling worker; gensim's "
          "process, all threads")
    rate = [centre_words_per_second(s["centre_words"], s["seconds"]) for _, s in speed_rows]
    print("this project trains " + " and ".join(
        f"{rate[0] / r:.2f}x as many centre words per second as {name}"
        for (name, _), r in zip(speed_rows[1:], rate[1:])))

    print("\n== question 4: the same sweep (q4_sentiment.py's functions and grid; choices on "
          "dev) ==", flush=True)
    splits = q4._splits(dataset)
    V = len(tokens)
    U_in, U_out = ours["wordVectors"][:V], ours["wordVectors"][V:]
    D = U_in.shape[1]
    ours_runs, ours_chosen = q4_sweeps(splits, tokens, [
        (f"this project, input + output ({D}-d)", U_in + U_out),
        (f"this project, [input, output] ({2 * D}-d)", np.hstack([U_in, U_out]))], args.regs)
    print_choice("this project's vectors (as q4_sentiment.py --yourvectors)", ours_runs,
                 ours_chosen)
    model = models[0]
    wv = in_token_order(model.wv.vectors, model.wv.key_to_index, words)
    syn1neg = in_token_order(model.syn1neg, model.wv.key_to_index, words)
    q4_rows = [("this project, q4_sentiment.py --yourvectors",
                ours_runs[ours_chosen]["label"].replace("this project, ", ""),
                q4.best_line(ours_runs[ours_chosen]["result"]))]
    summed = best_of(ours_runs, f"this project, input + output ({D}-d)")
    q4_rows.append((f"this project, input + output ({D}-d) only",
                    summed["label"].replace("this project, ", ""),
                    q4.best_line(summed["result"])))
    for description, vectors in ((f"gensim, wv ({D}-d)", wv),
                                 (f"gensim, [wv, syn1neg] ({2 * D}-d)", np.hstack([wv, syn1neg]))):
        runs, chosen = q4_sweeps(splits, tokens, [(description, vectors)], args.regs)
        print_choice(f"{description}, workers={GENSIM_WORKERS[0]} run", runs, chosen)
        q4_rows.append((f"{description}, workers={GENSIM_WORKERS[0]}",
                        runs[chosen]["label"].replace(f"{description}, ", ""),
                        q4.best_line(runs[chosen]["result"])))

    print("\n== for the README (Markdown) ==\n")
    print(table1)
    print()
    print(q4_table(q4_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
