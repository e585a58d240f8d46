"""Question 2(a): the sigmoid and its derivative.

sigma(x) = 1 / (1 + exp(-x)) overflows in exp(-x) for large negative x, so
we evaluate it as exp(x) / (1 + exp(x)) there: each branch only ever
exponentiates a non-positive number. The derivative is
sigma'(x) = sigma(x) (1 - sigma(x)), computed from the sigmoid *output*.
"""
import sys
import warnings

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from utils.arg_checks import as_array  # noqa: E402


def sigmoid(x):
    """Elementwise logistic sigmoid, overflow-free.

    Parameters
    ----------
    x : array_like or scalar, any shape

    Returns
    -------
    s : ndarray of float, same shape as `x` (a float for a scalar input)
        1 / (1 + exp(-x)); exactly 0.0 and 1.0 in the far tails, no warnings.
    """
    x = as_array("sigmoid", "x", x)
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    s = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return s if s.ndim else float(s)


def sigmoid_grad(s):
    """Derivative of the sigmoid, given its output.

    Parameters
    ----------
    s : array_like, any shape
        Values of sigmoid(x), not x itself.

    Returns
    -------
    ds : ndarray, same shape as `s`
        s * (1 - s) = sigma'(x).
    """
    s = as_array("sigmoid_grad", "s", s)
    ds = s * (1.0 - s)
    return ds if ds.ndim else float(ds)


def _self_test():
    def check(name, got, expected):
        got, expected = np.asarray(got), np.asarray(expected)
        assert got.shape == expected.shape, f"{name}: shape {got.shape} != {expected.shape}"
        assert np.allclose(got, expected, rtol=1e-6, atol=1e-8), f"{name}: {got} != {expected}"
        print(f"ok  {name}")

    x = np.array([[1, 2], [-1, -2]])
    s = sigmoid(x)
    check("sigmoid([[1, 2], [-1, -2]])", s, [[0.73105858, 0.88079708], [0.26894142, 0.11920292]])
    check("sigmoid_grad(sigmoid(...))", sigmoid_grad(s),
          [[0.19661193, 0.10499359], [0.19661193, 0.10499359]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail here
        tails = sigmoid(np.array([-1000.0, 1000.0, -1e308, 1e308]))
    assert tails.tolist() == [0.0, 1.0, 0.0, 1.0], f"tails not exact: {tails}"
    print("ok  sigmoid(+-1000) is exactly 0/1 with no warning")
    check("symmetry sigma(-x) = 1 - sigma(x)", sigmoid(-np.linspace(-30, 30, 61)),
          1 - sigmoid(np.linspace(-30, 30, 61)))
    assert sigmoid(0) == 0.5 and isinstance(sigmoid(0), float)
    print("ok  sigmoid(0) == 0.5 (scalar in, float out)")
    h = 1e-6
    xs = np.linspace(-5, 5, 11)
    numeric = (sigmoid(xs + h) - sigmoid(xs - h)) / (2 * h)
    check("sigmoid_grad matches centred differences", sigmoid_grad(sigmoid(xs)), numeric)
    print("q2_sigmoid: all checks passed")


if __name__ == "__main__":
    try:
        _self_test()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
