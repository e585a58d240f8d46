"""Question 3: word2vec — skip-gram and CBOW, with the softmax and negative-sampling losses.

Word vectors are rows. ``inputVectors`` V (W, D) holds the centre ("input")
vector v_w of every word, ``outputVectors`` U (W, D) its context ("output")
vector u_w; ``wordVectors`` (2W, D) stacks V on top of U. A word index outside
0..W-1 raises an IndexError naming the argument; K < 1 samples, a ValueError.

The functions keep the 2017 course's names, signatures and order of random
draws, so the self-test reproduces its published numbers: the losses of one
predicted vector, ``softmaxCostAndGradient`` (ANSWERS 3a, 3b) and
``negSamplingCostAndGradient`` (3c); the models of one window, ``skipgram`` and
``cbow`` (3d); ``word2vec_sgd_wrapper``, the mean over a minibatch of random
windows for ``q3_sgd.sgd``.

``python q3_run.py`` trains with the same losses computed for a whole minibatch
at once by the training engine (``w2v_engine/``, which nothing here needs);
tests/test_engine.py proves that its numbers equal the sum of these.
"""
import random
import sys
import textwrap
import warnings

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from q1_softmax import softmax
from q2_gradcheck import gradcheck_naive
from q2_sigmoid import sigmoid
from utils.arg_checks import (as_array, check_count, check_index, check_loss_args, check_sgd_wrapper,
                              check_window)

# ---- hyper-parameters ----------------------------------------------------------------------------
BATCH_SIZE = 50      # windows per word2vec_sgd_wrapper call (the course's batchsize)
NEG_SAMPLES = 10     # K, negative samples per target (negSamplingCostAndGradient default)
SELF_TEST_C = 5      # context size of the self-test gradient checks
PY_SEED, NP_SEED = 31415, 9265   # the course's self-test seeds


def normalizeRows(x):
    """Scale every row to unit Euclidean length.

    Parameters
    ----------
    x : array_like, shape (N, D) or (D,)
        Integer input is converted to float. A 1-D input is one row.

    Returns
    -------
    x_unit : ndarray of float, same shape as `x`
        ``x / ||x||`` row by row; rows of zeros stay zero (no division warning).
    """
    x = as_array("normalizeRows", "x", x, dtype=None)
    if x.ndim not in (1, 2):
        raise ValueError(f"normalizeRows expects a (N, D) matrix or a (D,) vector; got shape {x.shape}")
    x = x.astype(np.float64) if not np.issubdtype(x.dtype, np.floating) else x
    # scale by the row's largest |entry| before squaring: no overflow at 1e200, no underflow at 1e-200
    scale = np.max(np.abs(x), axis=-1, keepdims=True)       # (N, 1) or (1,)
    x_scaled = x / np.where(scale > 0, scale, 1.0)           # largest |entry| of each row is 1 (or all 0)
    norms = np.sqrt(np.sum(x_scaled * x_scaled, axis=-1, keepdims=True))   # (N, 1) or (1,)
    return x_scaled / np.where(norms > 0, norms, 1.0)        # a zero row stays zero: divide by 1, not 0


def softmaxCostAndGradient(predicted, target, outputVectors, dataset):
    """Softmax cross-entropy cost and gradients for one predicted vector.

    Parameters
    ----------
    predicted : ndarray, shape (D,)
        v_c (skip-gram) or v_hat (CBOW).
    target : int
        Index o of the true output word.
    outputVectors : ndarray, shape (W, D)
        U, one row u_w per word.
    dataset : object
        Unused; kept for the course's signature.

    Returns
    -------
    cost : float
        J = -log y_hat_o with y_hat = softmax(U v_c).
    gradPred : ndarray, shape (D,)
        dJ/dv_c.
    grad : ndarray, shape (W, D)
        dJ/dU (dense: every output vector gets a gradient).
    """
    v_c, U, o = check_loss_args("softmaxCostAndGradient", predicted, target, outputVectors)
    scores = U @ v_c                           # (W, D) @ (D,) -> (W,): u_w . v_c for every word w
    y_hat = softmax(scores)                    # (W,): q1's max-shifted softmax
    # J = -u_o . v_c + log sum_w exp(u_w . v_c)  (3a); the max m is taken out of the sum so that
    # nothing overflows and J stays finite even where y_hat_o underflows to 0
    m = scores.max()
    cost = -(scores[o] - m) + np.log(np.sum(np.exp(scores - m)))
    delta = y_hat.copy()                       # (W,): y_hat - y, y the one-hot vector of o
    delta[o] -= 1.0
    gradPred = U.T @ delta                     # (D, W) @ (W,) -> (D,): dJ/dv_c = U^T (y_hat - y)  (3a)
    grad = np.outer(delta, v_c)                # (W,) x (D,) -> (W, D): dJ/dU = (y_hat - y) v_c^T  (3b)
    return float(cost), gradPred, grad


def getNegativeSamples(target, dataset, K):
    """Draw K negative sample indices, none equal to `target`: each is a ``dataset.sampleTokenIdx()``
    call, redrawn while it equals `target`, in the course's order of randomness. Returns a list
    of K ints; a ValueError if 1000 draws in a row give `target` (a table that holds nothing else)."""
    check_count("getNegativeSamples", "K", K, 1)
    if not callable(getattr(dataset, "sampleTokenIdx", None)):
        raise TypeError(f"getNegativeSamples: dataset must have sampleTokenIdx(), got "
                        f"{type(dataset).__name__}")
    negatives = []
    for _ in range(K):          # the classic sampler is scalar: one call per draw
        for _ in range(1000):   # a draw equal to target is redrawn
            idx = dataset.sampleTokenIdx()
            if idx != target:
                break
        else:
            raise ValueError(f"getNegativeSamples: sampleTokenIdx() gave the target {target} 1000 "
                             f"times in a row: negative sampling needs a second word in the table")
        negatives.append(idx)
    return negatives


def neg_log_sigmoid(x):
    """-log sigma(x) = log(1 + e^-x), as max(-x, 0) + log(1 + e^-|x|): no overflow, no log(0)."""
    return np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def negSamplingCostAndGradient(predicted, target, outputVectors, dataset, K=NEG_SAMPLES):
    """Negative-sampling cost and gradients for one predicted vector.

    The output words used are the target o, then ``getNegativeSamples(target,
    dataset, K)`` in that order, as in the course.

    Parameters
    ----------
    predicted : ndarray, shape (D,)
        v_c (skip-gram) or v_hat (CBOW).
    target : int
        Index o of the true output word.
    outputVectors : ndarray, shape (W, D)
    dataset : object with ``sampleTokenIdx()``
    K : int
        Number of negative samples.

    Returns
    -------
    cost : float
        J = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c).
    gradPred : ndarray, shape (D,)
        dJ/dv_c.
    grad : ndarray, shape (W, D)
        dJ/dU: non-zero in the rows of o and of the negatives only (dense, the course's
        interface); a negative drawn twice counts twice.
    """
    v_c, U, o = check_loss_args("negSamplingCostAndGradient", predicted, target, outputVectors, K)
    k = getNegativeSamples(o, dataset, K)      # K word indices w_1 .. w_K, none equal to o
    check_index(k, U.shape[0], "negSamplingCostAndGradient: a negative sample from dataset")
    u_o, u_k = U[o], U[k]                      # (D,) and (K, D)
    s_o = u_o @ v_c                            # u_o . v_c
    s_k = u_k @ v_c                            # (K, D) @ (D,) -> (K,): u_k . v_c
    cost = neg_log_sigmoid(s_o) + np.sum(neg_log_sigmoid(-s_k))   # J, as in (3c)
    delta_o = sigmoid(s_o) - 1.0               # dJ/ds_o = sigma(u_o . v_c) - 1
    delta_k = sigmoid(s_k)                     # (K,): dJ/ds_k = sigma(u_k . v_c)
    gradPred = delta_o * u_o + delta_k @ u_k   # (D,): (sigma(u_o.v_c) - 1) u_o + sum_k sigma(u_k.v_c) u_k
    grad = np.zeros(U.shape)                   # (W, D)
    grad[o] += delta_o * v_c                   # dJ/du_o = (sigma(u_o . v_c) - 1) v_c
    np.add.at(grad, k, np.outer(delta_k, v_c))  # dJ/du_k = sigma(u_k . v_c) v_c; repeated k add up
    return float(cost), gradPred, grad


def skipgram(currentWord, C, contextWords, tokens, inputVectors, outputVectors,
             dataset, word2vecCostAndGradient=softmaxCostAndGradient):
    """Skip-gram cost and gradients for one window: J = sum over the context words w of F(w, v_c).

    Parameters
    ----------
    currentWord : str
        The centre word c.
    C : int
        Context size (unused here, kept for the course's signature).
    contextWords : list of str, length <= 2C
    tokens : dict str -> int
    inputVectors : ndarray, shape (W, D)
    outputVectors : ndarray, shape (W, D)
    dataset : object
        Passed on to `word2vecCostAndGradient` (negative sampling draws from it).
    word2vecCostAndGradient : callable
        ``F(predicted (D,), target, outputVectors, dataset) -> (cost, gradPred (D,), grad (W, D))``.

    Returns
    -------
    cost : float
    gradIn : ndarray, shape (W, D)
        dJ/dV: non-zero only in the centre word's row.
    gradOut : ndarray, shape (W, D)
        dJ/dU.
    """
    c, targets, inputVectors, outputVectors = check_window(
        "skipgram", currentWord, contextWords, tokens, inputVectors, outputVectors, word2vecCostAndGradient)
    v_c = inputVectors[c]                      # (D,)
    cost, gradIn, gradOut = 0.0, np.zeros(inputVectors.shape), np.zeros(outputVectors.shape)
    for o in targets:   # one loss per context word, in order: fixes the order of draws
        F, dF_dvc, dF_dU = word2vecCostAndGradient(v_c, o, outputVectors, dataset)
        cost += F
        gradIn[c] += dF_dvc
        gradOut += dF_dU
    return cost, gradIn, gradOut


def cbow(currentWord, C, contextWords, tokens, inputVectors, outputVectors,
         dataset, word2vecCostAndGradient=softmaxCostAndGradient):
    """CBOW cost and gradients for one window: v_hat = sum of the context vectors, J = F(c, v_hat).

    The context vectors are **summed** (the 2017 handout). Same parameters and
    returns as `skipgram`; gradIn holds dJ/dv_hat in each context word's row,
    once per occurrence (a word appearing twice gets it twice).
    """
    c, context, inputVectors, outputVectors = check_window(
        "cbow", currentWord, contextWords, tokens, inputVectors, outputVectors, word2vecCostAndGradient)
    v_hat = inputVectors[context].sum(axis=0)                # (m, D) -> (D,): the m context vectors
    cost, dJ_dvhat, gradOut = word2vecCostAndGradient(v_hat, c, outputVectors, dataset)
    gradIn = np.zeros(inputVectors.shape)
    np.add.at(gradIn, context, dJ_dvhat)                     # dJ/dv_w += dJ/dv_hat, repeats add up
    return cost, gradIn, gradOut


def word2vec_sgd_wrapper(word2vecModel, tokens, wordVectors, dataset, C,
                         word2vecCostAndGradient=softmaxCostAndGradient, batchsize=BATCH_SIZE):
    """Mean cost and gradient over `batchsize` random windows, for ``q3_sgd.sgd``.

    For each window: ``C1 = random.randint(1, C)``, then
    ``dataset.getRandomContext(C1)`` — randomness consumed in this order.

    Parameters
    ----------
    word2vecModel : callable
        `skipgram` or `cbow`.
    tokens : dict str -> int
    wordVectors : ndarray, shape (2W, D)
        Input vectors (first W rows) stacked on output vectors (last W rows).
    dataset : object with ``getRandomContext(C)`` (and ``sampleTokenIdx()`` for negative sampling)
    C : int
        Maximum context size.
    word2vecCostAndGradient : callable
    batchsize : int
        Windows per call (the course's 50; a keyword, so that callers need not change a constant).

    Returns
    -------
    cost : float
        Mean over the batch.
    grad : ndarray, shape (2W, D)
    """
    wordVectors = check_sgd_wrapper(word2vecModel, wordVectors, C, word2vecCostAndGradient, batchsize)
    N = wordVectors.shape[0]
    inputVectors, outputVectors = wordVectors[:N // 2], wordVectors[N // 2:]   # views, (W, D) each
    cost, grad = 0.0, np.zeros(wordVectors.shape)
    for _ in range(batchsize):
        C1 = random.randint(1, C)
        centreWord, context = dataset.getRandomContext(C1)
        c, gin, gout = word2vecModel(centreWord, C1, context, tokens, inputVectors, outputVectors,
                                     dataset, word2vecCostAndGradient)
        cost += c / batchsize
        grad[:N // 2] += gin / batchsize
        grad[N // 2:] += gout / batchsize
    return cost, grad


# ==== self-test ====================================================================================

class DummyDataset:
    """The course's 5-word test dataset "a".."e", drawing from Python's `random`."""

    words = ["a", "b", "c", "d", "e"]
    tokens = {w: i for i, w in enumerate(words)}

    def sampleTokenIdx(self):
        return random.randint(0, 4)

    def getRandomContext(self, C):
        centre = self.words[random.randint(0, 4)]    # centre first, then the 2C context words
        return centre, [self.words[random.randint(0, 4)] for _ in range(2 * C)]


# Expected (cost, gradIn, gradOut) of the four printed calls. PUBLISHED: the course's published
# output (skip-gram), reproduced to all printed digits. OWN: this project's values (CBOW), kept as
# regression oracles; the negative-sampling one depends on the random state left by the calls
# before it in `_self_test`.
PUBLISHED_SKIPGRAM_SOFTMAX = (
    11.166109001533981,
    [[0, 0, 0], [0, 0, 0], [-1.26947339, -1.36873189, 2.45158957], [0, 0, 0], [0, 0, 0]],
    [[-0.41045956, 0.18834851, 1.43272264], [0.38202831, -0.17530219, -1.33348241],
     [0.07009355, -0.03216399, -0.24466386], [0.09472154, -0.04346509, -0.33062865],
     [-0.13638384, 0.06258276, 0.47605228]])
PUBLISHED_SKIPGRAM_NEGSAMPLE = (
    16.15119285363322,
    [[0, 0, 0], [0, 0, 0], [-4.54650789, -1.85942252, 0.76397441], [0, 0, 0], [0, 0, 0]],
    [[-0.69148188, 0.31730185, 2.41364029], [-0.22716495, 0.10423969, 0.79292674],
     [-0.45528438, 0.20891737, 1.58918512], [-0.31602611, 0.14501561, 1.10309954],
     [-0.80620296, 0.36994417, 2.81407799]])
OWN_CBOW_SOFTMAX = (0.7989958010906648,
                    [[0.23330542, -0.51643128, -0.8281311], [0.11665271, -0.25821564, -0.41406555],
                     [0.11665271, -0.25821564, -0.41406555], [0, 0, 0], [0, 0, 0]],
                    [[0.80954933, 0.21962514, -0.54095764], [-0.03556575, -0.00964874, 0.02376577],
                     [-0.13016109, -0.0353118, 0.08697634], [-0.1650812, -0.04478539, 0.11031068],
                     [-0.47874129, -0.1298792, 0.31990485]])
OWN_CBOW_NEGSAMPLE = (9.261207727486685,
                      [[-3.92125172, -4.99898699, -1.79758465], [-1.96062586, -2.49949349, -0.89879233],
                       [-1.96062586, -2.49949349, -0.89879233], [0, 0, 0], [0, 0, 0]],
                      [[0.21992784, 0.0596649, -0.14696034], [-1.03368785, -0.28043237, 0.69073164],
                       [-0.77702167, -0.21080061, 0.51922198], [-2.58955401, -0.7025281, 1.73039366],
                       [-3.55123511, -0.96342553, 2.37300889]])


def _show_and_check(label, result, expected, source):
    """Print one (cost, gradIn, gradOut) result and assert it matches `expected` (printed precision)."""
    cost, gradIn, gradOut = result
    print(f"{label}\n  cost    {cost!r}   ({source}: {expected[0]!r})")
    for name, got, exp in (("gradIn", gradIn, expected[1]), ("gradOut", gradOut, expected[2])):
        print(f"  {name}\n" + textwrap.indent(np.array2string(got, precision=8), "    "))
        exp = np.asarray(exp, dtype=np.float64)
        assert got.shape == exp.shape, f"{label}: {name} shape {got.shape} != {exp.shape}"
        assert np.allclose(got, exp, rtol=0, atol=1e-8), f"{label}: {name}\n{got}\n!= {source}\n{exp}"
    assert abs(cost - expected[0]) <= 1e-12 * abs(expected[0]), f"{label}: cost {cost!r} != {expected[0]!r}"


def _self_test():
    """The course's test, in the order that reproduces its published output: the published
    negative-sampling numbers come from Python 3's `random` in the state left by the two
    *skip-gram* gradient checks only, so each model's checks are followed by its results."""
    print("==== normalizeRows ====")
    got, expected = normalizeRows(np.array([[3.0, 4.0], [1.0, 2.0]])), [[0.6, 0.8], [0.4472136, 0.89442719]]
    print(got)
    assert got.shape == (2, 2) and np.allclose(got, expected, rtol=0, atol=1e-6), got
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a 0/0 warning would fail here
        zero = normalizeRows(np.array([[0, 0], [0, 5]]))
    assert zero.tolist() == [[0.0, 0.0], [0.0, 1.0]], zero
    print("ok  a zero row stays zero, integer input accepted, no warning")

    random.seed(PY_SEED), np.random.seed(NP_SEED)
    dataset, tokens = DummyDataset(), dict(DummyDataset.tokens)
    vectors = normalizeRows(np.random.randn(10, 3))              # (2W, D) = (10, 3)
    inputs, outputs = vectors[:5, :], vectors[5:, :]
    losses = (("softmax", softmaxCostAndGradient), ("negative sampling", negSamplingCostAndGradient))
    where = lambda ix: (f"{'input' if ix[0] < 5 else 'output'} vector of word "  # noqa: E731
                        f"{DummyDataset.words[ix[0] % 5]!r}, dimension {ix[1]}")  # (2W, D) in words

    def gradchecks(model):
        for loss_name, loss in losses:
            print(f"{model.__name__} + {loss_name} through word2vec_sgd_wrapper (C = {SELF_TEST_C}):")
            ok = gradcheck_naive(lambda vec: word2vec_sgd_wrapper(
                model, tokens, vec, dataset, SELF_TEST_C, loss), vectors, where=where)
            assert ok, f"gradient check failed: {model.__name__} + {loss_name}"

    print("\n==== Gradient check for skip-gram ====")
    gradchecks(skipgram)
    print("\n=== Results: skip-gram (the course's published expected output) ===")
    _show_and_check('skipgram("c", 3, ["a", "b", "e", "d", "b", "c"]), softmax',
                    skipgram("c", 3, ["a", "b", "e", "d", "b", "c"], tokens, inputs, outputs, dataset),
                    PUBLISHED_SKIPGRAM_SOFTMAX, "published")
    _show_and_check('skipgram("c", 1, ["a", "b"]), negative sampling',
                    skipgram("c", 1, ["a", "b"], tokens, inputs, outputs, dataset,
                             negSamplingCostAndGradient),
                    PUBLISHED_SKIPGRAM_NEGSAMPLE, "published")

    print("\n==== Gradient check for CBOW ====")
    gradchecks(cbow)
    print("\n=== Results: CBOW (this project's regression values) ===")
    _show_and_check('cbow("a", 2, ["a", "b", "c", "a"]), softmax',
                    cbow("a", 2, ["a", "b", "c", "a"], tokens, inputs, outputs, dataset),
                    OWN_CBOW_SOFTMAX, "this project's regression value")
    _show_and_check('cbow("a", 2, ["a", "b", "a", "c"]), negative sampling',
                    cbow("a", 2, ["a", "b", "a", "c"], tokens, inputs, outputs, dataset,
                         negSamplingCostAndGradient),
                    OWN_CBOW_NEGSAMPLE, "this project's regression value")
    print("\nq3_word2vec: all checks passed")


if __name__ == "__main__":
    try:
        _self_test()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
