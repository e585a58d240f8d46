"""utils.sparse.SparseRows: scatter-add semantics, repeats, non-contiguous targets."""
import numpy as np

from utils.sparse import SparseRows


def test_hand_value_with_repeated_row():
    g = SparseRows(np.array([2, 0, 2]), np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 20.0]]))
    dense = g.to_dense((4, 2))
    assert dense.shape == (4, 2)
    assert np.array_equal(dense, [[3, 4], [0, 0], [11, 22], [0, 0]])


def test_add_to_scales_and_matches_row_wise_add_at():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 50, 400)
    g = SparseRows(rows, rng.standard_normal((400, 3)))
    x = rng.standard_normal((50, 3))
    expected = x.copy()
    np.add.at(expected, rows, -0.3 * g.values)
    g.add_to(x, -0.3)
    assert np.array_equal(x, expected)     # bit-identical to the readable version


def test_add_to_non_contiguous_target():
    base = np.zeros((6, 4))
    view = base[:, ::2]                    # (6, 2), not C-contiguous
    SparseRows(np.array([1, 1]), np.ones((2, 2))).add_to(view, 2.0)
    assert np.array_equal(base[1], [4, 0, 4, 0])


def test_empty_gradient_is_a_no_op():
    x = np.ones((3, 2))
    SparseRows(np.zeros(0, dtype=int), np.zeros((0, 2))).add_to(x)
    assert np.array_equal(x, np.ones((3, 2)))
    assert np.array_equal(SparseRows(np.zeros(0, dtype=int), np.zeros((0, 2))).scale(3).to_dense((3, 2)),
                          np.zeros((3, 2)))
