"""q2_neural.forward_backward_prop: hand value, shapes, gradient check for several shapes."""
import numpy as np
import pytest

from q2_gradcheck import gradcheck_naive
from q2_neural import forward_backward_prop, param_count


def one_hot(idx, n_classes):
    y = np.zeros((len(idx), n_classes))
    y[np.arange(len(idx)), idx] = 1
    return y


def test_param_count():
    assert param_count([10, 5, 10]) == 11 * 5 + 6 * 10 == 115
    assert param_count([1, 1, 1]) == 4


def test_hand_value_zero_weights():
    # all-zero params: y_hat uniform, so the cost is N log Dy; dJ/db2 = sum(y_hat - y)
    dims = [3, 2, 4]
    data = np.arange(6.0).reshape(2, 3)
    labels = one_hot([0, 3], 4)
    cost, grad = forward_backward_prop(data, labels, np.zeros(param_count(dims)), dims)
    assert np.isclose(cost, 2 * np.log(4))
    assert grad.shape == (param_count(dims),)
    gradb2 = grad[-4:]
    assert np.allclose(gradb2, [0.5 - 1, 0.5, 0.5, 0.5 - 1])
    gradW2 = grad[-4 - 8:-4].reshape(2, 4)  # h = sigmoid(0) = 0.5 everywhere
    assert np.allclose(gradW2, 0.5 * (2 * 0.25 - labels.sum(axis=0)))


@pytest.mark.parametrize("N, dims", [(1, [1, 1, 2]), (1, [4, 3, 5]), (20, [10, 5, 10]), (7, [3, 8, 2])])
def test_gradient_check(N, dims):
    rng = np.random.default_rng(N * 100 + dims[1])
    data = rng.standard_normal((N, dims[0]))
    labels = one_hot(rng.integers(0, dims[2], N), dims[2])
    params = rng.standard_normal(param_count(dims))
    assert gradcheck_naive(lambda p: forward_backward_prop(data, labels, p, dims), params, verbose=False)


def test_saturated_network_is_finite():
    dims = [2, 3, 2]
    params = np.full(param_count(dims), 500.0)
    params[-2:] = [1000.0, -1000.0]  # b2 pushes the correct class probability to 0
    cost, grad = forward_backward_prop(np.ones((1, 2)), one_hot([1], 2), params, dims)
    assert np.isfinite(cost) and np.all(np.isfinite(grad))
    assert cost > 1000


def test_wrong_param_length_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\(Dx\+1\)\*H \+ \(H\+1\)\*Dy = 115"):
        forward_backward_prop(np.ones((2, 10)), one_hot([0, 1], 10), np.zeros(114), [10, 5, 10])


def test_wrong_label_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="one-hot"):
        forward_backward_prop(np.ones((2, 10)), one_hot([0, 1], 9), np.zeros(115), [10, 5, 10])


def test_labels_must_be_one_hot_and_any_one_hot_dtype_works():
    dims = [3, 2, 4]
    data, params = np.arange(6.0).reshape(2, 3), np.linspace(-1, 1, param_count(dims))
    labels = one_hot([0, 3], 4)
    cost, grad = forward_backward_prop(data, labels, params, dims)
    for same in (labels.astype(int), labels.astype(bool)):
        c, g = forward_backward_prop(data, same, params, dims)
        assert c == cost and g.shape == grad.shape and np.array_equal(g, grad)
    for row in ([1, 1, 0, 0], [0, 0, 0, 0], [0.5, 0.5, 0, 0], [2, -1, 0, 0]):
        bad = labels.copy()
        bad[1] = row
        with pytest.raises(ValueError, match=r"one-hot \(each row one 1, the rest 0\); row 1"):
            forward_backward_prop(data, bad, params, dims)
