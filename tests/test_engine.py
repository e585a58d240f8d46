"""Tests of the training engine (w2v_engine/): it computes exactly what q3_word2vec.py computes.

The proofs the engine's contract rests on:
* batched == the sum of the classic per-window results, to 1e-10 (absolute on gradients, relative
  on costs), for both models and both losses, with the same negative samples;
* the prepared fast path == the batched path, to 1e-12;
* the sampler gives the same minibatches from a checkpointed state, and with or without its
  worker process, bit for bit.
Gradients are also checked with q2_gradcheck.gradcheck_naive (h = 1e-4, relative error <= 1e-5).

A proof that uses the course's functions is marked @names_the_wrong_side: when it fails, its
message starts with the side that disagrees with the stored reference values
(tests/fixtures/w2v_reference.json), so that a wrong course function (a learner's edit) is named
as such and nobody is sent to the engine for it.
"""
import math
import os
import warnings

import numpy as np
import pytest

import q3_word2vec
from q2_gradcheck import gradcheck_naive
from q2_sigmoid import sigmoid
from q3_word2vec import cbow, negSamplingCostAndGradient, skipgram, softmaxCostAndGradient
from w2v_engine import Objective, batched
from w2v_engine.batched import (cbow_batch, negative_sample_targets, negsample_loss, pair_bounds,
                                skipgram_batch, skipgram_pairs, stack_grads, word2vec_batch)
from w2v_engine.prefetch import worker_supported
from w2v_engine.prepared import (PreparedChunk, prepare_skipgram_negsample,
                                 skipgram_negsample_fast)
from w2v_engine.sampler import BatchSampler
from w2v_engine.sparse import RowScatter, SparseRows, flat_indices, pair_layout
from w2v_helpers import (D, K, LOSSES, W, FakeDataset, ReplayDataset, assert_close, child_pids,
                         classic_loss, classic_sum, flip_target_row, gone, names_the_wrong_side, random_negatives,
                         random_vectors, random_windows)

MODELS = [(skipgram, skipgram_batch), (cbow, cbow_batch)]




# ---- the negative-sampling kernel ----------------------------------------------------------------

def test_total_sums_by_hand_empty_and_past_its_cached_ones():
    # the kernel's sums (ones-dot): a dot product with a cached vector of ones
    assert batched.total(np.array([1.0, 2.0, 3.5])) == 6.5
    assert batched.total(np.zeros((0, 11))) == 0.0
    big = np.random.default_rng(0).standard_normal((700, 11))     # more than any cache so far
    assert batched.total(big) == pytest.approx(np.sum(big), rel=1e-12, abs=1e-12)
    ones = batched._ONES
    assert ones.shape[0] >= big.size and not ones.flags.writeable and np.all(ones == 1.0)
    assert batched.total(np.array([[2.0], [-2.0]])) == 0.0          # a smaller one after it


@names_the_wrong_side
def test_negsample_kernel_by_hand_and_at_the_extremes():
    # one prediction v = [1], rows [u_o, u_1, u_2] = [2, -1, 1000]: scores s = (2, -1, 1000)
    v_hat, U_idx = np.array([[1.0]]), np.array([[[2.0], [-1.0], [1000.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no overflow, no log(0), no 0/0
        cost, delta = negsample_loss(v_hat, U_idx)
    # J = -log sigma(2) - log sigma(1) - log sigma(-1000) = log(1+e^-2) + log(1+e^-1) + 1000
    assert cost == pytest.approx(math.log1p(math.exp(-2)) + math.log1p(math.exp(-1)) + 1000,
                                 rel=1e-15)
    assert delta.shape == (1, 3)
    assert_close(delta, [[sigmoid(2.0) - 1, sigmoid(-1.0), 1.0]], 1e-15)


@names_the_wrong_side
def test_negsample_kernel_matches_logaddexp_and_q2_sigmoid():
    rng = np.random.default_rng(3)
    v_hat, U_idx = rng.standard_normal((6, 3)) * 4, rng.standard_normal((6, K + 1, 3)) * 4
    cost, delta = negsample_loss(v_hat, U_idx)
    s = np.einsum("pkd,pd->pk", U_idx, v_hat)     # (P, K+1) scores
    s[:, 0] *= -1                                 # J = sum log(1 + e^z), z = [-s_o, s_k]
    assert cost == pytest.approx(np.logaddexp(0, s).sum(), rel=1e-14)
    expected = sigmoid(s)
    expected[:, 0] *= -1                          # dJ/ds_o = -sigma(-s_o)
    assert_close(delta, expected, 1e-15)          # (einsum and matmul round the scores apart)


@names_the_wrong_side
def test_negsample_kernel_sigmoid_is_q2_sigmoid_bit_for_bit_at_the_extremes():
    # D = 1 and v = 1, so the scores are exact; from -1000 to 1000 through 0 (both branches, the far tails, exact 0 and 1)
    s = np.concatenate([-np.logspace(3, -3, 40), [0.0, -0.0], np.logspace(-3, 3, 40)])
    P = s.size // (K + 1)
    s = s[:P * (K + 1)].reshape(P, K + 1)
    v_hat, U_idx = np.ones((P, 1)), s[:, :, None].copy()   # s_pj = u_pj . 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost, delta = negsample_loss(v_hat, U_idx)
    z = s.copy()
    z[:, 0] *= -1
    expected = sigmoid(z)
    expected[:, 0] *= -1
    assert delta.shape == expected.shape
    assert np.array_equal(delta, expected)
    assert cost == pytest.approx(np.logaddexp(0, z).sum(), rel=1e-14)


# ---- batched path ------------------------------------------------------------------------------

def batch_negatives(rng, batch_model, centres, contexts, loss):
    if loss == "softmax":
        return None
    return random_negatives(rng, negative_sample_targets(batch_model, centres, contexts))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("model,batch_model", MODELS, ids=["skipgram", "cbow"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@names_the_wrong_side
def test_batched_equals_sum_of_classic(model, batch_model, loss, seed):
    rng = np.random.default_rng(100 + seed)
    V, U = random_vectors(rng)
    centres, contexts = random_windows(rng, n=8)
    negatives = batch_negatives(rng, batch_model, centres, contexts, loss)
    cost, gin, gout = classic_sum(model, classic_loss(loss), centres, contexts, V, U, negatives)

    bcost, grad_in, grad_out = batch_model(centres, contexts, V, U, negatives)
    assert isinstance(grad_in, SparseRows) and isinstance(grad_out, SparseRows)
    assert abs(bcost - cost) <= 1e-10 * max(1.0, abs(cost))
    assert_close(grad_in.to_dense((W, D)), gin, 1e-10)
    assert_close(grad_out.to_dense((W, D)), gout, 1e-10)

    scost, stacked = word2vec_batch(batch_model, centres, contexts, np.vstack((V, U)), negatives)
    assert scost == bcost
    assert_close(stacked.to_dense((2 * W, D)), np.vstack((gin, gout)), 1e-10)
    assert_close(stack_grads(grad_in, grad_out, W).to_dense((2 * W, D)),
                 stacked.to_dense((2 * W, D)), 0)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("batch_model", [skipgram_batch, cbow_batch], ids=["skipgram", "cbow"])
@names_the_wrong_side
def test_batched_gradchecks(batch_model, loss):
    rng = np.random.default_rng(9)
    V, U = random_vectors(rng)
    centres, contexts = random_windows(rng, n=5)
    negatives = batch_negatives(rng, batch_model, centres, contexts, loss)

    def f_in(x):
        cost, grad_in, _ = batch_model(centres, contexts, x, U, negatives)
        return cost, grad_in.to_dense(x.shape)

    def f_out(x):
        cost, _, grad_out = batch_model(centres, contexts, V, x, negatives)
        return cost, grad_out.to_dense(x.shape)

    def f_stacked(x):
        cost, grad = word2vec_batch(batch_model, centres, contexts, x, negatives)
        return cost, grad.to_dense(x.shape)

    assert gradcheck_naive(f_in, V, verbose=False), "input vectors"
    assert gradcheck_naive(f_out, U, verbose=False), "output vectors"
    assert gradcheck_naive(f_stacked, np.vstack((V, U)), verbose=False), "stacked"


def test_batched_negsample_gradient_is_sparse_with_the_documented_rows():
    rng = np.random.default_rng(10)
    V, U = random_vectors(rng)
    centres, contexts = random_windows(rng, n=6)
    pair_centres, pair_targets = skipgram_pairs(centres, contexts)
    assert_close(pair_targets, contexts[contexts >= 0], 0)
    P = pair_targets.shape[0]
    negatives = random_negatives(rng, pair_targets)
    _, grad_in, grad_out = skipgram_batch(centres, contexts, V, U, negatives)
    assert_close(grad_in.rows, pair_centres, 0)
    assert grad_in.values.shape == (P, D)
    expected_rows = np.column_stack((pair_targets, negatives)).ravel()   # [o, k_1..k_K] per pair
    assert_close(grad_out.rows, expected_rows, 0)
    assert grad_out.values.shape == (P * (K + 1), D)
    _, grad_in, grad_out = cbow_batch(centres, contexts, V, U, random_negatives(rng, centres))
    assert_close(grad_in.rows, contexts[contexts >= 0], 0)
    assert grad_out.values.shape == (centres.shape[0] * (K + 1), D)


@pytest.mark.parametrize("batch_model", [skipgram_batch, cbow_batch], ids=["skipgram", "cbow"])
def test_batched_padding_is_ignored(batch_model):
    rng = np.random.default_rng(11)
    V, U = random_vectors(rng)
    centres, contexts = random_windows(rng, n=6)
    negatives = random_negatives(rng, negative_sample_targets(batch_model, centres, contexts))
    wider = np.full((contexts.shape[0], contexts.shape[1] + 3), -1)
    wider[:, :contexts.shape[1]] = contexts
    wider[wider < 0] = -7                    # any negative entry is padding
    for negs in (negatives, None):
        cost, gin, gout = batch_model(centres, contexts, V, U, negs)
        cost2, gin2, gout2 = batch_model(centres, wider, V, U, negs)
        assert cost2 == pytest.approx(cost, rel=1e-15)
        assert_close(gin2.to_dense((W, D)), gin.to_dense((W, D)), 1e-15)
        assert_close(gout2.to_dense((W, D)), gout.to_dense((W, D)), 1e-15)


@names_the_wrong_side
def test_batched_single_entry_and_empty_windows():
    rng = np.random.default_rng(12)
    V, U = random_vectors(rng)
    # one valid context word: skip-gram and CBOW are the same loss of the same two words
    centres, contexts = np.array([2]), np.array([[5, -1, -1, -1]])
    negatives = np.array([[1, 1, 3, 0]])
    sg = skipgram_batch(centres, np.array([[5, -1, -1, -1]]), V, U, np.array([[1, 1, 3, 0]]))
    expected = negSamplingCostAndGradient(V[2], 5, U, ReplayDataset([1, 1, 3, 0]), K=4)
    assert sg[0] == pytest.approx(expected[0], rel=1e-14)
    assert_close(sg[1].to_dense((W, D))[2], expected[1], 1e-14)
    assert_close(sg[2].to_dense((W, D)), expected[2], 1e-14)
    cb = cbow_batch(np.array([5]), contexts, V, U, negatives)
    expected = negSamplingCostAndGradient(V[5], 5, U, ReplayDataset([1, 1, 3, 0]), K=4)
    assert cb[0] == pytest.approx(expected[0], rel=1e-14)
    # a window with no valid entry: skip-gram adds nothing; CBOW predicts from v_hat = 0,
    # so the softmax cost is log W by hand and no input row gets a gradient
    empty = np.full((1, 4), -1)
    cost, gin, gout = skipgram_batch(np.array([3]), empty, V, U, np.zeros((0, K), dtype=int))
    assert cost == 0.0 and gin.rows.size == 0 and gout.rows.size == 0
    cost, gin, gout = cbow_batch(np.array([3]), empty, V, U)
    assert cost == pytest.approx(math.log(W), rel=1e-14)
    assert gin.rows.size == 0


@names_the_wrong_side
def test_batched_repeated_context_word_counts_twice():
    rng = np.random.default_rng(13)
    V, U = random_vectors(rng)
    _, grad_in, _ = cbow_batch(np.array([0]), np.array([[4, 4, 2, -1]]), V, U)
    _, grad_v, _ = softmaxCostAndGradient(2 * V[4] + V[2], 0, U, None)
    dense = grad_in.to_dense((W, D))
    assert_close(dense[4], 2 * grad_v, 1e-14)
    assert_close(dense[2], grad_v, 1e-14)


def test_batched_input_errors_name_the_argument():
    rng = np.random.default_rng(14)
    V, U = random_vectors(rng)
    centres, contexts = random_windows(rng, n=3)
    P = int((contexts >= 0).sum())
    with pytest.raises(ValueError, match="negatives"):
        skipgram_batch(centres, contexts, V, U, np.zeros((P + 1, K), dtype=int))
    with pytest.raises(ValueError, match="negatives"):
        cbow_batch(centres, contexts, V, U, np.zeros((P, K), dtype=int))
    with pytest.raises(TypeError, match="integer"):
        skipgram_batch(centres, contexts.astype(float), V, U)
    with pytest.raises(ValueError, match="contexts"):
        cbow_batch(centres, contexts[:2], V, U)
    with pytest.raises(ValueError, match="model"):
        word2vec_batch(skipgram, centres, contexts, np.vstack((V, U)))
    with pytest.raises(ValueError, match="model"):
        negative_sample_targets(cbow, centres, contexts)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("model,batch_model", MODELS, ids=["skipgram", "cbow"])
@names_the_wrong_side
def test_batched_first_and_last_word_indices_equal_classic(model, batch_model, loss):
    # 0 and W-1 everywhere (centres, contexts, negatives): valid rows, neither rejected nor wrapped
    rng = np.random.default_rng(15)
    V, U = random_vectors(rng)
    last = W - 1
    centres = np.array([0, last, last])
    contexts = np.array([[last, 0, -1, -1], [0, -1, last, -1], [last, last, 0, -9]])
    negatives = None
    if loss == "negsample":
        targets = negative_sample_targets(batch_model, centres, contexts)
        negatives = np.where(np.arange(K) % 2, 0, last)[None, :].repeat(len(targets), axis=0)
        negatives[targets == last] = 0          # never the target itself, as the sampler draws
        negatives[targets == 0] = last
    cost, gin, gout = classic_sum(model, classic_loss(loss), centres, contexts, V, U, negatives)
    bcost, grad = word2vec_batch(batch_model, centres, contexts, np.vstack((V, U)), negatives)
    assert abs(bcost - cost) <= 1e-10 * max(1.0, abs(cost))
    assert_close(grad.to_dense((2 * W, D)), np.vstack((gin, gout)), 1e-10)
    if batch_model is skipgram_batch and negatives is not None:    # the fast path, same numbers
        bounds, rows, flat = prepare_skipgram_negsample(centres, contexts, negatives, W, D // 2)
        fcost, fgrad = skipgram_negsample_fast(np.vstack((V, U)), PreparedChunk(bounds, rows, flat).batch(0))
        assert fcost == pytest.approx(bcost, rel=1e-12)
        assert_close(fgrad.to_dense((2 * W, D)), grad.to_dense((2 * W, D)), 1e-12)


# ---- prepared skip-gram batches (the trainer's fast path) ----------------------------------------

def prepared_chunk(rng, n_batches, batch, cols, n_empty=0):
    """Random windows of n_batches minibatches (the first n_empty windows without any context word),
    their negatives and their PreparedChunk."""
    centres, contexts = random_windows(rng, n=n_batches * batch)
    contexts[:n_empty] = -1
    negatives = random_negatives(rng, negative_sample_targets(skipgram_batch, centres, contexts))
    bounds, rows, flat = prepare_skipgram_negsample(centres, contexts, negatives, W, cols,
                                                        batch)
    return centres, contexts, negatives, bounds, PreparedChunk(bounds, rows, flat)


@pytest.mark.parametrize("D_", [4, 5], ids=["even-D-complex-pairs", "odd-D-floats"])
def test_prepared_fast_path_equals_word2vec_batch(D_):
    rng = np.random.default_rng(20 + D_)
    x = rng.standard_normal((2 * W, D_))
    cols = pair_layout(D_, np.float64)[1]
    batch = 3
    centres, contexts, negatives, bounds, chunk = prepared_chunk(rng, 4, batch, cols)
    assert len(chunk) == 4 and bounds.tolist()[0] == 0 and bounds[-1] == negatives.shape[0]
    for t in range(4):
        prepared = chunk.batch(t)
        sl = slice(t * batch, (t + 1) * batch)
        cost, grad = word2vec_batch(skipgram_batch, centres[sl], contexts[sl], x,
                                    negatives[bounds[t]:bounds[t + 1]])
        P = prepared.n_pairs
        assert P == bounds[t + 1] - bounds[t] and prepared.rows.shape == (P * (K + 2),)
        assert np.array_equal(prepared.rows, grad.rows)          # the same rows, same order
        assert np.array_equal(prepared.flat, flat_indices(grad.rows, cols))
        fcost, fgrad = skipgram_negsample_fast(x, prepared, scale=0.25)
        assert fcost == pytest.approx(0.25 * cost, rel=1e-12)
        sparse = fgrad.to_sparse()
        assert np.array_equal(sparse.rows, grad.rows)
        assert_close(sparse.values, 0.25 * grad.values, 1e-12)
        assert_close(fgrad.to_dense(x.shape), 0.25 * grad.to_dense(x.shape), 1e-12)


def test_prepared_fast_gradient_applies_like_its_sparse_rows():
    rng = np.random.default_rng(30)
    x0 = rng.standard_normal((2 * W, D))
    _, _, _, _, chunk = prepared_chunk(rng, 2, 4, D // 2)
    cost, grad = skipgram_negsample_fast(x0, chunk.batch(1), scale=0.5)
    sparse = grad.to_sparse()
    a, b = x0.copy(), x0.copy()
    scatter = RowScatter()
    grad.add_to(a, -0.3, scatter)                 # factor folded into the (P, K+1) coefficients
    sparse.add_to(b, -0.3)                        # the values, then multiplied
    assert_close(a, b, 1e-15)
    assert not np.array_equal(a, x0)
    c = np.asfortranarray(x0)                     # no flat view: the generic scatter
    grad.add_to(c, -0.3)
    assert_close(c, b, 1e-15)
    with pytest.raises(ValueError, match="row width"):
        grad.add_to(np.zeros((2 * W, D + 2)), -0.3)


@names_the_wrong_side
def test_prepared_fast_path_gradchecks_and_handles_empty_minibatches():
    rng = np.random.default_rng(31)
    x = rng.standard_normal((2 * W, D))
    _, _, _, bounds, chunk = prepared_chunk(rng, 2, 3, D // 2, n_empty=3)
    assert bounds.tolist()[:2] == [0, 0]              # minibatch 0: three windows, no pair
    cost, grad = skipgram_negsample_fast(x, chunk.batch(0))
    assert cost == 0.0 and not grad.to_dense(x.shape).any()
    y = x.copy()
    grad.add_to(y, -1.0, RowScatter())
    assert np.array_equal(y, x)

    def f(vec):
        cost, g = skipgram_negsample_fast(vec, chunk.batch(1))
        return cost, g.to_dense(vec.shape)
    assert gradcheck_naive(f, x, verbose=False)


def test_prepare_rejects_bad_shapes():
    rng = np.random.default_rng(32)
    centres, contexts = random_windows(rng, n=4)
    negatives = random_negatives(rng, negative_sample_targets(skipgram_batch, centres, contexts))
    with pytest.raises(ValueError, match="whole number of minibatches of 3"):
        prepare_skipgram_negsample(centres, contexts, negatives, W, 2, batch=3)
    with pytest.raises(ValueError, match="one row per valid context entry"):
        prepare_skipgram_negsample(centres, contexts, negatives[1:], W, 2)

# ---- the sampler and the objective ---------------------------------------------------------------

@pytest.mark.parametrize("model", [skipgram_batch, cbow_batch])
@pytest.mark.parametrize("stop_after", [0, 1, 6, 7, 8, 13])
def test_sampler_state_restores_the_same_batches(model, stop_after):
    # chunk of 7 iterations: stopping at 7 is a chunk boundary, 13 the middle of the 2nd chunk
    def sampler(seed):
        return BatchSampler(FakeDataset(), np.random.default_rng(seed), batch=4, C=3, K=5,
                                   model=model, negsample=True, chunk=7)
    whole = sampler(1)
    expected = [whole.next_batch() for _ in range(20)]
    first = sampler(1)
    for _ in range(stop_after):
        first.next_batch()
    state = first.get_state()
    second = sampler(999)            # another seed: everything must come from the state
    second.set_state(state)
    for want in expected[stop_after:]:
        got = second.next_batch()
        for a, b in zip(got, want):
            assert a.shape == b.shape and np.array_equal(a, b)
    # the negatives of a batch are one row per target the model wants
    centres, contexts, negatives = expected[3]
    n_targets = (contexts >= 0).sum() if model is skipgram_batch else len(centres)
    assert centres.shape == (4,) and contexts.shape == (4, 6) and negatives.shape == (n_targets, 5)


def test_objective_is_the_batch_mean():
    ds, rng = FakeDataset(), np.random.default_rng(0)
    x = rng.standard_normal((100, 6)) * 0.1
    for model, loss in (("skipgram", "negsample"), ("skipgram", "softmax"), ("cbow", "negsample")):
        objective = Objective(ds, model, loss, batch=4, C=3, K=5, dim=6,
                              rng=np.random.default_rng(3), worker=False)
        sampler = BatchSampler(ds, np.random.default_rng(3), 4, 3, 5, objective.model,
                               loss == "negsample", chunk=objective.chunk)
        for _ in range(3):
            cost, grad = objective(x)
            centres, contexts, negatives = sampler.next_batch()
            total, g = word2vec_batch(objective.model, centres, contexts, x, negatives)
            assert cost == pytest.approx(total / 4, rel=1e-13)
            assert np.allclose(grad.to_dense(x.shape), g.to_dense(x.shape) / 4, rtol=0, atol=1e-13)
            y, z = x.copy(), x.copy()
            grad.add_to(y, -0.3)                  # sgd's protocol: add_to(x, factor), in place
            g.add_to(z, -0.3 / 4)
            assert np.allclose(y, z, rtol=0, atol=1e-14)
        objective.close()
    with pytest.raises(ValueError, match="model must be one of"):
        Objective(ds, "glove", "negsample", 4, 3, 5, 6, np.random.default_rng(0))


def test_pair_bounds_by_hand():
    contexts = np.array([[1, -1], [2, 3], [-1, -1], [4, -1]])     # 1, 2, 0, 1 valid entries
    assert pair_bounds(contexts, 2).tolist() == [0, 3, 4]
    assert pair_bounds(contexts, 1).tolist() == [0, 1, 3, 3, 4]
    with pytest.raises(ValueError, match="whole number of minibatches of 3"):
        pair_bounds(contexts, 3)


W_FAKE, D_FAKE = 50, 6          # FakeDataset draws word indices < 50


def fake_sampler(seed, chunk, prepared, prefetch=False, batch=4):
    return BatchSampler(FakeDataset(), np.random.default_rng(seed), batch=batch, C=3, K=5,
                               model=skipgram_batch, negsample=True, chunk=chunk,
                               prepare_for=(W_FAKE, D_FAKE) if prepared else None,
                               prefetch=prefetch)


def test_prepared_sampler_equals_the_readable_path():
    # the same seed and chunk draw the same windows and negatives; the prepared sampler turns
    # them into index arrays. 11 iterations cross two chunk boundaries (chunk = 4).
    raw, prepared = fake_sampler(5, 4, False), fake_sampler(5, 4, True)
    x = np.random.default_rng(0).standard_normal((2 * W_FAKE, D_FAKE)) * 0.3
    for _ in range(11):
        centres, contexts, negatives = raw.next_batch()
        total, expected = word2vec_batch(skipgram_batch, centres, contexts, x, negatives)
        cost, grad = skipgram_negsample_fast(x, prepared.next_prepared(), 1 / 4)
        got = grad.to_sparse()
        assert cost == pytest.approx(total / 4, rel=1e-12)
        assert np.array_equal(got.rows, expected.rows)
        assert got.values.shape == expected.values.shape
        assert np.allclose(got.values, expected.values / 4, rtol=0, atol=1e-12)
        grad.add_to(x, -0.5)                      # move on, as sgd would
    with pytest.raises(RuntimeError, match="next_prepared"):
        prepared.next_batch()


@pytest.mark.parametrize("stop_after", [0, 3, 4, 9])
def test_prepared_sampler_state_restores_the_same_batches(stop_after):
    whole = fake_sampler(1, 4, True)
    expected = [whole.next_prepared() for _ in range(12)]
    expected = [(p.rows.copy(), p.flat.copy()) for p in expected]
    first = fake_sampler(1, 4, True)
    for _ in range(stop_after):
        first.next_prepared()
    second = fake_sampler(999, 4, True)
    second.set_state(first.get_state())
    for rows, flat in expected[stop_after:]:
        got = second.next_prepared()
        assert np.array_equal(got.rows, rows) and np.array_equal(got.flat, flat)


needs_worker = pytest.mark.skipif(not worker_supported(), reason="no forked worker on this OS")


@needs_worker
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "raw"])
def test_worker_gives_the_same_batches_and_is_reaped(prepared):
    def batches(sampler, n):
        out = []
        for _ in range(n):
            b = sampler.next_prepared() if prepared else sampler.next_batch()
            out.append([np.array(a, copy=True) for a in b[:2]])   # copies: views get recycled
        return out
    inline = fake_sampler(7, 3, prepared)
    expected = batches(inline, 14)
    worker = fake_sampler(7, 3, prepared, prefetch=True)
    got = batches(worker, 5)
    pid = worker._source._proc.pid
    assert pid in child_pids(os.getpid())
    state = worker.get_state()
    worker.close()                                # stops and reaps the worker
    assert pid not in child_pids(os.getpid()) and gone(pid)
    got += batches(worker, 4)                     # a new worker goes on where the last one was
    worker.set_state(state)                       # ... and restarts from a saved state
    got = got[:5] + batches(worker, 9)
    worker.close()
    assert len(got) == len(expected) == 14
    for g, e in zip(got, expected):
        for a, b in zip(g, e):
            assert np.array_equal(a, b)
    assert child_pids(os.getpid()) == []


# ---- a failing proof names the wrong side ---------------------------------------------------------

def test_a_wrong_course_function_is_named_and_the_engine_is_cleared(monkeypatch):
    monkeypatch.setattr(q3_word2vec, "negSamplingCostAndGradient",
                        flip_target_row(q3_word2vec.negSamplingCostAndGradient))
    with pytest.raises(AssertionError) as err:
        test_batched_equals_sum_of_classic(skipgram, skipgram_batch, "negsample", 0)
    first = str(err.value).splitlines()[0]
    assert first.startswith("q3_word2vec.negSamplingCostAndGradient disagrees with the stored "
                            "reference values"), first
    assert "the engine is not at fault" in first and "python q3_word2vec.py" in first


def test_a_wrong_engine_is_named_as_the_engine(monkeypatch):
    original = batched.negsample_loss

    def buggy(v_hat, U_idx):
        cost, delta = original(v_hat, U_idx)
        return cost * 1.01, delta
    monkeypatch.setattr(batched, "negsample_loss", buggy)
    with pytest.raises(AssertionError) as err:
        test_batched_equals_sum_of_classic(skipgram, skipgram_batch, "negsample", 0)
    first = str(err.value).splitlines()[0]
    assert first.startswith("the engine's skipgram/negsample differs from the stored reference "
                            "values"), first
