"""Sparse row gradients: the word2vec batch touches a few hundred of the
2V rows of the stacked word-vector matrix, so its gradient is sent as the
touched row indices plus one value row each, never as a dense (2V, D) array.
"""
from typing import NamedTuple

import numpy as np


class SparseRows(NamedTuple):
    """Gradient of a matrix that is non-zero on a few rows only.

    Attributes
    ----------
    rows : ndarray of int, shape (m,)
        Row indices into the full matrix; a row may repeat (its values add).
    values : ndarray of float, shape (m, D)
        Gradient row for each entry of `rows`.
    """

    rows: np.ndarray
    values: np.ndarray

    def to_dense(self, shape):
        """Return the dense gradient of `shape` (n_rows, D); repeated rows are summed."""
        dense = np.zeros(shape)
        self.add_to(dense)                        # (n_rows, D) += scatter of (m, D)
        return dense

    def scale(self, factor):
        """Return the gradient multiplied by a scalar."""
        return SparseRows(self.rows, self.values * factor)

    def add_to(self, x, factor=1.0):
        """In place ``x[rows] += factor * values`` with repeats summed; O(m·D) work.

        Parameters
        ----------
        x : ndarray, shape (n_rows, D)
            Updated in place.
        factor : float
            E.g. ``-step`` for an SGD update.
        """
        scaled = self.values * factor                          # (m, D)
        if not x.flags.c_contiguous:                          # reshape(-1) would copy: update row-wise
            np.add.at(x, self.rows, scaled)
            return
        D = x.shape[1]
        # scatter on the flat view, element indices row * D + column: about 3x faster than the
        # 2-D np.add.at and bit-identical to it (same elements added in the same order)
        flat = (self.rows[:, None] * D + np.arange(D)).ravel()   # (m * D,)
        np.add.at(x.reshape(-1), flat, scaled.ravel())
