"""q3_run.py's probe: the engine never trains in place of course functions that compute otherwise.

The fast path trains with the engine (``w2v_engine/``), a batched solution of question 3, not
with ``q3_word2vec.py``. So before training, `check_engine_matches_course` computes one small
probe minibatch both ways, with the same windows and the same negative samples: the engine's
path for the run's model and loss (the prepared fast path for skip-gram with negative sampling,
``word2vec_batch`` otherwise), and the ``q3_word2vec`` functions it stands for, window by window.
If they disagree it names the function that differs and raises `ProbeError` (one line: fix it,
or train your own code with ``--classic``). A function that is not written yet (a practice copy)
gets the "not written yet" line; one that raises, or runs for more than PROBE_SECONDS, is named
too. The probe draws from its own generator and leaves Python's and NumPy's global random states
as they were, so an unchanged project trains exactly as before. It costs a few milliseconds
(``bench/bench_probe.py``).
"""
import os
import random
import signal
import threading
import traceback

import numpy as np

import q1_softmax
import q2_sigmoid
import q3_word2vec
from practice_kit.unwritten import describe
from w2v_engine.batched import cbow_batch, skipgram_batch, word2vec_batch
from w2v_engine.prepared import PreparedChunk, prepare_skipgram_negsample, skipgram_negsample_fast
from w2v_engine.sparse import pair_layout

PROBE_SECONDS = 5.0               # the probe's functions run on 3 windows: far under a second
W, D, K, C = 6, 4, 3, 2           # vocabulary, dimension (even, like the default 10), samples, C
WORDS = [f"w{i}" for i in range(W)]
TOKENS = {w: i for i, w in enumerate(WORDS)}
CENTRES = np.array([0, 3, 5])
CONTEXTS = np.array([[1, 2, 1, -1], [4, -1, -1, -1], [0, 2, 4, 3]])   # (3, 2C), -1 padding
COURSE_FILES = ("q3_word2vec.py", "q2_sigmoid.py", "q1_softmax.py")


class ProbeError(ValueError):
    """The course functions and the engine disagree (or a course function fails) on the probe."""


class _Replay:
    """``sampleTokenIdx()`` replaying the probe's negatives, in the order the engine used them."""

    def __init__(self, draws):
        self.draws, self.used = [int(d) for d in np.ravel(draws)], 0

    def sampleTokenIdx(self):
        if self.used >= len(self.draws):
            raise ProbeError("q3_word2vec.negSamplingCostAndGradient drew more negative samples "
                             "than the engine uses for the same windows (getNegativeSamples(target, "
                             "dataset, K) draws K)")
        self.used += 1
        return self.draws[self.used - 1]


class _Timeout(Exception):
    pass


def _problem():
    rng = np.random.default_rng(2017)
    x = 0.5 * rng.standard_normal((2 * W, D))          # (2W, D): input rows, then output rows
    return x, rng


def _negatives(rng, targets):
    negs = (targets[:, None] + rng.integers(1, W, size=(len(targets), K))) % W   # never the target
    negs[0, 1] = negs[0, 0]                            # a negative drawn twice
    return negs


def _engine(model, negsample, x, negatives):
    """(cost, dense (2W, D) gradient) of the engine's path for this model and loss."""
    if model == "skipgram" and negsample:                # the Objective's fast path
        bounds, rows, flat = prepare_skipgram_negsample(CENTRES, CONTEXTS, negatives, W,
                                                        pair_layout(D, np.float64)[1])
        cost, grad = skipgram_negsample_fast(x, PreparedChunk(bounds, rows, flat).batch(0))
    else:
        batch_model = skipgram_batch if model == "skipgram" else cbow_batch
        cost, grad = word2vec_batch(batch_model, CENTRES, CONTEXTS, x, negatives)
    return float(cost), grad.to_dense(x.shape)


def _loss(negsample):
    if not negsample:
        return q3_word2vec.softmaxCostAndGradient
    loss = q3_word2vec.negSamplingCostAndGradient      # looked up now: the learner's, edited

    def negsample_K(predicted, target, outputVectors, dataset):
        return loss(predicted, target, outputVectors, dataset, K)
    return negsample_K


def _course(model, negsample, x, negatives):
    """(cost, dense gradient) of the q3_word2vec functions, window by window, same negatives."""
    fn = getattr(q3_word2vec, model)
    dataset = _Replay(negatives) if negsample else None
    V, U = x[:W].copy(), x[W:].copy()
    cost, grad = 0.0, np.zeros_like(x)
    for centre, context in zip(CENTRES, CONTEXTS):
        c, gin, gout = fn(WORDS[centre], C, [WORDS[j] for j in context if j >= 0], dict(TOKENS),
                          V, U, dataset, _loss(negsample))
        cost += float(c)
        grad[:W] += np.asarray(gin, dtype=float)
        grad[W:] += np.asarray(gout, dtype=float)
    if dataset is not None and dataset.used != len(dataset.draws):
        raise ProbeError(f"q3_word2vec.{model} used {dataset.used} of the engine's "
                         f"{len(dataset.draws)} negative samples on the probe's windows")
    return cost, grad


def _agree(a, b):
    (ca, ga), (cb, gb) = a, b
    return (abs(ca - cb) <= 1e-9 * max(1.0, abs(cb)) and ga.shape == gb.shape
            and np.allclose(ga, gb, rtol=1e-8, atol=1e-9))


def _difference(course, engine):
    """Where the course's (cost, gradient) first differs from the engine's, in words."""
    if abs(course[0] - engine[0]) > 1e-9 * max(1.0, abs(engine[0])):
        return f"cost {course[0]:.6g}, the engine's {engine[0]:.6g}"
    diff = np.abs(course[1] - engine[1])
    row, dim = np.unravel_index(np.argmax(diff), diff.shape)
    block = "input" if row < W else "output"
    return (f"the gradient of the {block} vector of word {WORDS[row % W]}, dimension {dim}: "
            f"{course[1][row, dim]:.6g}, the engine's {engine[1][row, dim]:.6g}")


def _culprit(model, negsample, x, negatives):
    """The course function to blame once the probe disagrees: q1/q2 first, then the loss."""
    s = np.array([[-3.0, 0.5, 2.0], [1.0, -1.0, 4.0]])
    if negsample:
        if not np.allclose(q2_sigmoid.sigmoid(s), 1 / (1 + np.exp(-s)), rtol=1e-10, atol=1e-12):
            return "q2_sigmoid.sigmoid"
    else:
        e = np.exp(s - s.max(axis=1, keepdims=True))
        if not np.allclose(q1_softmax.softmax(s), e / e.sum(axis=1, keepdims=True), rtol=1e-10,
                           atol=1e-12):
            return "q1_softmax.softmax"
    # the loss alone: one window with one context word is the same for both models
    centres, contexts = CENTRES[:1], np.array([[2, -1, -1, -1]])
    negs = negatives[:1] if negsample else None
    batch_model = skipgram_batch if model == "skipgram" else cbow_batch
    cost, grad = word2vec_batch(batch_model, centres, contexts, x, negs)
    V, U = x[:W].copy(), x[W:].copy()
    predicted, target = (V[0], 2) if model == "skipgram" else (V[2], 0)
    got = _loss(negsample)(predicted, target, U, _Replay(negs) if negsample else None)
    dense = grad.to_dense(x.shape)
    row = 0 if model == "skipgram" else 2
    ours = (float(got[0]), np.vstack([np.zeros((W, D)), np.asarray(got[2], dtype=float)]))
    ours[1][row] = np.asarray(got[1], dtype=float)
    loss = "negSamplingCostAndGradient" if negsample else "softmaxCostAndGradient"
    return f"q3_word2vec.{model}" if _agree(ours, (float(cost), dense)) else f"q3_word2vec.{loss}"


def _in_practice_copy():
    root = os.path.dirname(os.path.abspath(q3_word2vec.__file__))
    return os.path.isfile(os.path.join(root, ".practice", "manifest.json"))


def _ways_on():
    check = ("python practice.py check q3" if _in_practice_copy()
             else "python -m pytest tests/test_word2vec.py")
    return (f"fix it (python q3_word2vec.py; {check}), or train your own code with --classic "
            "(the per-window functions of q3_word2vec.py, slower)")


def _raised(err):
    """The course function an exception came from, for its message."""
    name = "q3_word2vec"
    for frame, _ in traceback.walk_tb(err.__traceback__):
        file = os.path.basename(frame.f_code.co_filename)
        if file in COURSE_FILES:
            name = f"{file[:-3]}.{frame.f_code.co_name}"
    return name


def _alarm(seconds):
    """Arm a SIGALRM timer where one can be (the main thread of a POSIX process): (restore, armed)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_alarm(signum, frame):
        raise _Timeout()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)

    def restore():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return restore


def check_engine_matches_course(model, loss, seconds=PROBE_SECONDS):
    """Raise ProbeError unless the engine and q3_word2vec.py agree on one probe minibatch.

    Parameters
    ----------
    model : {"skipgram", "cbow"}
    loss : {"negsample", "softmax"}
    seconds : float
        How long the course functions may take on the probe's three windows.
    """
    negsample = loss == "negsample"
    states = random.getstate(), np.random.get_state()
    x, rng = _problem()
    targets = CONTEXTS[CONTEXTS >= 0] if model == "skipgram" else CENTRES
    negatives = _negatives(rng, targets) if negsample else None
    restore = _alarm(seconds)
    try:
        engine = _engine(model, negsample, x, negatives)
        course = _course(model, negsample, x, negatives)
        if not _agree(course, engine):
            name = _culprit(model, negsample, x, negatives)
            raise ProbeError(
                f"{name} disagrees with the training engine on a probe minibatch of "
                f"{len(CENTRES)} windows ({_difference(course, engine)}): the fast path would "
                f"train the engine's {model}/{loss}, not your code; {_ways_on()}")
    except _Timeout:
        raise ProbeError(f"q3_word2vec.{model} gave no answer within {seconds:g} s on a probe "
                         f"minibatch of {len(CENTRES)} windows (an endless loop?); "
                         f"{_ways_on()}") from None
    except ProbeError:
        raise
    except Exception as err:                 # noqa: BLE001 (the learner's code may raise anything)
        text = describe(err)
        if text:
            raise ProbeError(text) from None
        detail = f": {' '.join(str(err).split())}" if str(err).strip() else ""
        raise ProbeError(f"{_raised(err)} raised {type(err).__name__}{detail} on a probe "
                         f"minibatch; {_ways_on()}") from None
    finally:
        restore()
        random.setstate(states[0])
        np.random.set_state(states[1])
