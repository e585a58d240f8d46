"""Question 1: a numerically stable softmax.

softmax(x)_i = exp(x_i) / sum_j exp(x_j). Adding a constant c to every input
leaves the result unchanged (the factor exp(c) cancels), so we subtract the
row maximum first: the largest exponent becomes exp(0) = 1 and nothing can
overflow, whatever the scale of x (see ANSWERS.md, question 1a).
"""
import sys
import warnings

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from utils.arg_checks import as_array  # noqa: E402


def softmax(x):
    """Softmax of a vector, or of each row of a matrix.

    Parameters
    ----------
    x : array_like, shape (D,) or (N, D)
        Scores. Integer input is accepted and converted to float.

    Returns
    -------
    y_hat : ndarray of float, same shape as `x`
        Probabilities; each row (or the vector) sums to 1. `x` is not modified.
        Infinite scores give the limit: a row holding +inf is uniform over its
        +inf entries (one-hot when there is one), and -inf entries get 0.

    Raises
    ------
    ValueError
        If `x` is not 1-D or 2-D, has no columns, holds a NaN, or has a row of only -inf
        (no limit exists: the row has no probabilities), naming the row.
    """
    x = as_array("softmax", "x", x, dtype=None)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"softmax expects a 1-D vector or a 2-D matrix (N, D) with D >= 1 scores; "
                         f"got shape {x.shape}")
    x = x.astype(np.float64) if not np.issubdtype(x.dtype, np.floating) else x
    m = np.max(x, axis=-1, keepdims=True)      # (N, 1) or (1,): the row maximum (NaN if the row has one)
    if not np.all(np.isfinite(m)):             # only for NaN or infinite input: normal input skips it
        x, m = _infinite_limit(x, m)
    with np.errstate(over="ignore"):           # x - m <= 0 can only overflow to -inf, whose exp is 0
        z = x - m                              # (N, D) or (D,): max-shifted, all <= 0
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def _infinite_limit(x, m):
    """(x, m) with every row that holds +inf replaced by its limit: 0 at the +inf entries, -inf elsewhere.

    x : (N, D) or (D,); m : its row maxima, (N, 1) or (1,). A ValueError for NaN or a row of only -inf.
    """
    def where(flags):
        return f"row {np.flatnonzero(flags)[0]}" if x.ndim == 2 else "the vector"
    if np.any(np.isnan(m)):                    # np.max propagates NaN, so m flags every NaN row
        raise ValueError(f"softmax: {where(np.isnan(m))} holds NaN; scores must be numbers or +-inf")
    if np.any(m == -np.inf):
        raise ValueError(f"softmax: {where(m == -np.inf)} is all -inf, so every probability would be "
                         "0/0; give it at least one score above -inf")
    plus = m == np.inf                         # rows where the +inf entries share all the probability
    return np.where(plus, np.where(x == np.inf, 0.0, -np.inf), x), np.where(plus, 0.0, m)


def _self_test():
    checks = []

    def check(name, got, expected, atol=1e-6):
        got, expected = np.asarray(got), np.asarray(expected)
        assert got.shape == expected.shape, f"{name}: shape {got.shape} != {expected.shape}"
        assert np.allclose(got, expected, rtol=1e-5, atol=atol), f"{name}: {got} != {expected}"
        checks.append(name)
        print(f"ok  {name}")

    ref = np.array([0.26894142, 0.73105858])
    check("softmax([1, 2])", softmax(np.array([1, 2])), ref)
    check("rows of [[1001, 1002], [3, 4]]", softmax(np.array([[1001, 1002], [3, 4]])), np.vstack([ref, ref]))
    check("[[-1001, -1002]]", softmax(np.array([[-1001, -1002]])), ref[None, ::-1])

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 7))
    check("shift invariance (+123.4)", softmax(x + 123.4), softmax(x))
    check("rows sum to 1", softmax(x).sum(axis=1), np.ones(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow, nan) fails
        extreme = softmax(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]))
    check("+-1e4 without warnings", extreme, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    x_before = x.copy()
    softmax(x)
    assert np.array_equal(x, x_before), "softmax modified its input"
    checks.append("input untouched")
    print("ok  input untouched")
    print(f"q1_softmax: all {len(checks)} checks passed")


if __name__ == "__main__":
    try:
        _self_test()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
