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
(``utils/lbfgs.py``; J is smooth and, for reg > 0, strictly convex), preconditioned by
``softmax_hessian_preconditioner``. ``softmax_wrapper`` is the classic (cost, grad)
function for ``q3_sgd.sgd``, the course's fixed-step route.

Every public function takes lists as well as arrays; a bad argument raises a TypeError,
ValueError or IndexError that names it (``utils/arg_checks.py``).
"""
import sys
import warnings

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from q2_gradcheck import gradcheck_naive
from utils.arg_checks import (as_array, check_count, check_features, check_model,
                              check_nonnegative, check_rows, check_words)
from utils.lbfgs import MAX_ITER, REL_TOL, minimize_lbfgs

SEED = 314  # self-test data
# Largest |feature| that fit_softmax_regression accepts; features are averages of word
# vectors, so |x| <= the largest |value| of a vector. The fit stops when J changes by less
# than rel_tol (1e-9) relative, which leaves a gap to the optimum of about k * rel_tol * J,
# k being how far the preconditioner's curvature is off along the worst direction: one
# feature m among unit-scale ones makes k ~ m^2, so the promised gap of 1e-4 needs m of
# about 1e3 at most. Measured (one sample at +-m, 12 draws): worst gap 7.5e-5 at 1e3,
# 4.3e-4 at 3e3, 2.5e-3 at 1e4. Far beyond, the squares swamp float64 (m^2 * eps ~ 1e-2
# at m ~ 7e6) and L-BFGS stops at a wrong point: one GloVe word at 1e10 gave dev 28 %
# instead of 37 %, with no warning. Trained vectors are of order 1 (GloVe 6B: |x| <= 5.5).
MAX_ABS_FEATURE = 1e3


# ---- sentence features ------------------------------------------------------
def getSentenceFeatures(tokens, wordVectors, sentence):
    """Average of the word vectors of one sentence (readable per-sentence version).

    Parameters
    ----------
    tokens : dict
        word -> row index into `wordVectors`.
    wordVectors : array_like, shape (V, D)
    sentence : list of str
        The words; words missing from `tokens` are skipped.

    Returns
    -------
    sentVector : ndarray, shape (D,)
        Mean of the known words' vectors; zeros, without a warning, if no word is known.
    """
    wordVectors = check_words("getSentenceFeatures", tokens, wordVectors, [sentence])
    rows = [tokens[word] for word in sentence if word in tokens]
    check_rows("getSentenceFeatures", tokens, rows, len(wordVectors))
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
    wordVectors : array_like, shape (V, D)
    sentences : list of lists of str, length N

    Returns
    -------
    features : ndarray, shape (N, D)
    """
    wordVectors = check_words("sentence_features", tokens, wordVectors, sentences)
    D = wordVectors.shape[1]
    # One flat list of the known words' rows and the sentence each belongs to.
    rows = [[tokens[w] for w in s if w in tokens] for s in sentences]
    counts = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))  # (N,)
    flat = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(counts.sum()))
    check_rows("sentence_features", tokens, flat, len(wordVectors))
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
    features : array_like, shape (N, D)
    labels : array_like of int, shape (N,)
        Classes in 0 .. C-1.
    weights : array_like, shape (D, C), or (D + 1, C) with ``intercept=True``
        With an intercept the last row is the bias b (not regularised).
    regularization : float
        reg >= 0 in ``0.5 * reg * ||W||^2``.
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
    features, labels, weights = check_model("softmaxRegression", features, weights, intercept,
                                             labels, regularization)
    N, D = features.shape
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
    y, yhat = as_array("accuracy", "y", y, None), as_array("accuracy", "yhat", yhat, None)
    if y.ndim != 1 or y.shape != yhat.shape:
        raise ValueError(f"accuracy: y and yhat must be (N,) alike; got {y.shape} and {yhat.shape}")
    if y.size == 0:
        raise ValueError("accuracy: no labels given")
    return float(np.mean(y == yhat) * 100.0)


def softmax_wrapper(features, labels, weights, regularization=0.0):
    """(cost, grad) of softmaxRegression, in the form ``q3_sgd.sgd`` expects.

    Shapes as in `softmaxRegression`: features (N, D), labels (N,), weights (D, C).
    """
    cost, grad, _ = softmaxRegression(features, labels, weights, regularization)
    return cost, grad


def predict(features, weights, intercept=False):
    """Arg-max class for features (N, D) and weights (D [+ 1], C); returns (N,) ints."""
    features, _, weights = check_model("predict", features, weights, intercept)
    D = features.shape[1]
    scores = features @ weights[:D]          # (N, D) @ (D, C) -> (N, C)
    if intercept:
        scores = scores + weights[D]
    return np.argmax(scores, axis=1)


# ---- training to convergence -------------------------------------------------
def softmax_hessian_preconditioner(features, regularization, n_classes, intercept=False):
    """v -> M^{-1} v, with M a cheap model of the Hessian of J, for L-BFGS's initial matrix.

    The Hessian of J is about ``(X~^T X~ / N) kron (diag(p) - p p^T) + reg R``, with p the
    class probabilities, X~ the features with a column of ones when there is an intercept
    and R the identity with 0 for the bias. With p ~ 1/C, keeping the feature part:

        M = (X~^T X~ / N) / C + reg R        (D', D'), D' = D [+ 1],

    applied to each of the C columns of the weights. Averaged word vectors are strongly
    correlated, so J is badly conditioned: plain L-BFGS needs thousands of iterations at
    small reg; with M, a few dozen.

    Parameters
    ----------
    features : array_like, shape (N, D)
    regularization : float
    n_classes : int
    intercept : bool

    Returns
    -------
    precondition : callable
        (D' * C,) -> (D' * C,), the flattened (D', C) weights.
    """
    features = check_features("softmax_hessian_preconditioner", features, intercept, regularization)
    check_count("softmax_hessian_preconditioner", "n_classes", n_classes, 1)
    N = features.shape[0]
    X = np.hstack([features, np.ones((N, 1))]) if intercept else features   # (N, D')
    penalty = np.full(X.shape[1], float(regularization))
    if intercept:
        penalty[-1] = 0.0                                       # the bias is not penalised
    M = X.T @ X / max(N, 1) / n_classes + np.diag(penalty)      # (D', D')
    M += 1e-10 * max(np.trace(M), 1e-12) / len(M) * np.eye(len(M))  # positive definite at reg 0
    M_inv = np.linalg.inv(M)                                    # (D', D'), D' small
    return lambda v: (M_inv @ v.reshape(len(M_inv), -1)).ravel()   # (D', D') @ (D', C)


def fit_softmax_regression(features, labels, regularization, n_classes=5, intercept=False,
                           weights0=None, rel_tol=REL_TOL, max_iter=MAX_ITER):
    """Train softmax regression to convergence: build J(W) and run `utils.lbfgs.minimize_lbfgs`.

    Parameters
    ----------
    features : array_like, shape (N, D)
        |values| <= MAX_ABS_FEATURE (see its comment); a ValueError otherwise.
    labels : array_like of int, shape (N,)
    regularization : float
    n_classes : int
        C >= 2; ignored when `weights0` is given.
    intercept : bool
        Learn an unregularised bias (weights then have D + 1 rows).
    weights0 : array_like, shape (D [+ 1], C), optional
        Warm start; zeros by default (J is convex, so the start only changes the time).
    rel_tol, max_iter : see `utils.lbfgs.minimize_lbfgs`.

    Returns
    -------
    weights : ndarray, shape (D [+ 1], C)
    info : dict
        As returned by `utils.lbfgs.minimize_lbfgs`.
    """
    check_count("fit_softmax_regression", "n_classes", n_classes, 2)
    check_count("fit_softmax_regression", "max_iter", max_iter, 1)
    check_nonnegative("fit_softmax_regression", "rel_tol", rel_tol)
    if weights0 is None:
        D = np.shape(features)[1] if np.ndim(features) == 2 else 0  # other shapes: refused below
        weights0 = np.zeros((D + bool(intercept), n_classes))
    features, labels, weights0 = check_model("fit_softmax_regression", features, weights0,
                                              intercept, labels, regularization)
    largest = np.max(np.abs(features), initial=0.0)
    if not largest <= MAX_ABS_FEATURE:   # NaN too
        raise ValueError(f"fit_softmax_regression: features hold {largest:.3g}; the fit handles "
                         f"finite |x| <= {MAX_ABS_FEATURE:g} (see MAX_ABS_FEATURE; word vectors "
                         "are of order 1): check them, or scale them down")
    shape = weights0.shape
    precondition = softmax_hessian_preconditioner(features, regularization, shape[1], intercept)

    def objective(w_flat):  # (P,) -> cost, (P,)
        cost, grad = softmaxRegression(features, labels, w_flat.reshape(shape), regularization,
                                       nopredictions=True, intercept=intercept)
        return cost, grad.ravel()

    w_flat, info = minimize_lbfgs(objective, weights0.ravel(), rel_tol=rel_tol, max_iter=max_iter,
                                  precondition=precondition)
    return w_flat.reshape(shape), info


# ---- self-test --------------------------------------------------------------
def _verdict(what, ok):
    """One self-test line: what was checked, then passed or FAILED (which stops the test)."""
    print(f"{what}: {'passed' if ok else 'FAILED'}")
    if not ok:
        raise AssertionError(what)


def _self_test():
    rng = np.random.default_rng(SEED)
    np.random.seed(SEED)  # gradcheck_naive restores the global state around f

    X = np.array([[1.0, 2.0], [3.0, -1.0]])                       # (2, 2)
    y = np.array([0, 3])
    cost, grad, pred = softmaxRegression(X, y, np.zeros((2, 5)))
    expected = X.T @ (np.full((2, 5), 0.2) - np.eye(5)[y]) / 2     # (2, 5)
    cost_reg, _ = softmaxRegression(X, y, np.ones((2, 5)), 2.0, nopredictions=True)
    _verdict("value by hand: W = 0 gives cost log 5 and grad X^T (1/5 - onehot) / N; "
             "reg 2, W = 1 adds 10", np.isclose(cost, np.log(5)) and grad.shape == expected.shape
             and np.allclose(grad, expected) and pred.shape == (2,)
             and np.isclose(cost_reg, np.log(5) + 0.5 * 2.0 * 10))

    features = rng.standard_normal((10, 10))                      # (N, D)
    labels = rng.integers(0, 5, size=10)                          # (N,)
    weights = 0.1 * rng.standard_normal((10, 5))                  # (D, C)
    _verdict("gradient check, regularization 1.0, random features", gradcheck_naive(
        lambda w: softmax_wrapper(features, labels, w, 1.0), weights, verbose=False))
    weights_b = 0.1 * rng.standard_normal((11, 5))                # (D + 1, C)
    _verdict("gradient check, regularization 0.3, with intercept", gradcheck_naive(
        lambda w: softmaxRegression(features, labels, w, 0.3, nopredictions=True,
                                    intercept=True), weights_b, verbose=False))

    with warnings.catch_warnings():                               # any warning is an error
        warnings.simplefilter("error")
        c, g = softmaxRegression(np.array([[1000.0], [-1000.0]]), np.array([1, 0]),
                                 np.array([[1.0, -1.0]]), nopredictions=True)
    _verdict("extreme scores (+-1000): finite cost 2000 and gradient, no warning",
             np.isclose(c, 2000.0) and np.all(np.isfinite(g)))

    tokens = {"good": 0, "bad": 1}
    vecs = np.array([[1.0, 2.0], [3.0, 6.0]])                     # (V, D)
    sents = [["good"], [], ["zzz"], ["bad", "bad", "good"]]
    batch = sentence_features(tokens, vecs, sents)
    _verdict("features: unknown words skipped, no known word gives zeros, batch version agrees",
             np.allclose(getSentenceFeatures(tokens, vecs, ["good", "zzz", "bad"]), [2.0, 4.0])
             and np.array_equal(getSentenceFeature(tokens, vecs, ["zzz"]), np.zeros(2))
             and batch.shape == (4, 2)
             and np.allclose(batch, [getSentenceFeatures(tokens, vecs, s) for s in sents]))

    angles = 2 * np.pi * np.arange(5) / 5
    centres = 4.0 * np.column_stack([np.cos(angles), np.sin(angles)])  # (5, D = 2): a pentagon
    y_sep = np.repeat(np.arange(5), 20)                            # (100,)
    X_sep = centres[y_sep] + 0.3 * rng.standard_normal((100, 2))   # (100, 2)
    W, info = fit_softmax_regression(X_sep, y_sep, 1e-3)
    acc = accuracy(y_sep, predict(X_sep, W))
    _verdict(f"tiny separable problem: train accuracy {acc:.2f} % after {info['iterations']} "
             f"L-BFGS iterations ({info['reason']})", info["converged"] and acc == 100.0
             and accuracy([0, 1, 2, 3], [0, 1, 0, 0]) == 50.0)
    print("q4_softmaxreg: all checks passed")


if __name__ == "__main__":
    try:
        _self_test()
    except AssertionError as err:
        print(f"q4_softmaxreg: FAILED: {err}", file=sys.stderr)
        sys.exit(1)
