"""Sparse row gradients and the one scatter that applies them.

A word2vec minibatch touches a few thousand of the 2V rows of the stacked
word-vector matrix, so its gradient is sent as the touched row indices plus
one value row each, never as a dense (2V, D) array. ``SparseRows`` is such a
gradient; its ``add_to(x, factor)`` is the update protocol of ``q3_sgd.sgd``.

Applying it is a scatter-add, ``x[rows] += factor * values`` with repeated
rows applied one after the other. Everything in the engine does it through
`RowScatter`, which uses a single ``np.add.at`` on the *flat pair view* of x:

* x (n_rows, D) C-contiguous is seen as a 1-D array of "pair" elements:
  complex numbers (two adjacent floats) when D is even and x is float64 or
  float32, plain floats otherwise. ``cols`` = pair elements per row
  (D / 2 or D).
* Element j of row r is flat index ``r * cols + j``; `flat_indices` builds
  these (m * cols,) indices for m rows.
* ``np.add.at`` costs per element, so the flat view (one index per element
  instead of one per row) and the pairs (half the elements) make it fast: see
  bench/README.md for what each buys. A complex add is two float adds, so the
  result is bit for bit that of the row-wise ``np.add.at(x, rows, factor *
  values)`` (same elements, same order).
* Repeated rows are applied one after the other (x_r + f·v1 + f·v2), which
  equals the dense update x + f·(v1 + v2) up to rounding (~1e-16 relative).

A caller that applies many gradients over the same rows can build the flat
indices once (``flat_indices``) and call ``RowScatter.add_flat``: the fast
skip-gram path precomputes them for a whole chunk of minibatches.
"""
import math
from typing import NamedTuple

import numpy as np

_COMPLEX_OF = {np.dtype(np.float64): np.dtype(np.complex128),
               np.dtype(np.float32): np.dtype(np.complex64)}


def pair_layout(width, dtype):
    """Scatter element of a row of `width` values of `dtype`: ``(element dtype, cols)``.

    Parameters
    ----------
    width : int
        Values per row, D (1 for a 1-D x).
    dtype : numpy dtype of x

    Returns
    -------
    element : numpy dtype
        complex128 / complex64 (pairs of float64 / float32) when `width` is even, else `dtype`.
    cols : int
        Elements per row: width // 2 for pairs, width otherwise.
    """
    dtype = np.dtype(dtype)
    if width % 2 == 0 and dtype in _COMPLEX_OF:
        return _COMPLEX_OF[dtype], width // 2
    return dtype, width


def pair_view(x):
    """The flat pair view of a C-contiguous x (n_rows, D) or (n,): ``(view (n_rows * cols,), cols)``.

    Writing through the view writes x (no copy).
    """
    width = x.shape[1] if x.ndim == 2 else 1
    element, cols = pair_layout(width, x.dtype)
    return x.reshape(-1).view(element), cols


def flat_indices(rows, cols, out=None):
    """Element indices ``rows[i] * cols + j`` (j = 0 .. cols-1) in the flat pair view.

    Parameters
    ----------
    rows : ndarray of int, any shape, m entries
    cols : int
        From `pair_layout` / `pair_view`.
    out : ndarray of int64, shape (m * cols,), optional

    Returns
    -------
    flat : ndarray of int64, shape (m * cols,)
        Row-major: the cols elements of rows[0], then those of rows[1], ...
    """
    rows = np.asarray(rows).reshape(-1)
    if out is None:
        out = np.empty(rows.size * cols, dtype=np.int64)
    start = np.multiply(rows, cols, dtype=np.int64)          # (m,) index of each row's first element
    columns = out.reshape(rows.size, cols)
    for j in range(cols):   # cols strided passes: much faster than a broadcast with a short inner axis
        np.add(start, j, out=columns[:, j])
    return out


def reusable(buffer, n, dtype):
    """A 1-D work array of at least n elements of `dtype`: `buffer` itself if it is big enough.

    Otherwise a new array of max(n, 2 * len(buffer)) elements, so that a loop asking for
    similar sizes every iteration allocates a few times in all, not once per iteration.

    Parameters
    ----------
    buffer : ndarray or None
    n : int
    dtype : numpy dtype

    Returns
    -------
    buffer : ndarray, shape (>= n,)
        Keep it for the next call; use ``buffer[:n]``. Its contents are undefined.
    """
    if buffer is not None and buffer.dtype == dtype and buffer.shape[0] >= n:
        return buffer
    return np.empty(max(n, 0 if buffer is None else 2 * buffer.shape[0]), dtype=dtype)


class RowScatter:
    """In-place ``x[rows] += factor * values`` with repeated rows applied in order (see module doc).

    Keeps its work buffers from one call to the next, so a training loop
    allocates nothing per iteration; one instance per loop (not thread-safe).
    """

    def __init__(self):
        self._flat = self._update = self._work = None   # reusable buffers
        self._view_of = None        # (x, its pair view, cols) of the last x seen

    def view(self, x):
        """``pair_view(x)``, cached for the last x (a training loop updates the same array)."""
        cached = self._view_of
        if cached is not None and cached[0] is x:
            return cached[1], cached[2]
        view, cols = pair_view(x)
        self._view_of = (x, view, cols)
        return view, cols

    def add(self, x, rows, values, factor=1.0):
        """``x[rows] += factor * values`` in place; O(m·D) for m rows.

        Parameters
        ----------
        x : ndarray, shape (n_rows, D) or (n_rows,)
        rows : ndarray of int, shape (m,)
            Row indices, 0 <= row < n_rows; a row may repeat.
        values : ndarray, shape (m, D) (or (m,) for a 1-D x)
        factor : float
            E.g. ``-step`` for an SGD update.

        Raises
        ------
        IndexError
            A row outside [0, n_rows) (a negative padding index would otherwise hit the last row).
        """
        if x.ndim == 0:
            raise TypeError("a SparseRows gradient needs an array x of at least 1 dimension")
        rows = np.asarray(rows)
        m = rows.shape[0]
        if m == 0:
            return
        n_rows = x.shape[0]
        if rows.min() < 0:
            raise IndexError(f"SparseRows row index out of range [0, {n_rows}): min {rows.min()}")
        if not x.flags.c_contiguous:              # no flat view without a copy: row-wise scatter
            np.add.at(x, rows, np.multiply(values, factor))
            return
        target, cols = self.view(x)
        n = m * cols
        self._flat = reusable(self._flat, n, np.int64)
        self._update = reusable(self._update, n, target.dtype)
        flat, update = self._flat[:n], self._update[:n]
        flat_indices(rows, cols, out=flat)                     # (m*cols,)
        # real multiply on the update's float view: factor * values, row-major   (m*D,)
        np.multiply(np.reshape(values, -1), factor, out=update.view(x.dtype))
        try:
            np.add.at(target, flat, update)
        except IndexError:
            raise IndexError(f"SparseRows row index out of range [0, {n_rows}): "
                             f"max {rows.max()}") from None

    def buffer(self, shape, dtype=np.float64):
        """A reusable work array of `shape` (contents undefined), e.g. for the values of the next
        `add_flat`: a training loop then writes its gradient to the same memory every iteration."""
        n = math.prod(shape)
        self._work = reusable(self._work, n, np.dtype(dtype))
        return self._work[:n].reshape(shape)

    def add_flat(self, x, flat, values):
        """``x += values`` scattered by precomputed flat indices (repeats applied in order).

        Parameters
        ----------
        x : ndarray, C-contiguous, shape (n_rows, D)
        flat : ndarray of int64, shape (m * cols,)
            ``flat_indices(rows, cols)`` with ``cols = pair_view(x)[1]``; trusted (not range-checked).
        values : ndarray of x's dtype, C-contiguous, shape (m, D) or any shape of m*D values
            Added as they are (scale them beforehand).
        """
        target, _ = self.view(x)
        np.add.at(target, flat, values.reshape(-1).view(target.dtype))


class SparseRows(NamedTuple):
    """Gradient of a matrix that is non-zero on a few rows only.

    Attributes
    ----------
    rows : ndarray of int, shape (m,)
        Row indices into the full matrix; a row may repeat (its values add).
    values : ndarray of float, shape (m, D)
        Gradient row for each entry of `rows`.
    scatter : RowScatter or None
        The scatter whose buffers `add_to` reuses (a training loop gives each gradient the same
        one); None: a new one per call.
    """

    rows: np.ndarray
    values: np.ndarray
    scatter: "RowScatter | None" = None

    def to_dense(self, shape):
        """Return the dense gradient of `shape` (n_rows, D); repeated rows are summed."""
        dense = np.zeros(shape)
        self.add_to(dense)                        # (n_rows, D) += scatter of (m, D)
        return dense

    def scale(self, factor):
        """Return the gradient multiplied by a scalar."""
        return SparseRows(self.rows, self.values * factor, self.scatter)

    def add_to(self, x, factor=1.0, scatter=None):
        """In place ``x[rows] += factor * values`` with repeats summed in order; O(m·D) work.

        Bit-identical to ``np.add.at(x, rows, factor * values)``; the update protocol of
        ``q3_sgd.sgd`` (which calls ``grad.add_to(x, -step)``).

        Parameters
        ----------
        x : ndarray, shape (n_rows, D) or (n_rows,)
            Updated in place.
        factor : float
            E.g. ``-step`` for an SGD update.
        scatter : RowScatter, optional
            Reuse its buffers; default: the gradient's own `scatter`, else a new one.
        """
        scatter = scatter or self.scatter or RowScatter()
        scatter.add(x, self.rows, self.values, factor)
