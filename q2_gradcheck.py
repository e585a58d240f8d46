"""Question 2(b): a naive gradient checker by centred finite differences.

For every element x_i we compare the analytic derivative with
(f(x + h e_i) - f(x - h e_i)) / 2h. A stochastic cost (negative sampling)
draws random numbers inside f, so before *every* call of f we put Python's
`random` and NumPy's global random state back to what they were on entry:
each evaluation then sees the same samples and the difference is smooth.

Decision: `gradcheck_naive` *returns* True or False (it does not raise) and,
on failure, prints the first failing index with both values. Callers that
must not pass silently (the self-tests, pytest) assert on the result.
"""
import random
import sys

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from utils.arg_checks import as_array, check_callable, check_positive, cost_and_grad  # noqa: E402

H = 1e-4            # finite-difference step
TOLERANCE = 1e-5    # on |num - grad| / max(1, |num|, |grad|)


def gradcheck_naive(f, x, h=H, tol=TOLERANCE, verbose=True, where=None):
    """Check the gradient that `f` returns against centred differences.

    Parameters
    ----------
    f : callable
        ``f(x) -> (cost, grad)`` with a scalar cost and ``grad`` of ``x.shape``.
    x : ndarray, any shape (a 0-d array for a scalar)
        Point at which to check. It is left exactly as it came in: `f` is
        evaluated on a float64 copy.
    h, tol : float
        Step and tolerance on the relative error
        ``|num - grad| / max(1, |num|, |grad|)``.
    verbose : bool
        Print one line on success and the failing element on failure.
    where : callable or None
        ``where(ix) -> str`` names index `ix` (a tuple) in the failure message, e.g. "output
        vector of word 'a', dimension 0" for a stacked (2W, D) matrix; None: the index alone.

    Returns
    -------
    ok : bool
        True when every element agrees within `tol`.
    """
    check_callable("gradcheck_naive", "f", f)
    check_positive("gradcheck_naive", "h", h)
    check_positive("gradcheck_naive", "tol", tol)
    x_work = as_array("gradcheck_naive", "x", x).copy()   # float64: caller's x is never touched
    py_state = random.getstate()
    np_state = np.random.get_state()

    def call(point):
        random.setstate(py_state)
        np.random.set_state(np_state)
        return f(point)

    fx, grad = cost_and_grad("gradcheck_naive", call(x_work), x_work.shape)
    # f may consume random numbers: on return, leave both generators as one call of f leaves them
    py_after, np_after = random.getstate(), np.random.get_state()
    finite = bool(np.isfinite(fx))
    if not finite and verbose:
        print(f"Gradient check failed: cost at x is {fx}")
    ok = finite and _compare_all(call, x_work, grad, h, tol, verbose, where)
    random.setstate(py_after)
    np.random.set_state(np_after)
    if ok and verbose:
        print("Gradient check passed!")
    return ok


def _compare_all(call, x_work, grad, h, tol, verbose, where):
    """Centred difference at every index of x_work; False at the first mismatch."""
    for ix in np.ndindex(x_work.shape):   # every element, any shape (() for a scalar)
        original = x_work[ix]
        x_work[ix] = original + h
        f_plus = call(x_work)[0]
        x_work[ix] = original - h
        f_minus = call(x_work)[0]
        x_work[ix] = original                # exact restore, no += h drift
        numgrad = (f_plus - f_minus) / (2 * h)
        reldiff = abs(numgrad - grad[ix]) / max(1.0, abs(numgrad), abs(grad[ix]))
        if not reldiff <= tol:               # also catches NaN
            if verbose:
                print("Gradient check failed.")
                print(f"First gradient error found at {where(ix)} (index {ix})" if where else
                      f"First gradient error found at index {ix}")
                print(f"Your gradient: {grad[ix]:.10g} \t Numerical gradient: {numgrad:.10g}")
            return False
    return True


def _self_test():
    quad = lambda x: (np.sum(x ** 2), 2 * x)  # noqa: E731  (cost, gradient)
    print("scalar:")
    assert gradcheck_naive(quad, np.array(123.456))
    print("1-D:")
    assert gradcheck_naive(quad, np.random.randn(3))
    print("2-D:")
    assert gradcheck_naive(quad, np.random.randn(4, 5))

    def stochastic(x):  # cost depends on random draws: only checkable with state restore
        w = np.random.randn(*x.shape) + random.random()
        return np.sum(w * x ** 2), 2 * w * x
    print("stochastic cost (NumPy and Python random inside f):")
    assert gradcheck_naive(stochastic, np.random.randn(3, 2))

    print("deliberately wrong gradient (must be reported as a failure):")
    wrong = lambda x: (np.sum(x ** 2), 2 * x + 1e-3)  # noqa: E731
    assert not gradcheck_naive(wrong, np.random.randn(3))
    print("q2_gradcheck: all checks passed")


if __name__ == "__main__":
    np.random.seed(0)
    random.seed(0)
    try:
        _self_test()
    except AssertionError:
        print("FAILED: a gradient check gave the wrong verdict", file=sys.stderr)
        sys.exit(1)
