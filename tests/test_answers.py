"""Formulas stated in ANSWERS.md that the code does not compute directly, checked numerically."""
import numpy as np

from q1_softmax import softmax
from q2_gradcheck import gradcheck_naive
from q2_neural import forward_backward_prop, param_count, unpack_params
from q2_sigmoid import sigmoid


def test_2c_input_gradient():
    # ANSWERS 2(c): dJ/dx = delta1 W1^T, delta1 = (delta2 W2^T) * h * (1 - h), delta2 = y_hat - y
    rng = np.random.default_rng(7)
    dims = [4, 3, 5]
    params = rng.standard_normal(param_count(dims))
    labels = np.zeros((2, 5))
    labels[[0, 1], [2, 4]] = 1
    W1, b1, W2, b2 = unpack_params(params, dims)

    def cost_and_input_grad(x):  # x: (N, Dx)
        cost, _ = forward_backward_prop(x, labels, params, dims)
        h = sigmoid(x @ W1 + b1)                        # (N, H)
        z2 = h @ W2 + b2                                # (N, Dy)
        y_hat = softmax(z2)                             # (N, Dy)
        delta2 = y_hat - labels                         # (N, Dy)
        delta1 = (delta2 @ W2.T) * h * (1 - h)          # (N, H)
        return cost, delta1 @ W1.T                      # (N, Dx)

    x = rng.standard_normal((2, 4))
    assert cost_and_input_grad(x)[1].shape == x.shape
    assert gradcheck_naive(cost_and_input_grad, x, verbose=False)


def test_2d_parameter_count_matches_unpacking():
    # ANSWERS 2(d): (Dx + 1) H + (H + 1) Dy is exactly the length forward_backward_prop accepts
    for dims in ([10, 5, 10], [3, 7, 2], [1, 1, 1]):
        n = param_count(dims)
        pieces = unpack_params(np.zeros(n), dims)
        assert sum(p.size for p in pieces) == n == (dims[0] + 1) * dims[1] + (dims[1] + 1) * dims[2]
