"""q2_gradcheck.gradcheck_naive: passes right gradients, rejects wrong ones, handles randomness."""
import random

import numpy as np
import pytest

from q2_gradcheck import gradcheck_naive


def quad(x):
    return np.sum(x ** 2), 2 * x


@pytest.mark.parametrize("x", [np.array(4.0), np.random.default_rng(0).standard_normal(5),
                               np.random.default_rng(1).standard_normal((3, 4))])
def test_passes_quadratics(x):
    assert gradcheck_naive(quad, x, verbose=False) is True


def test_rejects_wrong_gradient_and_names_the_index(capsys):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])

    def wrong(x):  # correct except at (1, 0)
        g = 2 * x
        g[1, 0] += 0.01
        return np.sum(x ** 2), g

    assert gradcheck_naive(wrong, x) is False
    out = capsys.readouterr().out
    assert "(1, 0)" in out and "6.01" in out and "Gradient check failed" in out


def test_where_names_the_failing_element_in_words(capsys):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])

    def wrong(x):  # correct except at (1, 0)
        g = 2 * x
        g[1, 0] += 0.01
        return np.sum(x ** 2), g

    assert gradcheck_naive(wrong, x, where=lambda ix: f"row {ix[0]} of the test, column {ix[1]}") \
        is False
    out = capsys.readouterr().out
    assert "row 1 of the test, column 0" in out, out


def test_rejects_sign_error():
    assert gradcheck_naive(lambda x: (np.sum(x ** 3), -3 * x ** 2), np.array([0.5, 1.5]),
                           verbose=False) is False


def test_rejects_nan_gradient_and_nan_cost():
    x = np.ones(3)
    assert gradcheck_naive(lambda x: (np.sum(x), np.full(3, np.nan)), x, verbose=False) is False
    assert gradcheck_naive(lambda x: (np.nan, np.ones(3)), x, verbose=False) is False


def test_stochastic_cost_is_checkable():
    # draws from both generators inside f: without the state restore this check fails
    def f(x):
        w = np.random.rand(*x.shape) + random.random()
        return np.sum(w * x ** 2), 2 * w * x

    np.random.seed(3)
    random.seed(3)
    assert gradcheck_naive(f, np.random.randn(4, 3), verbose=False)


def test_leaves_x_and_generators_as_one_call_of_f():
    x = np.random.default_rng(2).standard_normal(4)
    x_before = x.copy()

    def f(x):
        np.random.rand()
        random.random()
        return np.sum(x ** 2), 2 * x

    np.random.seed(5)
    random.seed(5)
    gradcheck_naive(f, x, verbose=False)
    after = (np.random.rand(), random.random())
    np.random.seed(5)
    random.seed(5)
    f(x)
    expected = (np.random.rand(), random.random())
    assert np.array_equal(x, x_before)
    assert after == expected


def test_integer_x_is_checked_as_float():
    x = np.array([1, 2, 3])
    assert gradcheck_naive(quad, x, verbose=False)
    assert x.dtype.kind == "i" and x.tolist() == [1, 2, 3]


def test_gradient_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        gradcheck_naive(lambda x: (np.sum(x), np.ones(x.size + 1)), np.ones(3))
