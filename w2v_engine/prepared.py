"""Skip-gram + negative sampling with each minibatch's index arrays computed ahead, a chunk at a time.

Everything about a skip-gram + negative-sampling minibatch that does not depend
on the parameters — which rows of the stacked (2W, D) matrix it reads, which it
writes, where each gradient value lands in the scatter — is computed for a whole
chunk of minibatches at once, ahead of time, by `prepare_skipgram_negsample`
(the sampler does it in its worker process). An iteration is then left with one
gather, the negative-sampling kernel of ``batched.py`` and one scatter:
`skipgram_negsample_fast`. Same numbers as ``batched.word2vec_batch`` on the
same windows (tested).
"""
from typing import NamedTuple

import numpy as np

from w2v_engine.batched import check_word_indices, negsample_grads, negsample_loss, pair_bounds
from w2v_engine.sparse import RowScatter, SparseRows, flat_indices


class SkipgramPrepared(NamedTuple):
    """Index arrays of one skip-gram + negative-sampling minibatch over the stacked (2W, D) matrix.

    P = number of (centre, context) pairs of the minibatch (its valid context
    entries, in the order of ``contexts[contexts >= 0]``); cols = scatter
    elements per row (``sparse.pair_layout(D, float64)[1]``).

    Attributes
    ----------
    rows : ndarray of int64, shape (P * (K+2),)
        ``[c_1 .. c_P, W + o_1, W + k_11 .. W + k_1K, W + o_2, ...]``: the centre word of each
        pair (input half), then for each pair its context word o and its K negatives (output
        half). Exactly the rows of ``word2vec_batch``'s gradient, in the same order.
    flat : ndarray of int64, shape (P * (K+2) * cols,)
        ``sparse.flat_indices(rows, cols)``: where each gradient value lands in the scatter.
    n_pairs : int
        P.
    """

    rows: np.ndarray
    flat: np.ndarray
    n_pairs: int


def prepare_skipgram_negsample(centres, contexts, negatives, W, cols, batch=None):
    """The `SkipgramPrepared` index arrays of a chunk of minibatches, vectorised over the chunk.

    Parameters
    ----------
    centres : ndarray of int, shape (n,)
        In 0..W-1.
    contexts : ndarray of int, shape (n, 2C), padded with -1
        Below W (negative entries are padding).
    negatives : ndarray of int, shape (P_total, K)
        One row per valid context entry, in the order of ``contexts[contexts >= 0]``; in
        0..W-1, K >= 1.
    W : int
        Vocabulary size (output rows are shifted by W in the stacked matrix).
    cols : int
        Scatter elements per row (``sparse.pair_layout(D, dtype)[1]``).
    batch : int or None
        Windows per minibatch; n must be a multiple of it. None: one minibatch of n windows.

    Returns
    -------
    bounds : ndarray of int64, shape (T + 1,)
        Minibatch t (of T = n / batch) owns pairs ``bounds[t]:bounds[t+1]``.
    rows : ndarray of int64, shape (P_total * (K+2),)
        The `SkipgramPrepared.rows` of the T minibatches one after the other: minibatch t's are
        ``rows[(K+2) * bounds[t]:(K+2) * bounds[t+1]]``.
    flat : ndarray of int64, shape (P_total * (K+2) * cols,)
        ``flat_indices(rows, cols)``. `PreparedChunk` slices out each minibatch.

    Raises
    ------
    IndexError
        A word index outside 0..W-1 (NumPy's ``take`` would wrap it round silently).
    ValueError
        Shapes that do not fit together, non-integer arrays, K < 1.

    Notes
    -----
    The indices are checked here, once per chunk (a min and a max over each array, in the
    sampler's worker), so that `skipgram_negsample_fast` needs no check per iteration.
    """
    centres, contexts = np.asarray(centres), np.asarray(contexts)
    negatives = np.asarray(negatives)
    if any(a.dtype.kind not in "iu" for a in (centres, contexts, negatives)):
        raise ValueError(f"prepare_skipgram_negsample: centres, contexts and negatives must be integer "
                         f"word indices; got {centres.dtype}, {contexts.dtype}, {negatives.dtype}")
    if centres.ndim != 1 or contexts.ndim != 2 or contexts.shape[0] != centres.shape[0]:
        raise ValueError(f"prepare_skipgram_negsample: centres must be (n,) and contexts (n, 2C); got "
                         f"{centres.shape} and {contexts.shape}")
    n = centres.shape[0]
    try:
        bounds = pair_bounds(contexts, n if batch is None else batch)        # (T + 1,)
    except ValueError as err:
        raise ValueError(f"prepare_skipgram_negsample: {err}") from None
    win, pos = np.nonzero(contexts >= 0)                             # (P_total,) each, row-major
    P = win.shape[0]
    if negatives.ndim != 2 or negatives.shape[0] != P or negatives.shape[1] < 1:
        raise ValueError(f"prepare_skipgram_negsample: negatives must be ({P}, K) with K >= 1, one "
                         f"row per valid context entry; got {negatives.shape}")
    check_word_indices(centres, W, "prepare_skipgram_negsample: centres")
    check_word_indices(contexts, W, "prepare_skipgram_negsample: contexts", padding=True)
    check_word_indices(negatives, W, "prepare_skipgram_negsample: negatives")
    K1 = negatives.shape[1] + 1
    # minibatch t's block of rows starts at (K+2) * bounds[t]: its P_t centres, then P_t * (K+1)
    # output rows. Pair i of minibatch t (i = bounds[t] + j) has its centre at block + j and its
    # output rows at block + P_t + j * (K+1) + (0 .. K).
    P_t = np.diff(bounds)                                            # (T,)
    t_of = np.repeat(np.arange(P_t.shape[0]), P_t)                   # (P_total,) minibatch of each pair
    j = np.arange(P) - bounds[t_of]                                  # index within its minibatch
    centre_at = (K1 + 1) * bounds[t_of] + j                          # (P_total,)
    out_at = centre_at + P_t[t_of] + j * (K1 - 1)                    # first output row of each pair
    rows = np.empty(P * (K1 + 1), dtype=np.int64)
    rows[centre_at] = centres[win]
    out = (out_at[:, None] + np.arange(K1)).reshape(-1)              # (P_total * (K+1),)
    rows[out[::K1]] = contexts[win, pos]
    rows[out.reshape(P, K1)[:, 1:].reshape(-1)] = negatives.reshape(-1)
    rows[out] += W
    return bounds, rows, flat_indices(rows, cols)


class PreparedChunk:
    """The prepared minibatches of a chunk: ``chunk.batch(t)`` is minibatch t as a `SkipgramPrepared`.

    Parameters
    ----------
    bounds, rows, flat : ndarray
        As returned by `prepare_skipgram_negsample`.
    """

    def __init__(self, bounds, rows, flat):
        self.bounds = np.asarray(bounds).tolist()          # Python ints: cheap slicing per iteration
        self.rows, self.flat = rows, flat
        P_total = self.bounds[-1]
        self._width = rows.shape[0] // P_total if P_total else 0           # K + 2
        self._flat_width = flat.shape[0] // P_total if P_total else 0      # (K + 2) * cols

    def __len__(self):
        return len(self.bounds) - 1

    def batch(self, t):
        """Minibatch t (views into the chunk's arrays, no copies)."""
        a, b = self.bounds[t], self.bounds[t + 1]
        w, fw = self._width, self._flat_width
        return SkipgramPrepared(self.rows[a * w:b * w], self.flat[a * fw:b * fw], b - a)


def skipgram_negsample_fast(wordVectors, prepared, scale=1.0, scatter=None):
    """Skip-gram + negative-sampling cost and gradient of a prepared minibatch.

    The same numbers as ``word2vec_batch(skipgram_batch, centres, contexts, wordVectors,
    negatives)`` on the windows the minibatch was prepared from (tested to 1e-12), times `scale`.

    Parameters
    ----------
    wordVectors : ndarray of float64, C-contiguous, shape (2W, D)
        Input vectors (rows :W) stacked on output vectors (rows W:).
    prepared : SkipgramPrepared
        Made for this W and for D's pair layout.
    scale : float
        Multiplies cost and gradient (the trainer passes 1 / batch for batch means).
    scatter : RowScatter or None
        Whose buffers the gradient's `add_to` reuses (a training loop passes the same one).

    Returns
    -------
    cost : float
        scale * the summed cost of the P pairs.
    grad : SkipgramNegGradient (a `SparseRows` when P = 0)
        The gradient over the (2W, D) matrix, kept as factors; ``grad.add_to(x, -step)``
        applies it (the protocol of ``q3_sgd.sgd``), ``grad.to_sparse()`` gives the
        `SparseRows`. It holds the values gathered now: apply it before the next call.
    """
    P = prepared.n_pairs
    if P == 0:                                             # no pair: no cost, no gradient
        return 0.0, SparseRows(prepared.rows, np.zeros((0, wordVectors.shape[1])))
    gathered = wordVectors.take(prepared.rows, axis=0)    # (P * (K+2), D)
    vc = gathered[:P]                                      # (P, D) centre vectors
    U_idx = gathered[P:].reshape(P, -1, gathered.shape[1])   # (P, K+1, D) [u_o, u_k1 .. u_kK]
    cost, delta = negsample_loss(vc, U_idx)
    return cost * scale, SkipgramNegGradient(delta, scale, gathered, prepared, scatter)


class SkipgramNegGradient:
    """Gradient of `skipgram_negsample_fast`, kept as factors until it is applied.

    Over the stacked (2W, D) matrix it is the `SparseRows` with rows ``prepared.rows``
    and values ``[grad_v (P, D); grad_U_values (P*(K+1), D)]`` of ``batched.negsample_grads``
    for ``scale * delta``. Both are linear in delta, so `add_to` multiplies the small
    (P, K+1) delta by ``factor * scale`` (e.g. -step / batch) instead of the
    (P*(K+2), D) values, and scatters them with one ``np.add.at`` through the
    precomputed flat indices.

    Attributes
    ----------
    delta : ndarray, shape (P, K+1)
        dJ/ds of the P pairs (``batched.negsample_loss``).
    scale : float
    gathered : ndarray, shape (P*(K+2), D)
        The rows ``prepared.rows`` of the matrix at the time of the call (v_c, then U_idx).
    prepared : SkipgramPrepared
    scatter : RowScatter or None
    """

    __slots__ = ("delta", "scale", "gathered", "prepared", "scatter")

    def __init__(self, delta, scale, gathered, prepared, scatter=None):
        self.delta, self.scale, self.gathered = delta, scale, gathered
        self.prepared, self.scatter = prepared, scatter

    def _values(self, factor, out=None):
        """The gradient values times `factor`: (P*(K+2), D), one row per ``prepared.rows`` entry."""
        P = self.delta.shape[0]
        gathered = self.gathered
        values = np.empty(gathered.shape) if out is None else out
        delta = self.delta * (factor * self.scale)                          # (P, K+1)
        negsample_grads(delta, gathered[:P], gathered[P:].reshape(P, delta.shape[1], -1),
                        values[:P], values[P:])
        return values

    def add_to(self, x, factor=1.0, scatter=None):
        """In place ``x += factor * grad`` (x: the (2W, D) matrix); repeated rows applied in order."""
        scatter = scatter or self.scatter or RowScatter()
        if not (x.flags.c_contiguous and x.dtype == np.float64):
            self.to_sparse().add_to(x, factor, scatter)      # no pair view: the generic scatter
            return
        if self.prepared.flat.shape[0] != self.prepared.rows.shape[0] * scatter.view(x)[1]:
            raise ValueError(f"SkipgramNegGradient: prepared for another row width than x's "
                             f"{x.shape[1]}")
        # the values go to the scatter's reusable buffer: the same memory every iteration
        values = self._values(factor, scatter.buffer(self.gathered.shape, np.float64))
        scatter.add_flat(x, self.prepared.flat, values)

    def to_sparse(self):
        """The same gradient as a `SparseRows`: rows ``prepared.rows``, values (P*(K+2), D)."""
        return SparseRows(self.prepared.rows, self._values(1.0))

    def to_dense(self, shape):
        """The dense gradient of `shape` (2W, D)."""
        return self.to_sparse().to_dense(shape)
