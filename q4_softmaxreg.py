"""Question 4(a): sentence features and an L2-regularised softmax regression.

A sentence is represented by the average of its word vectors; a linear softmax
classifier maps that (D,) feature to the 5 sentiment classes.

Model, for N sentences with features X (N, D) and labels y (N,):

    scores = X W (+ b)                  (N, C)
    y_hat  = softmax(scores)            (N, C)
    J(W)   = mean_i -log y_hat[i, y_i] + 0.5 * reg * ||W||^2

The gradient is dJ/dW = X^T delta + reg * W with delta = (y_hat - onehot(y)) / N, and
dJ/db = sum_i delta_i. The bias b (intercept) is optional and never regularised:
penalising it would pull the predicted class frequencies towards uniform for no reason
(the SST classes are not balanced). ``intercept=True`` makes the last row of (D + 1, C)
weights the bias b; the classic call ``softmaxRegression(features, labels, weights, reg)``
with (D, C) weights is unchanged.

Training: ``fit_softmax_regression`` minimises J to convergence with full-batch L-BFGS
(``utils/lbfgs.py``; J is smooth and, for reg > 0, strictly convex). ``softmax_wrapper``
is the classic (cost, grad) function for ``q3_sgd.sgd``, the course's fixed-step route.
"""
import sys
import warnings

import numpy as np

from q2_gradcheck import gradcheck_naive
from utils.lbfgs import MAX_ITER, REL_TOL, minimize_lbfgs, softmax_hessian_preconditioner

SEED = 314  # self-test data


# ---- sentence features ------------------------------------------------------
def getSentenceFeatures(tokens, wordVectors, sentence):
    """Average of the word vectors of one sentence (readable per-sentence version).

    Parameters
    ----------
    tokens : dict
        word -> row index into `wordVectors`.
    wordVectors : ndarray, shape (V, D)
    sentence : sequence of str
        The words; words missing from `tokens` are skipped.

    Returns
    -------
    sentVector : ndarray, shape (D,)
        Mean of the known words' vectors; zeros, without a warning, if no word is known.
    """
    wordVectors = np.asarray(wordVectors)
    rows = [tokens[word] for word in sentence if word in tokens]
    if not rows:
        return np.zeros(wordVectors.shape[1])
    return np.mean(wordVectors[rows], axis=0)  # (k, D) -> (D,)


getSentenceFeature = getSentenceFeatures  # the 2016 assignment's name


def sentence_features(tokens, wordVectors, sentences):
    """Features of many sentences at once; row i equals getSentenceFeatures(..., sentences[i]).

    Parameters
    ----------
    tokens : dict
        word -> row index into `wordVectors`.
    wordVectors : ndarray, shape (V, D)
    sentences : sequence of sequences of str, length N

    Returns
    -------
    features : ndarray, shape (N, D)
    """
    wordVectors = np.asarray(wordVectors)
    D = wordVectors.shape[1]
    # One flat list of the known words' rows and the sentence each belongs to.
    rows = [[tokens[w] for w in s if w in tokens] for s in sentences]
    counts = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))  # (N,)
    flat = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(counts.sum()))
    features = np.zeros((len(rows), D))
    known = counts > 0
    if known.any():
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[known]  # (N_known,)
        # Segments of consecutive non-empty sentences tile `flat` exactly, so reduceat sums each.
        sums = np.add.reduceat(wordVectors[flat], starts, axis=0)      # (N_known, D)
        features[known] = sums / counts[known, None]
    return features


# ---- the model -------------------------------------------------------------
def softmaxRegression(features, labels, weights, regularization=0.0, nopredictions=False,
                      intercept=False):
    """Cost, gradient and predictions of L2-regularised softmax regression.

    Parameters
    ----------
    features : ndarray, shape (N, D)
    labels : ndarray of int, shape (N,)
        Classes in 0 .. C-1.
    weights : ndarray, shape (D, C), or (D + 1, C) with ``intercept=True``
        With an intercept the last row is the bias b (not regularised).
    regularization : float
        reg in ``0.5 * reg * ||W||^2``.
    nopredictions : bool
        If True return only (cost, grad), as the gradient checker wants.
    intercept : bool
        Whether the last row of `weights` is an unregularised bias.

    Returns
    -------
    cost : float
        Mean cross-entropy plus the penalty.
    grad : ndarray, same shape as `weights`
    pred : ndarray of int, shape (N,)
        Arg-max class of each row (only when ``nopredictions`` is False).
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    weights = np.asarray(weights, dtype=np.float64)
    N, D = features.shape
    C = weights.shape[1]
    if weights.shape[0] != D + bool(intercept):
        raise ValueError(f"softmaxRegression: weights have {weights.shape[0]} rows, expected "
                         f"{D + bool(intercept)} for features of dimension {D} "
                         f"({'with' if intercept else 'without'} intercept)")
    if labels.shape != (N,):
        raise ValueError(f"softmaxRegression: labels have shape {labels.shape}, expected ({N},)")
    if N and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= C):
        raise ValueError(f"softmaxRegression: labels must be integers in 0..{C - 1}")

    W = weights[:D]                                     # (D, C): the regularised part
    scores = features @ W                               # (N, D) @ (D, C) -> (N, C)
    if intercept:
        scores = scores + weights[D]                    # (N, C) + (C,)
    # Stable log-softmax: log y_hat = z - log sum exp z with z max-shifted (never log(0)).
    z = scores - scores.max(axis=1, keepdims=True)      # (N, C), all <= 0
    log_norm = np.log(np.exp(z).sum(axis=1))            # (N,)
    y_hat = np.exp(z - log_norm[:, None])               # (N, C)
    picked = np.arange(N)
    data_cost = np.sum(log_norm - z[picked, labels]) / N if N else 0.0
    cost = data_cost + 0.5 * regularization * np.sum(W * W)

    delta = y_hat                                       # (N, C): (y_hat - onehot) / N
    delta[picked, labels] -= 1.0
    delta /= max(N, 1)
    grad = np.empty_like(weights)
    grad[:D] = features.T @ delta + regularization * W  # (D, N) @ (N, C) -> (D, C)
    if intercept:
        grad[D] = delta.sum(axis=0)                     # (C,)
    if nopredictions:
        return cost, grad
    pred = np.argmax(scores, axis=1)                    # (N,)
    return cost, grad, pred


def accuracy(y, yhat):
    """Percentage of predictions equal to the labels.

    Parameters
    ----------
    y, yhat : array_like of int, shape (N,), N > 0

    Returns
    -------
    acc : float
        In percent, 0 .. 100.
    """
    y, yhat = np.asarray(y), np.asarray(yhat)
    if y.shape != yhat.shape:
        raise ValueError(f"accuracy: labels {y.shape} and predictions {yhat.shape} differ in shape")
    if y.size == 0:
        raise ValueError("accuracy: no labels given")
    return float(np.mean(y == yhat) * 100.0)


def softmax_wrapper(features, labels, weights, regularization=0.0):
    """(cost, grad) of softmaxRegression, in the form ``q3_sgd.sgd`` expects.

    Shapes as in `softmaxRegression`: features (N, D), labels (N,), weights (D, C).
    """
    cost, grad, _ = softmaxRegression(features, labels, weights, regularization)
    return cost, grad


# ---- training to convergence -------------------------------------------------
def fit_softmax_regression(features, labels, regularization, n_classes=5, intercept=False,
                           weights0=None, rel_tol=REL_TOL, max_iter=MAX_ITER):
    """Train softmax regression to convergence: build J(W) and run `utils.lbfgs.minimize_lbfgs`.

    Parameters
    ----------
    features : ndarray, shape (N, D)
    labels : ndarray of int, shape (N,)
    regularization : float
    n_classes : int
        C; ignored when `weights0` is given.
    intercept : bool
        Learn an unregularised bias (weights then have D + 1 rows).
    weights0 : ndarray, shape (D [+ 1], C), optional
        Warm start; zeros by default (J is convex, so the start only changes the time).
    rel_tol, max_iter : see `utils.lbfgs.minimize_lbfgs`.

    Returns
    -------
    weights : ndarray, shape (D [+ 1], C)
    info : dict
        As returned by `utils.lbfgs.minimize_lbfgs`.
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    D = features.shape[1]
    if weights0 is None:
        weights0 = np.zeros((D + bool(intercept), n_classes))
    shape = weights0.shape
    precondition = softmax_hessian_preconditioner(features, regularization, shape[1], intercept)

    def objective(w_flat):  # (P,) -> cost, (P,)
        cost, grad = softmaxRegression(features, labels, w_flat.reshape(shape), regularization,
                                       nopredictions=True, intercept=intercept)
        return cost, grad.ravel()

    w_flat, info = minimize_lbfgs(objective, weights0.ravel(), rel_tol=rel_tol, max_iter=max_iter,
                                  precondition=precondition)
    return w_flat.reshape(shape), info


def predict(features, weights, intercept=False):
    """Arg-max class for features (N, D) and weights (D [+ 1], C); returns (N,) ints."""
    features = np.asarray(features, dtype=np.float64)
    D = features.shape[1]
    scores = features @ weights[:D]          # (N, D) @ (D, C) -> (N, C)
    if intercept:
        scores = scores + weights[D]
    return np.argmax(scores, axis=1)


# ---- self-test --------------------------------------------------------------
def _self_test():
    rng = np.random.default_rng(SEED)
    np.random.seed(SEED)  # gradcheck_naive restores the global state around f

    print("hand-checkable value: W = 0 gives cost log(5), grad = X^T (1/5 - onehot) / N")
    X = np.array([[1.0, 2.0], [3.0, -1.0]])                       # (2, 2)
    y = np.array([0, 3])
    cost, grad, pred = softmaxRegression(X, y, np.zeros((2, 5)))
    expected = X.T @ (np.full((2, 5), 0.2) - np.eye(5)[y]) / 2     # (2, 5)
    assert np.isclose(cost, np.log(5)), cost
    assert grad.shape == expected.shape and np.allclose(grad, expected) and pred.shape == (2,), grad
    cost_reg, _ = softmaxRegression(X, y, np.ones((2, 5)), 2.0, nopredictions=True)
    assert np.isclose(cost_reg, np.log(5) + 0.5 * 2.0 * 10), cost_reg  # equal scores, ||W||^2 = 10

    print("gradient check, regularization 1.0, random features (no trained vectors needed):")
    features = rng.standard_normal((10, 10))                      # (N, D)
    labels = rng.integers(0, 5, size=10)                          # (N,)
    weights = 0.1 * rng.standard_normal((10, 5))                  # (D, C)
    assert gradcheck_naive(lambda w: softmax_wrapper(features, labels, w, 1.0), weights), \
        "gradient check failed (reg 1.0)"
    print("gradient check, regularization 0.3, with intercept:")
    weights_b = 0.1 * rng.standard_normal((11, 5))                # (D + 1, C)
    assert gradcheck_naive(lambda w: softmaxRegression(features, labels, w, 0.3, nopredictions=True,
                                                       intercept=True), weights_b), \
        "gradient check failed (with intercept)"

    print("extreme scores (+-1000) give finite cost and gradient, no warnings:")
    with warnings.catch_warnings(action="error"):
        c, g = softmaxRegression(np.array([[1000.0], [-1000.0]]), np.array([1, 0]),
                                 np.array([[1.0, -1.0]]), nopredictions=True)
    assert np.isfinite(c) and np.isclose(c, 2000.0) and np.all(np.isfinite(g)), (c, g)

    print("features: unknown words skipped, no known word -> zeros, batch version agrees:")
    tokens = {"good": 0, "bad": 1}
    vecs = np.array([[1.0, 2.0], [3.0, 6.0]])                     # (V, D)
    assert np.allclose(getSentenceFeatures(tokens, vecs, ["good", "zzz", "bad"]), [2.0, 4.0])
    assert np.array_equal(getSentenceFeature(tokens, vecs, ["zzz"]), np.zeros(2))
    sents = [["good"], [], ["zzz"], ["bad", "bad", "good"]]
    batch = sentence_features(tokens, vecs, sents)
    assert batch.shape == (4, 2)
    assert np.allclose(batch, [getSentenceFeatures(tokens, vecs, s) for s in sents])

    print("tiny separable problem learnt to 100 %:")
    angles = 2 * np.pi * np.arange(5) / 5
    centres = 4.0 * np.column_stack([np.cos(angles), np.sin(angles)])  # (5, D = 2): a pentagon
    y_sep = np.repeat(np.arange(5), 20)                            # (100,)
    X_sep = centres[y_sep] + 0.3 * rng.standard_normal((100, 2))   # (100, 2)
    W, info = fit_softmax_regression(X_sep, y_sep, 1e-3)
    acc = accuracy(y_sep, predict(X_sep, W))
    print(f"    train accuracy {acc:.2f} % after {info['iterations']} L-BFGS iterations "
          f"({info['reason']})")
    assert info["converged"] and acc == 100.0, (acc, info)
    assert accuracy([0, 1, 2, 3], [0, 1, 0, 0]) == 50.0
    print("q4_softmaxreg: all checks passed")


if __name__ == "__main__":
    try:
        _self_test()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
