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
        np.add.at(dense, self.rows, self.values)  # (n_rows, D) += scatter of (m, D)
        return dense

    def scale(self, factor):
        """Return the gradient multiplied by a scalar."""
        return SparseRows(self.rows, self.values * factor)

    def add_to(self, x, factor=1.0):
        """In place ``x[rows] += factor * values`` with repeats summed; O(m·D) work."""
        np.add.at(x, self.rows, factor * self.values)
