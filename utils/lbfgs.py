"""L-BFGS: the optimiser that trains question 4's softmax regression to convergence.

The course trains the classifier with fixed-step ``q3_sgd.sgd``. The objective of
``q4_softmaxreg.softmaxRegression`` is smooth and, for reg > 0, strictly convex. A
full-batch quasi-Newton method therefore reaches its optimum in a few dozen steps,
where fixed-step descent takes thousands. That is what lets ``q4_sentiment.py``
train a whole grid of regularization values in a few seconds.

``minimize_lbfgs`` is a general minimiser of ``f(x) -> (cost, grad)``: limited-memory
BFGS with an Armijo backtracking line search, started from a caller's model of the
inverse Hessian (``precondition``). It stops when the relative change of the objective
between two iterations falls below ``rel_tol``.

This module knows nothing about sentences, word vectors or softmax regression:
``q4_softmaxreg.fit_softmax_regression`` builds the objective and its preconditioner
(``q4_softmaxreg.softmax_hessian_preconditioner``) and calls ``minimize_lbfgs``.
"""
import numpy as np

# ---- hyper-parameters -------------------------------------------------------
REL_TOL = 1e-9            # stop when |J_prev - J| / max(|J|, |J_prev|, 1e-12) < REL_TOL
MAX_ITER = 5000           # safety cap on L-BFGS iterations (each = one cost+grad, usually)
LBFGS_MEMORY = 10         # number of (s, y) correction pairs kept
ARMIJO_C1 = 1e-4          # sufficient-decrease constant of the backtracking line search
BACKTRACK = 0.5           # step shrink factor when the Armijo condition fails
MAX_BACKTRACKS = 50       # 0.5**50 ~ 1e-15: after that the direction is useless


def minimize_lbfgs(f, x0, rel_tol=REL_TOL, max_iter=MAX_ITER, memory=LBFGS_MEMORY,
                   precondition=None):
    """Minimise a smooth function with L-BFGS and Armijo backtracking.

    Parameters
    ----------
    f : callable
        ``f(x) -> (cost, grad)`` for x of shape (P,); cost is a float, grad has shape (P,).
    x0 : ndarray, shape (P,)
        Starting point (not modified).
    rel_tol : float
        Stop when ``|J_prev - J| / max(|J|, |J_prev|, 1e-12) < rel_tol``.
        With 0 the run goes on until J stops decreasing (machine precision).
    max_iter : int
        Iteration cap; reaching it is reported as not converged.
    memory : int
        Number of correction pairs (s, y), each two arrays of shape (P,), kept.
    precondition : callable, optional
        ``precondition(v) -> M^{-1} v`` for v of shape (P,) and a fixed symmetric
        positive definite M (P, P) that approximates the Hessian; it becomes the
        initial inverse Hessian of every L-BFGS step (identity when None).

    Returns
    -------
    x : ndarray, shape (P,)
        The last accepted point.
    info : dict
        ``cost`` (final J, float), ``iterations``, ``evaluations`` (calls of f),
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
    """L-BFGS two-loop recursion: H g for the inverse-Hessian approximation H.

    Parameters
    ----------
    g : ndarray, shape (P,)
        Gradient (not modified).
    S, Y : lists of ndarray, shape (P,) each
        Steps and gradient changes, oldest first.
    precondition : callable, optional
        ``v -> M^{-1} v``, the initial inverse Hessian up to a scale (identity when None).

    Returns
    -------
    Hg : ndarray, shape (P,)
    """
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
