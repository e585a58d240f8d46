"""The losses of ``q3_word2vec.py`` for a whole minibatch of windows at once.

``skipgram_batch`` and ``cbow_batch`` compute exactly what a loop of
``q3_word2vec.skipgram`` / ``cbow`` calls over the windows computes (tested to
1e-10), with the gradients as `SparseRows`: the rows a minibatch touches and
one value row each, never a dense (W, D) array. ``word2vec_batch`` does it over
the stacked (2W, D) matrix, which is what ``q3_sgd.sgd`` updates.

Windows
-------
``centres`` int (n,) and ``contexts`` int (n, 2C): row i holds the context
word indices of window i, padded with -1 (any negative entry is padding and is
ignored, wherever it is). Negative samples are passed in, never drawn here, so
the functions are deterministic:

* skip-gram: ``negatives`` (P, K), one row per *valid* context entry, in the
  row-major order of ``contexts[contexts >= 0]`` (see ``skipgram_pairs``);
* CBOW: ``negatives`` (n, K), one row per window;
* ``negatives=None`` selects the full-softmax loss.

``negative_sample_targets(model, centres, contexts)`` returns the targets
whose negatives a model wants: the array to hand to
``dataset.sample_negatives(rng, targets, K)``.

Every word index must be a row, 0..W-1 (negative context entries excepted:
they are padding): any other raises an IndexError naming the array, since
NumPy's ``take`` would silently read -1 as the last row. Negatives need
K >= 1 columns (a ValueError otherwise). Each check is a min and a max over
the array, once per call (``prepared.py`` checks a whole chunk at once).

Both models reduce to one of two kernels over P predicted vectors v_hat (the
centre vector of each (centre, context) pair for skip-gram, the summed context
of each window for CBOW): `softmax_loss` and `negsample_loss` /
`negsample_grads`.
"""
import numpy as np

from w2v_engine.sparse import SparseRows, reusable

_ONES = None   # a cached vector of ones (`total`); read-only


def total(a):
    """Sum of all elements of a C-contiguous float64 array, as a dot product with ones.

    One BLAS call: in the training loop it costs less than ``np.sum``'s reduction
    (bench/README.md: ones-dot). Not bit-equal to ``np.sum`` (another summation order).
    """
    global _ONES
    a = a.reshape(-1)
    if _ONES is None or _ONES.shape[0] < a.shape[0]:
        ones = reusable(_ONES, a.shape[0], np.float64)
        ones[:] = 1.0
        ones.flags.writeable = False
        _ONES = ones
    return a.dot(_ONES[:a.shape[0]])


def as_floats(a, where):
    """`a` (an array or a list) as float64 (no copy if it is one); a TypeError naming `where`
    unless it holds numbers."""
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{where} must hold numbers, not {a.dtype} values")
    return a.astype(np.float64, copy=False)


def check_word_indices(idx, W, where, padding=False):
    """Raise an IndexError naming `where` unless every entry of `idx` is in 0..W-1.

    Parameters
    ----------
    idx : ndarray of int, any shape
    W : int
        Vocabulary size (rows of the matrix the indices read).
    where : str
        ``"function: argument"``, for the message.
    padding : bool
        Negative entries are padding (context windows) and allowed.
    """
    if idx.size == 0:
        return
    hi = idx.max()
    lo = 0 if padding else idx.min()
    if lo < 0 or hi >= W:
        bad = lo if lo < 0 else hi
        raise IndexError(f"{where} holds word index {bad}, outside 0..{W - 1}"
                         + (" (negative entries are padding)" if padding else ""))


# ==== the two kernels ===============================================================================

def softmax_loss(v_hat, targets, U, grad_v=None, grad_U=None):
    """Full-softmax loss of P predicted vectors: ``softmaxCostAndGradient`` for P at once.

    J = sum_p -log softmax(U v_hat_p)[target_p].

    Parameters
    ----------
    v_hat : ndarray, shape (P, D)
    targets : ndarray of int, shape (P,)
    U : ndarray, shape (W, D)
    grad_v, grad_U : ndarray, shapes (P, D) and (W, D), optional
        Where to write the gradients (lets a caller fill one stacked buffer).

    Returns
    -------
    cost : float
    grad_v : ndarray, shape (P, D)
        dJ/dv_hat_p = U^T (y_hat_p - y_p).
    grad_U : ndarray, shape (W, D)
        dJ/dU = sum_p (y_hat_p - y_p) v_hat_p^T: dense, every output vector gets a gradient.
    """
    v_hat, U = as_floats(v_hat, "softmax_loss: v_hat"), as_floats(U, "softmax_loss: U")
    targets = np.asarray(targets)
    check_word_indices(targets, U.shape[0], "softmax_loss: targets")
    P = v_hat.shape[0]
    rows = np.arange(P)
    scores = v_hat @ U.T                               # (P, D) @ (D, W) -> (P, W)
    scores -= scores.max(axis=1, keepdims=True)        # max-shifted: exp cannot overflow
    y_hat = np.exp(scores)                             # (P, W), unnormalised
    norm = y_hat.sum(axis=1)                           # (P,) >= 1: the max term is exp(0)
    # -log y_hat[o] = log(norm) - score[o]: finite even where y_hat[o] underflows
    cost = float(np.sum(np.log(norm) - scores[rows, targets]))
    y_hat /= norm[:, None]
    delta = y_hat                                      # (P, W): y_hat - y
    delta[rows, targets] -= 1.0
    grad_v = np.matmul(delta, U, out=grad_v)           # (P, W) @ (W, D) -> (P, D)
    grad_U = np.matmul(delta.T, v_hat, out=grad_U)     # (W, P) @ (P, D) -> (W, D)
    return cost, grad_v, grad_U


def negsample_loss(v_hat, U_idx):
    """Negative-sampling cost of P predictions and dJ/ds, the derivative by their K+1 scores.

    ``negSamplingCostAndGradient`` for P predictions at once. Row p of `U_idx`
    holds [u_o, u_1 .. u_K] (j = 0 the target, j >= 1 the negatives); with the
    scores s_pj = u_pj . v_hat_p,

        J = sum_p [ -log sigma(s_p0) - sum_{j>=1} log sigma(-s_pj) ]
        dJ/ds_p0 = sigma(s_p0) - 1 = -sigma(-s_p0),   dJ/ds_pj = sigma(s_pj) (j >= 1).

    So with z = s with column 0 negated, J = sum log(1 + e^z) and
    dJ/ds = sigma(z) with column 0 negated.

    Parameters
    ----------
    v_hat : ndarray, shape (P, D)
    U_idx : ndarray, shape (P, K+1, D)
        A negative drawn twice appears twice (its terms count twice).

    Returns
    -------
    cost : float
    delta : ndarray, shape (P, K+1)
        dJ/ds.
    """
    z = np.matmul(U_idx, v_hat[:, :, None])[:, :, 0]  # (P, K+1, D) @ (P, D, 1) -> (P, K+1): s
    z[:, 0] *= -1.0                                    # -s_o, s_1 .. s_K
    e = np.exp(-np.abs(z))                             # (P, K+1): e^-|z| in (0, 1], never overflows
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): neither overflows nor takes log(0)
    cost = float(total(np.maximum(z, 0.0)) + total(np.log1p(e)))
    # sigma(z) from the same e, as q2_sigmoid.sigmoid computes it (1 / (1 + e) for z >= 0,
    # e / (1 + e) below; bit for bit, tested): one exp instead of two (bench/README.md: speed)
    delta = np.where(z >= 0, 1.0, e) / (1.0 + e)       # (P, K+1): sigma(-s_o), sigma(s_k)
    delta[:, 0] *= -1.0                                # dJ/ds_o = -sigma(-s_o)
    return cost, delta


def negsample_grads(delta, v_hat, U_idx, grad_v=None, grad_U_values=None):
    """Gradients of the negative-sampling loss from ``delta = dJ/ds`` (see `negsample_loss`).

    Parameters
    ----------
    delta : ndarray, shape (P, K+1)
        dJ/ds (times any constant: both gradients are linear in it).
    v_hat : ndarray, shape (P, D)
    U_idx : ndarray, shape (P, K+1, D)
    grad_v, grad_U_values : ndarray, shapes (P, D) and (P * (K+1), D), optional
        Where to write the results.

    Returns
    -------
    grad_v : ndarray, shape (P, D)
        dJ/dv_hat_p = sum_j delta_pj u_pj.
    grad_U_values : ndarray, shape (P * (K+1), D)
        dJ/du_pj = delta_pj v_hat_p, row (p, j) in row-major order.
    """
    P, K1 = delta.shape
    D = v_hat.shape[1]
    if grad_v is None:
        grad_v = np.empty((P, D))
    if grad_U_values is None:
        grad_U_values = np.empty((P * K1, D))
    np.matmul(delta[:, None, :], U_idx, out=grad_v[:, None, :])   # (P, 1, K+1) @ (P, K+1, D)
    np.multiply(delta[:, :, None], v_hat[:, None, :],               # (P, K+1, D): delta_pj v_hat_p
                out=grad_U_values.reshape(P, K1, D))
    return grad_v, grad_U_values


def negsample_core(v_hat, targets, negatives, U, grad_v=None, grad_U_values=None, *,
                   where="negsample_core"):
    """Negative-sampling cost and gradients of P predictions: gather, `negsample_loss`, `negsample_grads`.

    Parameters
    ----------
    v_hat : ndarray, shape (P, D)
    targets : ndarray of int, shape (P,)
        In 0..W-1.
    negatives : ndarray of int, shape (P, K)
        In 0..W-1, K >= 1.
    U : ndarray, shape (W, D)
    grad_v, grad_U_values : ndarray, shapes (P, D) and (P * (K+1), D), optional
    where : str
        The caller's name, for error messages.

    Returns
    -------
    cost : float
    grad_v : ndarray, shape (P, D)
    idx : ndarray of int, shape (P * (K+1),)
        Output rows touched, [o, k_1 .. k_K] for each prediction in turn.
    grad_U_values : ndarray, shape (P * (K+1), D)
        dJ/du for each entry of `idx`; repeated rows add up.
    """
    v_hat, U = as_floats(v_hat, f"{where}: v_hat"), as_floats(U, f"{where}: U")
    targets, negatives = np.asarray(targets), np.asarray(negatives)
    K = negatives.shape[1]
    if K < 1:
        raise ValueError(f"{where}: negatives must have K >= 1 columns (samples per target); got "
                         f"shape {negatives.shape}")
    idx = np.empty((v_hat.shape[0], K + 1), dtype=np.intp)   # column 0: target, then negatives
    idx[:, 0] = targets
    idx[:, 1:] = negatives
    W = U.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= W):   # one min and max over both arrays; then which
        check_word_indices(np.asarray(targets), W, f"{where}: targets")
        check_word_indices(np.asarray(negatives), W, f"{where}: negatives")
    U_idx = U.take(idx, axis=0)                        # (P, K+1, D)
    cost, delta = negsample_loss(v_hat, U_idx)
    grad_v, grad_U_values = negsample_grads(delta, v_hat, U_idx, grad_v, grad_U_values)
    return cost, grad_v, idx.reshape(-1), grad_U_values


# ==== windows -> predictions =======================================================================

def _check_windows(centres, contexts, inputVectors, outputVectors, fname):
    """Validate the window arrays and the matrices; return the four as arrays (float64 matrices:
    no copies of float64 ones)."""
    centres, contexts = np.asarray(centres), np.asarray(contexts)
    inputVectors = as_floats(inputVectors, f"{fname}: inputVectors")
    outputVectors = as_floats(outputVectors, f"{fname}: outputVectors")
    if centres.ndim != 1 or contexts.ndim != 2 or contexts.shape[0] != centres.shape[0]:
        raise ValueError(f"{fname}: centres must be (n,) and contexts (n, 2C) padded with -1; got "
                         f"centres {centres.shape}, contexts {contexts.shape}")
    if centres.dtype.kind not in "iu" or contexts.dtype.kind not in "iu":
        raise TypeError(f"{fname}: centres and contexts must be integer word indices; got "
                        f"{centres.dtype} and {contexts.dtype}")
    if inputVectors.ndim != 2 or inputVectors.shape != outputVectors.shape:
        raise ValueError(f"{fname}: inputVectors and outputVectors must both be (W, D); got "
                         f"{inputVectors.shape} and {outputVectors.shape}")
    W = inputVectors.shape[0]
    check_word_indices(centres, W, f"{fname}: centres")
    check_word_indices(contexts, W, f"{fname}: contexts", padding=True)
    return centres, contexts, inputVectors, outputVectors


def _check_negatives(negatives, n_rows, fname, what):
    negatives = np.asarray(negatives)
    if negatives.ndim != 2 or negatives.shape[0] != n_rows or negatives.dtype.kind not in "iu":
        raise ValueError(f"{fname}: negatives must be an integer array ({n_rows}, K), one row per "
                         f"{what}; got {negatives.dtype} {negatives.shape}")
    return negatives


def skipgram_pairs(centres, contexts):
    """Flatten padded windows into skip-gram (centre, context) pairs.

    Parameters
    ----------
    centres : ndarray of int, shape (n,)
    contexts : ndarray of int, shape (n, 2C)
        Negative entries are padding.

    Returns
    -------
    pair_centres, pair_targets : ndarray of int, shape (P,) each
        The valid context entries in row-major order, ``contexts[contexts >= 0]``, and the
        centre of each; P = number of valid entries. Skip-gram negatives are (P, K) in this order.
    """
    win, pos = np.nonzero(contexts >= 0)               # (P,), (P,) in row-major order
    return centres[win], contexts[win, pos]


def pair_bounds(contexts, batch):
    """Where the skip-gram pairs of each minibatch of `batch` windows start and end.

    Parameters
    ----------
    contexts : ndarray of int, shape (n, 2C)
        n a multiple of `batch`; negative entries are padding.
    batch : int

    Returns
    -------
    bounds : ndarray of int64, shape (n / batch + 1,)
        Minibatch t owns pairs ``bounds[t]:bounds[t + 1]`` in the order of `skipgram_pairs`
        (and so those rows of its (P, K) negatives).
    """
    n = contexts.shape[0]
    if batch < 1 or n % batch:
        raise ValueError(f"{n} windows are not a whole number of minibatches of {batch}")
    bounds = np.zeros(n // batch + 1, dtype=np.int64)
    np.cumsum((contexts >= 0).sum(axis=1).reshape(-1, batch).sum(axis=1), out=bounds[1:])
    return bounds


def negative_sample_targets(model, centres, contexts):
    """The targets a batched model wants K negatives for, one row each.

    Parameters
    ----------
    model : `skipgram_batch` or `cbow_batch`
    centres : ndarray of int, shape (n,)
    contexts : ndarray of int, shape (n, 2C)

    Returns
    -------
    targets : ndarray of int
        skip-gram: (P,) the valid context words (see `skipgram_pairs`); CBOW: (n,) the centre
        words. Pass them to ``dataset.sample_negatives(rng, targets, K)`` and the
        (len(targets), K) result to the model as `negatives`.
    """
    if model is skipgram_batch:
        return skipgram_pairs(np.asarray(centres), np.asarray(contexts))[1]
    if model is cbow_batch:
        return np.asarray(centres)
    raise ValueError(f"negative_sample_targets: model must be skipgram_batch or cbow_batch, got {model!r}")


def _skipgram_rows(centres, contexts, inputVectors, outputVectors, negatives):
    """Skip-gram batch as (cost, in_rows (P,), out_rows (M,), values (P + M, D)).

    values[:P] is the gradient of the input rows, values[P:] that of the output rows: one buffer,
    so the stacked gradient needs no copy. M = P * (K+1) (negative sampling) or W (softmax).
    """
    centres, contexts, inputVectors, outputVectors = _check_windows(
        centres, contexts, inputVectors, outputVectors, "skipgram_batch")
    pair_centres, pair_targets = skipgram_pairs(centres, contexts)
    P, D = pair_centres.shape[0], inputVectors.shape[1]
    vc = inputVectors.take(pair_centres, axis=0)       # (P, D): v_c of each pair
    if negatives is None:
        W = outputVectors.shape[0]
        values = np.empty((P + W, D))
        cost = softmax_loss(vc, pair_targets, outputVectors, values[:P], values[P:])[0]
        return cost, pair_centres, np.arange(W), values
    negatives = _check_negatives(negatives, P, "skipgram_batch",
                                 "valid context entry (contexts[contexts >= 0])")
    values = np.empty((P * (negatives.shape[1] + 2), D))
    cost, _, out_rows, _ = negsample_core(vc, pair_targets, negatives, outputVectors,
                                          values[:P], values[P:], where="skipgram_batch")
    return cost, pair_centres, out_rows, values


def _cbow_rows(centres, contexts, inputVectors, outputVectors, negatives):
    """CBOW batch as (cost, in_rows (P,), out_rows (M,), values (P + M, D)); see `_skipgram_rows`."""
    centres, contexts, inputVectors, outputVectors = _check_windows(
        centres, contexts, inputVectors, outputVectors, "cbow_batch")
    win, pos = np.nonzero(contexts >= 0)               # (P,), (P,): window and slot of each valid entry
    ctx = contexts[win, pos]                           # (P,)
    n, P, D = centres.shape[0], ctx.shape[0], inputVectors.shape[1]
    v_hat = np.zeros((n, D))
    np.add.at(v_hat, win, inputVectors.take(ctx, axis=0))   # (n, D) += (P, D): sum per window
    if negatives is None:
        W = outputVectors.shape[0]
        values = np.empty((P + W, D))
        cost, grad_v, _ = softmax_loss(v_hat, centres, outputVectors, None, values[P:])
        out_rows = np.arange(W)
    else:
        negatives = _check_negatives(negatives, n, "cbow_batch", "window")
        values = np.empty((P + n * (negatives.shape[1] + 1), D))
        cost, grad_v, out_rows, _ = negsample_core(v_hat, centres, negatives, outputVectors,
                                                   None, values[P:], where="cbow_batch")
    grad_v.take(win, axis=0, out=values[:P])           # each context entry gets its window's dJ/dv_hat
    return cost, ctx, out_rows, values


def skipgram_batch(centres, contexts, inputVectors, outputVectors, negatives=None):
    """Skip-gram cost and sparse gradients summed over a batch of windows.

    Equals the sum of ``q3_word2vec.skipgram`` over the windows (same negatives).

    Parameters
    ----------
    centres : ndarray of int, shape (n,)
    contexts : ndarray of int, shape (n, 2C)
        Padded with -1 (negative entries ignored).
    inputVectors, outputVectors : ndarray of float64, shape (W, D)
    negatives : ndarray of int, shape (P, K), or None
        One row per valid context entry, in the order of ``contexts[contexts >= 0]``
        (``negative_sample_targets`` gives those P targets). None selects the full softmax.

    Returns
    -------
    cost : float
        Sum over all P (centre, context) pairs (not averaged).
    grad_in : SparseRows
        Over inputVectors: rows (P,) the pair centres, values (P, D).
    grad_out : SparseRows
        Over outputVectors: negative sampling rows (P*(K+1),) = [o, k_1..k_K] per pair,
        values (P*(K+1), D); softmax rows arange(W), values (W, D) (inherently dense).
    """
    cost, in_rows, out_rows, values = _skipgram_rows(centres, contexts, inputVectors, outputVectors,
                                                     negatives)
    P = in_rows.shape[0]
    return cost, SparseRows(in_rows, values[:P]), SparseRows(out_rows, values[P:])


def cbow_batch(centres, contexts, inputVectors, outputVectors, negatives=None):
    """CBOW cost and sparse gradients summed over a batch of windows.

    v_hat_i = sum of the valid context words' input vectors of window i. Equals
    the sum of ``q3_word2vec.cbow`` over the windows (same negatives).

    Parameters
    ----------
    centres : ndarray of int, shape (n,)
    contexts : ndarray of int, shape (n, 2C)
        Padded with -1 (negative entries ignored); a window with no valid entry has v_hat = 0.
    inputVectors, outputVectors : ndarray of float64, shape (W, D)
    negatives : ndarray of int, shape (n, K), or None
        One row per window. None selects the full softmax.

    Returns
    -------
    cost : float
        Sum over the n windows.
    grad_in : SparseRows
        rows (P,) = the valid context entries, values (P, D) = dJ/dv_hat of their window.
    grad_out : SparseRows
        As in `skipgram_batch`, with n predictions instead of P: rows (n*(K+1),) or arange(W).
    """
    cost, in_rows, out_rows, values = _cbow_rows(centres, contexts, inputVectors, outputVectors,
                                                 negatives)
    P = in_rows.shape[0]
    return cost, SparseRows(in_rows, values[:P]), SparseRows(out_rows, values[P:])


_ROWS_OF = {skipgram_batch: _skipgram_rows, cbow_batch: _cbow_rows}


def stack_grads(grad_in, grad_out, W):
    """One SparseRows over the stacked (2W, D) wordVectors: output rows shifted by W."""
    return SparseRows(np.concatenate((grad_in.rows, grad_out.rows + W)),
                      np.concatenate((grad_in.values, grad_out.values)))


def word2vec_batch(model, centres, contexts, wordVectors, negatives=None):
    """Batched cost and gradient over the stacked word vectors (what ``q3_sgd.sgd`` applies).

    Same result as `model` followed by `stack_grads`, without copying the gradient values.

    Parameters
    ----------
    model : `skipgram_batch` or `cbow_batch`
    centres : ndarray of int, shape (n,)
    contexts : ndarray of int, shape (n, 2C), padded with -1
    wordVectors : ndarray of float64, shape (2W, D)
        Input vectors (rows :W) stacked on output vectors (rows W:).
    negatives : ndarray of int or None
        (P, K) for skip-gram, (n, K) for CBOW (see `negative_sample_targets`); None = softmax.

    Returns
    -------
    cost : float
        Summed over the batch (divide by n for the mean).
    grad : SparseRows
        Over the (2W, D) matrix: rows (P + M,), values (P + M, D) — the input-row gradients
        first, then the output rows (shifted by W). Both arrays are new on every call, so the
        caller may scale them in place. M = P*(K+1) (skip-gram) or n*(K+1) (CBOW) with negative
        sampling, W with the softmax; P = number of valid context entries.
    """
    wordVectors = as_floats(wordVectors, "word2vec_batch: wordVectors")
    N = len(wordVectors) if wordVectors.ndim else 1
    if wordVectors.ndim != 2 or N % 2:
        raise ValueError(f"word2vec_batch: wordVectors must be (2W, D); got shape {wordVectors.shape}")
    if model not in _ROWS_OF:
        raise ValueError(f"word2vec_batch: model must be skipgram_batch or cbow_batch, got {model!r}")
    W = N // 2
    cost, in_rows, out_rows, values = _ROWS_OF[model](centres, contexts, wordVectors[:W],
                                                      wordVectors[W:], negatives)
    rows = np.empty(values.shape[0], dtype=np.intp)
    rows[:in_rows.shape[0]] = in_rows
    np.add(out_rows, W, out=rows[in_rows.shape[0]:])
    return cost, SparseRows(rows, values)
