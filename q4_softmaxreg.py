"""Question 4(a): sentence features and an L2-regularised softmax regression.

A sentence is represented by the average of its word vectors; a linear
softmax classifier maps that (D,) feature to the 5 sentiment classes.

Model, for N sentences with features X (N, D) and labels y (N,):

    scores = X W (+ b)                  (N, C)
    y_hat  = softmax(scores)            (N, C)
    J(W)   = mean_i -log y_hat[i, y_i] + 0.5 * reg * ||W||^2

The gradient is dJ/dW = X^T delta + reg * W with delta = (y_hat - onehot(y)) / N,
and dJ/db = sum_i delta_i. The bias b (intercept) is optional and never
regularised: penalising it would pull the predicted class frequencies towards
uniform for no reason (the SST classes are not balanced). With weights of
shape (D + 1, C) and ``intercept=True`` the last row of the weights is b, so
the classic call ``softmaxRegression(features, labels, weights, reg)`` keeps
working unchanged for (D, C) weights.

Training. J is smooth and, for reg > 0, strictly convex, so a full-batch
quasi-Newton method reaches the optimum in a few dozen steps: ``fit_softmax_regression``
runs ``minimize_lbfgs`` (L-BFGS, written here, with an Armijo backtracking line
search, preconditioned by the feature covariance) and stops when the relative
change of J between two iterations falls below ``rel_tol``. ``softmax_wrapper``
is the classic (cost, grad) function for ``q3_sgd.sgd``, kept for the course's
fixed-step route.
"""
import sys
import warnings

import numpy as np

from q2_gradcheck import gradcheck_naive

# ---- hyper-parameters -------------------------------------------------------
SEED = 314                # self-test data
REL_TOL = 1e-9            # stop when |J_prev - J| / max(|J|, |J_prev|, 1e-12) < REL_TOL
MAX_ITER = 5000           # safety cap on L-BFGS iterations (each = one cost+grad, usually)
LBFGS_MEMORY = 10         # number of (s, y) correction pairs kept
ARMIJO_C1 = 1e-4          # sufficient-decrease constant of the backtracking line search
BACKTRACK = 0.5           # step shrink factor when the Armijo condition fails
MAX_BACKTRACKS = 50       # 0.5**50 ~ 1e-15: after that the direction is useless


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
        Mean of the known words' vectors; zeros when no word is known
        (including the empty sentence), without a warning.
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
def minimize_lbfgs(f, x0, rel_tol=REL_TOL, max_iter=MAX_ITER, memory=LBFGS_MEMORY,
                   precondition=None):
    """Minimise a smooth function with L-BFGS and Armijo backtracking.

    Parameters
    ----------
    f : callable
        ``f(x) -> (cost, grad)`` for x of shape (P,).
    x0 : ndarray, shape (P,)
        Starting point (not modified).
    rel_tol : float
        Stop when ``|J_prev - J| / max(|J|, |J_prev|, 1e-12) < rel_tol``.
        With 0 the run goes on until J stops decreasing (machine precision).
    max_iter : int
        Iteration cap; reaching it is reported as not converged.
    memory : int
        Number of correction pairs kept.
    precondition : callable, optional
        ``precondition(v) -> M^{-1} v`` for a fixed symmetric positive definite M
        that approximates the Hessian; it becomes the initial inverse Hessian
        of every L-BFGS step (identity when None).

    Returns
    -------
    x : ndarray, shape (P,)
    info : dict
        ``cost`` (final J), ``iterations``, ``evaluations`` (calls of f),
        ``converged`` (bool) and ``reason`` (str).
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    cost, g = f(x)
    evaluations, S, Y = 1, [], []          # S, Y: the last `memory` steps and gradient changes
    reason = "max_iter"
    it = 0
    for it in range(1, max_iter + 1):
        if not np.any(g):
            reason = "zero gradient"
            break
        direction = -_two_loop(g, S, Y, precondition)    # (P,): approximate -H^{-1} g
        slope = direction @ g
        if slope >= 0:                     # lost descent (numerical): restart without memory
            S.clear(), Y.clear()
            direction = -_two_loop(g, S, Y, precondition)
            slope = direction @ g
        # Before any curvature is known, a unit step along -g could be huge: scale it.
        step = 1.0 if S else min(1.0, 1.0 / np.sqrt(-slope))
        for _ in range(MAX_BACKTRACKS):
            x_new = x + step * direction
            cost_new, g_new = f(x_new)
            evaluations += 1
            if cost_new <= cost + ARMIJO_C1 * step * slope:
                break
            step *= BACKTRACK
        else:
            reason = "line search failed (at machine precision)"
            break
        s, y = x_new - x, g_new - g
        if s @ y > 1e-12 * np.sqrt((s @ s) * (y @ y)):  # keep only pairs with positive curvature
            S.append(s), Y.append(y)
            if len(S) > memory:
                S.pop(0), Y.pop(0)
        change = abs(cost - cost_new) / max(abs(cost), abs(cost_new), 1e-12)
        decreased = cost_new < cost
        x, cost, g = x_new, cost_new, g_new
        if change < rel_tol:
            reason = "relative change of the objective below rel_tol"
            break
        if not decreased:  # only reachable with rel_tol = 0: J is at machine precision
            reason = "no further decrease (machine precision)"
            break
    # A failed line search means no descent along a descent direction: a wrong gradient, or
    # rel_tol far below machine precision. Either way not "converged" in the sense of rel_tol.
    converged = reason != "max_iter" and "failed" not in reason
    return x, {"cost": float(cost), "iterations": it, "evaluations": evaluations,
               "converged": converged, "reason": reason}


def _two_loop(g, S, Y, precondition=None):
    """L-BFGS two-loop recursion: H g for the inverse-Hessian approximation H. g: (P,)."""
    apply_h0 = precondition if precondition is not None else (lambda v: v)
    q = g.copy()
    alphas = []
    for s, y in zip(reversed(S), reversed(Y)):
        rho = 1.0 / (y @ s)
        alpha = rho * (s @ q)
        q -= alpha * y
        alphas.append((rho, alpha))
    q = apply_h0(q)
    if S:
        # initial H0 = gamma M^{-1}, gamma fitted to the newest pair (Barzilai-Borwein scale)
        q *= (S[-1] @ Y[-1]) / (Y[-1] @ apply_h0(Y[-1]))
    for (s, y), (rho, alpha) in zip(zip(S, Y), reversed(alphas)):
        beta = rho * (y @ q)
        q += (alpha - beta) * s
    return q


def fit_softmax_regression(features, labels, regularization, n_classes=5, intercept=False,
                           weights0=None, rel_tol=REL_TOL, max_iter=MAX_ITER):
    """Train softmax regression to convergence (full-batch L-BFGS).

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
    rel_tol, max_iter : see `minimize_lbfgs`.

    Returns
    -------
    weights : ndarray, shape (D [+ 1], C)
    info : dict
        As returned by `minimize_lbfgs`.
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    D = features.shape[1]
    if weights0 is None:
        weights0 = np.zeros((D + bool(intercept), n_classes))
    shape = weights0.shape
    precondition = _hessian_preconditioner(features, regularization, shape[1], intercept)

    def objective(w_flat):  # (P,) -> cost, (P,)
        cost, grad = softmaxRegression(features, labels, w_flat.reshape(shape), regularization,
                                       nopredictions=True, intercept=intercept)
        return cost, grad.ravel()

    w_flat, info = minimize_lbfgs(objective, weights0.ravel(), rel_tol=rel_tol, max_iter=max_iter,
                                  precondition=precondition)
    return w_flat.reshape(shape), info


def _hessian_preconditioner(features, regularization, n_classes, intercept):
    """M^{-1} v for M = (X~^T X~ / N) / C + reg R, a cheap model of the Hessian of J.

    Averaged word vectors are strongly correlated, so J is badly conditioned and
    plain L-BFGS needs thousands of iterations at small reg. The Hessian of the
    data term is about (X~^T X~ / N) kron (diag(p) - p p^T) with class
    probabilities p ~ 1/C; using the feature part of it (X~ = X with a column of
    ones when there is an intercept, R = identity with 0 for the bias) as the
    L-BFGS initial matrix removes most of that ill-conditioning. Shapes:
    features (N, D), weights and v reshaped to (D [+ 1], C).
    """
    N, D = features.shape
    X = np.hstack([features, np.ones((N, 1))]) if intercept else features   # (N, D')
    gram = X.T @ X / max(N, 1) / n_classes                                   # (D', D')
    penalty = np.full(X.shape[1], float(regularization))
    if intercept:
        penalty[-1] = 0.0                                       # the bias is not penalised
    M = gram + np.diag(penalty)
    M += 1e-10 * max(np.trace(M), 1e-12) / len(M) * np.eye(len(M))  # positive definite at reg 0
    M_inv = np.linalg.inv(M)                                          # (D', D'), D' small
    P = M_inv.shape[0]
    return lambda v: (M_inv @ v.reshape(P, -1)).ravel()                      # (D', D') @ (D', C)


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
    assert grad.shape == expected.shape and np.allclose(grad, expected), grad
    assert pred.shape == (2,)
    cost_reg, _ = softmaxRegression(X, y, np.ones((2, 5)), 2.0, nopredictions=True)
    assert np.isclose(cost_reg, np.log(5) + 0.5 * 2.0 * 10), cost_reg  # equal scores, ||W||^2 = 10

    print("gradient check, regularization 1.0, random features (no trained vectors needed):")
    features = rng.standard_normal((10, 10))                      # (N, D)
    labels = rng.integers(0, 5, size=10)                          # (N,)
    weights = 0.1 * rng.standard_normal((10, 5))                  # (D, C)
    assert gradcheck_naive(lambda w: softmaxRegression(features, labels, w, 1.0,
                                                       nopredictions=True),
                           weights), "gradient check failed (reg 1.0)"
    print("gradient check, regularization 0.3, with intercept:")
    weights_b = 0.1 * rng.standard_normal((11, 5))                # (D + 1, C)
    assert gradcheck_naive(lambda w: softmaxRegression(features, labels, w, 0.3, nopredictions=True,
                                                       intercept=True), weights_b), \
        "gradient check failed (with intercept)"

    print("extreme scores (+-1000) give finite cost and gradient, no warnings:")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
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
