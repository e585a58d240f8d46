"""w2v_engine.sparse.SparseRows: scatter-add semantics, repeats, non-contiguous targets."""
import numpy as np

from w2v_engine.sparse import SparseRows


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


# ---- the flat pair scatter (RowScatter) ---------------------------------------------------------
import pytest  # noqa: E402

from w2v_engine.sparse import RowScatter, flat_indices, pair_layout, pair_view  # noqa: E402


def test_pair_layout_and_flat_indices_by_hand():
    assert pair_layout(4, np.float64) == (np.dtype(np.complex128), 2)
    assert pair_layout(4, np.float32) == (np.dtype(np.complex64), 2)
    assert pair_layout(3, np.float64) == (np.dtype(np.float64), 3)     # odd width: plain floats
    assert pair_layout(4, np.int64) == (np.dtype(np.int64), 4)         # no complex integers
    flat = flat_indices(np.array([2, 0]), 3)
    assert flat.dtype == np.int64 and flat.tolist() == [6, 7, 8, 0, 1, 2]
    x = np.arange(8.0).reshape(2, 4)
    view, cols = pair_view(x)
    assert cols == 2 and view.shape == (4,) and view[3] == 6 + 7j   # row 1, pair 1
    view[0] += 10                                                   # writes through to x
    assert x[0, 0] == 10 and x[0, 1] == 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("width", [1, 4, 5, 10])
def test_scatter_is_bit_identical_to_row_wise_add_at(dtype, width):
    rng = np.random.default_rng(width)
    x = rng.standard_normal((30, width)).astype(dtype)
    expected = x.copy()
    scatter = RowScatter()
    for m in (7, 200, 3):                          # buffers grow, then get reused
        rows = rng.integers(0, 30, m)              # many repeats
        values = rng.standard_normal((m, width))
        np.add.at(expected, rows, (-0.7 * values).astype(dtype))
        SparseRows(rows, values).add_to(x, -0.7, scatter)
    assert x.dtype == dtype and np.array_equal(x, expected)


def test_add_flat_equals_add_and_buffer_is_reused():
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 12, 40)
    values = rng.standard_normal((40, 6))
    a, b = rng.standard_normal((2, 12, 6))
    b_expected = b.copy()
    scatter = RowScatter()
    scatter.add(b_expected, rows, values)
    work = scatter.buffer((40, 6))
    work[...] = values
    scatter.add_flat(b, flat_indices(rows, 3), work)
    assert np.array_equal(b, b_expected)
    assert np.shares_memory(scatter.buffer((40, 6)), work)        # the same memory next time
    assert scatter.buffer((5, 2)).shape == (5, 2)


@pytest.mark.parametrize("bad", [-1, 12])
def test_scatter_rejects_rows_out_of_range(bad):
    x = np.zeros((12, 4))
    with pytest.raises(IndexError, match=r"out of range \[0, 12\)"):
        SparseRows(np.array([0, bad]), np.ones((2, 4))).add_to(x)
    assert not x.any()                            # nothing half-applied for a negative row
