"""q2_sigmoid: hand values, exact tails without warnings, derivative by finite differences."""
import warnings

import numpy as np

from q2_sigmoid import sigmoid, sigmoid_grad


def test_hand_values():
    s = sigmoid(np.array([[1, 2], [-1, -2]]))
    assert s.shape == (2, 2)
    assert np.allclose(s, [[0.73105858, 0.88079708], [0.26894142, 0.11920292]])
    g = sigmoid_grad(s)
    assert g.shape == (2, 2)
    assert np.allclose(g, [[0.19661193, 0.10499359], [0.19661193, 0.10499359]])
    assert sigmoid(0) == 0.5
    assert sigmoid_grad(0.5) == 0.25


def test_extremes_exact_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000, 1000, -745.2, 745.2, -1e308, 1e308]))
    assert s.shape == (6,)
    assert s[0] == 0.0 and s[1] == 1.0 and s[4] == 0.0 and s[5] == 1.0
    assert 0.0 <= s[2] < 1e-300 and s[3] == 1.0


def test_integer_input_and_shape():
    x = np.arange(-3, 3).reshape(2, 3)
    s = sigmoid(x)
    assert s.shape == (2, 3) and s.dtype == np.float64
    assert np.allclose(s + sigmoid(-x), 1.0)


def test_grad_takes_output_not_input():
    x = np.linspace(-6, 6, 25)
    h = 1e-6
    numeric = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
    analytic = sigmoid_grad(sigmoid(x))
    assert analytic.shape == numeric.shape
    assert np.allclose(analytic, numeric, atol=1e-9)
    # feeding x instead of sigmoid(x) would be wrong, and must differ
    assert not np.allclose(sigmoid_grad(x), numeric)
