"""q1_softmax.softmax: hand values, edge cases, stability, input left untouched."""
import warnings

import numpy as np
import pytest

from q1_softmax import softmax

REF = np.array([0.26894142, 0.73105858])  # e^1/(e^1+e^2), e^2/(e^1+e^2)


def assert_close(got, expected, **kw):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    assert np.allclose(got, expected, **kw)


def test_hand_values():
    assert_close(softmax(np.array([1.0, 2.0])), REF)
    assert_close(softmax(np.array([[1001, 1002], [3, 4]])), np.vstack([REF, REF]))
    assert_close(softmax(np.array([[-1001, -1002]])), REF[None, ::-1])
    assert_close(softmax(np.zeros(4)), np.full(4, 0.25))


def test_integer_input_gives_float_of_same_shape():
    y = softmax(np.array([[1, 2, 3]], dtype=np.int64))
    assert y.shape == (1, 3) and y.dtype == np.float64
    assert_close(y, softmax(np.array([[1.0, 2.0, 3.0]])))


def test_list_and_single_element():
    assert_close(softmax([1, 2]), REF)
    assert_close(softmax(np.array([[5.0]])), [[1.0]])


def test_shift_invariance_and_rows_sum_to_one():
    x = np.random.default_rng(1).standard_normal((6, 9))
    assert_close(softmax(x + 1e3), softmax(x))
    assert_close(softmax(x).sum(axis=1), np.ones(6))


def test_rows_are_independent():
    x = np.array([[1.0, 2.0], [100.0, 0.0]])
    assert_close(softmax(x)[0], REF)
    assert_close(softmax(x)[1], softmax(x[1]))


@pytest.mark.parametrize("scale", [1e3, 1e4, 1e300])
def test_extremes_without_warnings(scale):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softmax(np.array([[scale, -scale, 0.0], [-scale, -scale, -scale]]))
    assert np.all(np.isfinite(y))
    assert_close(y, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_input_not_modified():
    x = np.array([[3.0, 1.0], [2.0, 2.0]])
    before = x.copy()
    softmax(x)
    assert np.array_equal(x, before)


def test_rejects_3d():
    with pytest.raises(ValueError, match="1-D vector or a 2-D matrix"):
        softmax(np.zeros((2, 2, 2)))


def test_jacobian_against_finite_differences():
    # d softmax_i / d x_j = y_i (delta_ij - y_j), checked numerically (tolerance 1e-7)
    x = np.array([0.3, -1.2, 2.0])
    y = softmax(x)
    jac = np.diag(y) - np.outer(y, y)
    h = 1e-6
    num = np.stack([(softmax(x + h * e) - softmax(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    assert num.shape == jac.shape
    assert np.allclose(num, jac, atol=1e-7)


def test_infinite_scores_give_the_limit_without_warnings():
    # softmax(x + t e_S) -> uniform over S as t -> inf; exp(-inf) = 0 needs no special case
    inf = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no inf - inf = nan, no overflow
        assert_close(softmax(np.array([1.0, inf, -3.0])), [0, 1, 0], atol=0)
        assert_close(softmax(np.array([[inf, 2.0, inf, -inf], [0.0, -inf, 0.0, -inf]])),
                     [[0.5, 0, 0.5, 0], [0.5, 0, 0.5, 0]], atol=0)
        assert_close(softmax(np.array([[1.0, -inf, 2.0]])), [[REF[0], 0, REF[1]]])
        # x - max(x) overflows to -inf here: its exp, 0, is the right limit
        assert_close(softmax(np.array([1.7e308, -1.7e308])), [1, 0], atol=0)
        assert_close(softmax(np.array([inf], dtype=np.float32)), [1.0], atol=0)


def test_infinite_rows_leave_the_other_rows_and_the_input_alone():
    x = np.array([[1.0, 2.0], [np.inf, 0.0], [3.0, 4.0]])
    before = x.copy()
    y = softmax(x)
    assert y.shape == (3, 2)
    assert_close(y[[0, 2]], np.vstack([REF, REF]))
    assert_close(y[1], [1.0, 0.0], atol=0)
    assert np.array_equal(x, before)


@pytest.mark.parametrize("x, message", [
    ([1.0, np.nan], "the vector holds NaN"),
    ([[1.0, 2.0], [np.inf, np.nan]], "row 1 holds NaN"),
    ([[-np.inf, -np.inf], [1.0, 2.0]], "row 0 is all -inf"),
    (np.zeros((3, 0)), "D >= 1"),
])
def test_no_limit_is_a_clear_error(x, message):
    with pytest.raises(ValueError, match=message):
        softmax(np.array(x))
