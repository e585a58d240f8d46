"""Tests of q3_word2vec: classic per-window functions, the batched path, and their agreement.

Tolerances: gradients are checked with q2_gradcheck.gradcheck_naive (centred differences, h = 1e-4,
relative error <= 1e-5); batched results must equal the sum of the classic ones to 1e-10
(absolute on gradients, relative on costs); hand values to 1e-12 unless stated.
"""
import math
import random
import warnings

import numpy as np
import pytest

import q3_word2vec as w2v
from q1_softmax import softmax
from q2_gradcheck import gradcheck_naive
from q2_sigmoid import sigmoid
from q3_word2vec import (cbow, cbow_batch, getNegativeSamples, negative_sample_targets,
                         negSamplingCostAndGradient, normalizeRows, skipgram, skipgram_batch,
                         skipgram_pairs, softmaxCostAndGradient, stack_grads, word2vec_batch,
                         word2vec_sgd_wrapper)
from w2v_engine.sparse import RowScatter, SparseRows, flat_indices, pair_layout

W, D, C, K = 7, 4, 3, 4          # small problem: vocabulary, dimension, context size, negatives
WORDS = [f"w{i}" for i in range(W)]
TOKENS = {word: i for i, word in enumerate(WORDS)}


# ---- helpers -----------------------------------------------------------------------------------

class ReplayDataset:
    """sampleTokenIdx() replays a fixed sequence of draws; tells how many are left."""

    def __init__(self, draws):
        self.draws = list(np.asarray(draws).ravel().tolist())
        self.pos = 0

    def sampleTokenIdx(self):
        value = self.draws[self.pos]
        self.pos += 1
        return value

    def left(self):
        return len(self.draws) - self.pos


class RandomDataset:
    """Draws with Python's `random`, so gradcheck_naive (which restores that state) sees fixed samples."""

    def __init__(self, n_words):
        self.n_words = n_words

    def sampleTokenIdx(self):
        return random.randint(0, self.n_words - 1)

    def getRandomContext(self, C):
        centre = WORDS[random.randint(0, self.n_words - 1)]
        return centre, [WORDS[random.randint(0, self.n_words - 1)] for _ in range(2 * C)]


def negsample_K(predicted, target, outputVectors, dataset):
    """The classic negative-sampling loss with this file's K."""
    return negSamplingCostAndGradient(predicted, target, outputVectors, dataset, K)


def random_windows(rng, n=6, width=2 * C):
    """centres (n,), contexts (n, width) padded with -1; window i has 1 + i % width valid entries,
    so there is a single-entry window, a full one, and (W = 7 words) repeated context words."""
    centres = rng.integers(W, size=n)
    contexts = rng.integers(W, size=(n, width))
    for i in range(n):
        contexts[i, 1 + i % width:] = -1
    return centres, contexts


def random_negatives(rng, targets, k=K):
    """(len(targets), k) samples, never equal to their row's target (as the trainer's sampler)."""
    return (targets[:, None] + rng.integers(1, W, size=(targets.shape[0], k))) % W


def random_vectors(rng, scale=1.0):
    return scale * rng.standard_normal((W, D)), scale * rng.standard_normal((W, D))


def classic_sum(model, loss, centres, contexts, inputVectors, outputVectors, negatives):
    """Sum of the classic per-window results; negatives replayed in the batched order."""
    dataset = ReplayDataset([] if negatives is None else negatives)
    cost, gin, gout = 0.0, np.zeros((W, D)), np.zeros((W, D))
    for centre, context in zip(centres, contexts):
        c, i, o = model(WORDS[centre], C, [WORDS[j] for j in context if j >= 0], TOKENS,
                        inputVectors, outputVectors, dataset, loss)
        cost, gin, gout = cost + c, gin + i, gout + o
    assert dataset.left() == 0, "the classic path did not consume exactly the batched negatives"
    return cost, gin, gout


def assert_close(got, expected, atol):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    assert np.allclose(got, expected, rtol=0, atol=atol), f"\n{got}\n!=\n{expected}"


MODELS = [(skipgram, skipgram_batch), (cbow, cbow_batch)]
LOSSES = ["softmax", "negsample"]


def classic_loss(loss):
    return softmaxCostAndGradient if loss == "softmax" else negsample_K


# ---- normalizeRows -----------------------------------------------------------------------------

def test_normalizeRows_hand_values():
    got = normalizeRows(np.array([[3.0, 4.0], [1.0, 2.0]]))
    assert_close(got, [[0.6, 0.8], [1 / math.sqrt(5), 2 / math.sqrt(5)]], 1e-15)
    assert_close(got, [[0.6, 0.8], [0.4472136, 0.89442719]], 1e-8)   # the course's printed values


def test_normalizeRows_zero_rows_integer_and_1d_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = normalizeRows(np.array([[0, 0, 0], [0, 3, 4], [-2, 0, 0]]))   # integer dtype
        vec = normalizeRows(np.array([3, 4]))
    assert got.dtype == np.float64
    assert_close(got, [[0, 0, 0], [0, 0.6, 0.8], [-1, 0, 0]], 1e-15)
    assert_close(vec, [0.6, 0.8], 1e-15)
    x = np.random.default_rng(0).standard_normal((5, 3)) * 1e3
    assert_close(np.linalg.norm(normalizeRows(x), axis=1), np.ones(5), 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # squaring 1e200 would overflow, 1e-200 underflow
        extreme = normalizeRows(np.array([[3e200, 4e200], [3e-200, -4e-200]]))
    assert_close(extreme, [[0.6, 0.8], [0.6, -0.8]], 1e-15)
    with pytest.raises(ValueError, match="normalizeRows"):
        normalizeRows(np.zeros((2, 2, 2)))


# ---- the two losses: hand values and edge cases ---------------------------------------------------

def test_softmax_two_words_by_hand():
    # v = [1], u_0 = [2], u_1 = [0], target 1: scores (2, 0), cost = log(1 + e^2),
    # y_hat - y = (s, -s) with s = sigma(2); gradPred = 2 s; grad = (s, -s) v^T
    s = 1 / (1 + math.exp(-2))
    cost, gradPred, grad = softmaxCostAndGradient(np.array([1.0]), 1, np.array([[2.0], [0.0]]), None)
    assert cost == pytest.approx(math.log(1 + math.e ** 2), rel=1e-14)
    assert_close(gradPred, [2 * s], 1e-14)
    assert_close(grad, [[s], [-s]], 1e-14)


def test_softmax_matches_q1_softmax_and_is_stable():
    rng = np.random.default_rng(1)
    v, U = rng.standard_normal(D), rng.standard_normal((W, D))
    cost, gradPred, grad = softmaxCostAndGradient(v, 3, U, None)
    y_hat = softmax(U @ v)                 # (W,)
    y = np.eye(W)[3]
    assert cost == pytest.approx(-math.log(y_hat[3]), rel=1e-13)
    assert_close(gradPred, U.T @ (y_hat - y), 1e-13)
    assert_close(grad, np.outer(y_hat - y, v), 1e-13)
    # scores of +-1e4: the target's probability underflows to 0, yet the cost stays finite and exact
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost, gradPred, grad = softmaxCostAndGradient(np.array([1e4]), 1, np.array([[1.0], [-1.0]]), None)
    assert cost == pytest.approx(2e4, rel=1e-14)
    assert np.all(np.isfinite(gradPred)) and np.all(np.isfinite(grad))


def test_negsample_by_hand_duplicate_negative_counts_twice():
    # U = 0: every score is 0, sigma = 1/2; cost = (K+1) log 2; the target row gets -v/2,
    # each draw of a negative +v/2 -- word 3 is drawn twice, so its row gets v
    v = np.array([1.0, 2.0])
    dataset = ReplayDataset([3, 0, 3, 1])     # target 0: the draw of 0 is rejected and redrawn
    cost, gradPred, grad = negSamplingCostAndGradient(v, 0, np.zeros((5, 2)), dataset, K=3)
    assert dataset.left() == 0
    assert cost == pytest.approx(4 * math.log(2), rel=1e-14)
    assert_close(gradPred, [0, 0], 0)
    assert_close(grad, [-v / 2, v / 2, [0, 0], v, [0, 0]], 1e-15)


def test_negsample_matches_the_formula():
    rng = np.random.default_rng(2)
    v, U = rng.standard_normal(D), rng.standard_normal((W, D))
    draws = [2, 5, 2, 6]                      # 2 twice
    cost, gradPred, grad = negSamplingCostAndGradient(v, 4, U, ReplayDataset(draws), K=4)
    u_o = U[4]
    expected = -math.log(sigmoid(u_o @ v)) - sum(math.log(sigmoid(-U[k] @ v)) for k in draws)
    assert cost == pytest.approx(expected, rel=1e-13)
    expected_pred = (sigmoid(u_o @ v) - 1) * u_o + sum(sigmoid(U[k] @ v) * U[k] for k in draws)
    assert_close(gradPred, expected_pred, 1e-13)
    expected_grad = np.zeros((W, D))
    expected_grad[4] += (sigmoid(u_o @ v) - 1) * v
    for k in draws:
        expected_grad[k] += sigmoid(U[k] @ v) * v
    assert_close(grad, expected_grad, 1e-13)


def test_negsample_is_stable_at_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # target score +1e4 (well predicted) and a negative at -1e4: cost ~ 0
        cost, gradPred, grad = negSamplingCostAndGradient(
            np.array([1e4]), 0, np.array([[1.0], [-1.0]]), ReplayDataset([1]), K=1)
        assert cost == 0.0 and np.all(gradPred == 0) and np.all(grad == 0)
        # both the other way round: cost = 2e4 exactly, gradients finite
        cost, gradPred, grad = negSamplingCostAndGradient(
            np.array([1e4]), 1, np.array([[1.0], [-1.0]]), ReplayDataset([0]), K=1)
    assert cost == pytest.approx(2e4, rel=1e-14)
    assert_close(gradPred, [2.0], 1e-12)      # (sigma(s_o) - 1) u_o + sigma(s_k) u_k = (-1)(-1) + (1)(1)
    assert_close(grad, [[1e4], [-1e4]], 1e-8)


def test_softplus_and_sigmoid_helper_matches_q2_sigmoid():
    z = np.array([[-1000.0, -30.0, -1.0, 0.0, 1e-300, 1.0, 30.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total, s = w2v._softplus_sum_and_sigmoid(z.copy())
        reference = np.logaddexp(0, z)
    assert_close(s, sigmoid(z), 1e-16)
    assert total == pytest.approx(reference.sum(), rel=1e-15)
    # more than 1023 columns takes the element-wise log branch
    big = np.random.default_rng(3).standard_normal((2, 1500)) * 5
    total, s = w2v._softplus_sum_and_sigmoid(big.copy())
    assert total == pytest.approx(np.logaddexp(0, big).sum(), rel=1e-13)
    assert_close(s, sigmoid(big), 1e-15)


def test_getNegativeSamples_order_and_redraw():
    dataset = ReplayDataset([0, 2, 0, 0, 3, 2, 9])
    assert getNegativeSamples(0, dataset, 3) == [2, 3, 2]
    assert dataset.left() == 1
    assert getNegativeSamples(5, ReplayDataset([]), 0) == []


def test_classic_input_errors_name_the_argument():
    with pytest.raises(ValueError, match="predicted"):
        softmaxCostAndGradient(np.zeros(3), 0, np.zeros((W, D)), None)
    with pytest.raises(ValueError, match="wordVectors"):
        word2vec_sgd_wrapper(skipgram, TOKENS, np.zeros((7, D)), RandomDataset(W), C)


# ---- classic models ----------------------------------------------------------------------------

def test_skipgram_sums_the_loss_over_context_words():
    rng = np.random.default_rng(4)
    V, U = random_vectors(rng)
    cost, gin, gout = skipgram("w2", C, ["w1", "w5", "w1"], TOKENS, V, U, None)
    parts = [softmaxCostAndGradient(V[2], o, U, None) for o in (1, 5, 1)]
    assert cost == pytest.approx(sum(p[0] for p in parts), rel=1e-14)
    expected_in = np.zeros((W, D))
    expected_in[2] = sum(p[1] for p in parts)
    assert_close(gin, expected_in, 1e-14)
    assert_close(gout, sum(p[2] for p in parts), 1e-14)


def test_cbow_uses_the_sum_and_counts_a_repeated_word_twice():
    rng = np.random.default_rng(5)
    V, U = random_vectors(rng)
    cost, gin, gout = cbow("w0", C, ["w3", "w1", "w3"], TOKENS, V, U, None)
    c, grad_v, grad_U = softmaxCostAndGradient(V[3] + V[1] + V[3], 0, U, None)
    assert cost == c
    expected_in = np.zeros((W, D))
    expected_in[3], expected_in[1] = 2 * grad_v, grad_v
    assert_close(gin, expected_in, 1e-14)
    assert_close(gout, grad_U, 0)


@pytest.mark.parametrize("loss", LOSSES)
def test_classic_loss_gradchecks(loss):
    rng = np.random.default_rng(6)
    v, U = rng.standard_normal(D), rng.standard_normal((W, D))
    F, dataset = classic_loss(loss), RandomDataset(W)
    random.seed(6)
    assert gradcheck_naive(lambda x: F(x, 2, U, dataset)[:2], v, verbose=False)
    assert gradcheck_naive(lambda x: F(v, 2, x, dataset)[::2], U, verbose=False)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("model", [skipgram, cbow], ids=["skipgram", "cbow"])
def test_classic_model_gradchecks_through_the_wrapper(model, loss):
    """Input and output vectors together: wordVectors stacks both."""
    rng = np.random.default_rng(7)
    vectors = normalizeRows(rng.standard_normal((2 * W, D)))
    dataset, F = RandomDataset(W), classic_loss(loss)
    random.seed(7)
    assert gradcheck_naive(lambda x: word2vec_sgd_wrapper(model, TOKENS, x, dataset, C, F),
                           vectors, verbose=False)


def test_wrapper_is_the_batch_mean_and_consumes_randomness_in_order():
    rng = np.random.default_rng(8)
    vectors = rng.standard_normal((2 * W, D))
    dataset = RandomDataset(W)
    random.seed(8)
    cost, grad = word2vec_sgd_wrapper(skipgram, TOKENS, vectors, dataset, C, negsample_K)
    random.seed(8)                        # replay by hand: C1, then the window, then its negatives
    expected_cost, expected_grad = 0.0, np.zeros((2 * W, D))
    for _ in range(w2v.BATCH_SIZE):
        C1 = random.randint(1, C)
        centre, context = dataset.getRandomContext(C1)
        c, gin, gout = skipgram(centre, C1, context, TOKENS, vectors[:W], vectors[W:], dataset, negsample_K)
        expected_cost += c / w2v.BATCH_SIZE
        expected_grad += np.vstack((gin, gout)) / w2v.BATCH_SIZE
    assert cost == pytest.approx(expected_cost, rel=1e-12)
    assert_close(grad, expected_grad, 1e-12)


# ---- the course's self-test numbers ------------------------------------------------------------

# The oracles live once, in q3_word2vec (its self-test prints them too).
# PUBLISHED: the course's expected output (2017 q3_word2vec.py); the cost is the published repr.
# OWN: this project's regression values (not published numbers we could verify). CBOW softmax uses
# no randomness; CBOW negative sampling depends on the random state the sequence below leaves.
PUBLISHED_SG_SOFTMAX = w2v.PUBLISHED_SKIPGRAM_SOFTMAX
PUBLISHED_SG_NEGSAMPLE = w2v.PUBLISHED_SKIPGRAM_NEGSAMPLE
OWN_CBOW_SOFTMAX = w2v.OWN_CBOW_SOFTMAX
OWN_CBOW_NEGSAMPLE = w2v.OWN_CBOW_NEGSAMPLE


def test_course_self_test_sequence_reproduces_published_numbers():
    """Seeds, skip-gram gradient checks, skip-gram results, CBOW checks, CBOW results (C = 5).

    The published skip-gram negative-sampling output is reproduced to every printed digit by
    Python 3's `random` in the state left by the two skip-gram gradient checks."""
    random.seed(31415)
    np.random.seed(9265)
    dataset = w2v.DummyDataset()
    tokens = dict([("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 4)])
    vectors = normalizeRows(np.random.randn(10, 3))
    inputs, outputs = vectors[:5], vectors[5:]

    def check(result, expected):
        assert result[0] == pytest.approx(expected[0], rel=1e-14)
        assert_close(result[1], expected[1], 1e-8)
        assert_close(result[2], expected[2], 1e-8)

    for F in (softmaxCostAndGradient, negSamplingCostAndGradient):
        assert gradcheck_naive(lambda x: word2vec_sgd_wrapper(skipgram, tokens, x, dataset, 5, F),
                               vectors, verbose=False)
    check(skipgram("c", 3, ["a", "b", "e", "d", "b", "c"], tokens, inputs, outputs, dataset),
          PUBLISHED_SG_SOFTMAX)
    check(skipgram("c", 1, ["a", "b"], tokens, inputs, outputs, dataset, negSamplingCostAndGradient),
          PUBLISHED_SG_NEGSAMPLE)
    for F in (softmaxCostAndGradient, negSamplingCostAndGradient):
        assert gradcheck_naive(lambda x: word2vec_sgd_wrapper(cbow, tokens, x, dataset, 5, F),
                               vectors, verbose=False)
    check(cbow("a", 2, ["a", "b", "c", "a"], tokens, inputs, outputs, dataset), OWN_CBOW_SOFTMAX)
    check(cbow("a", 2, ["a", "b", "a", "c"], tokens, inputs, outputs, dataset, negSamplingCostAndGradient),
          OWN_CBOW_NEGSAMPLE)


# ---- batched path ------------------------------------------------------------------------------

def batch_negatives(rng, batch_model, centres, contexts, loss):
    if loss == "softmax":
        return None
    return random_negatives(rng, negative_sample_targets(batch_model, centres, contexts))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("model,batch_model", MODELS, ids=["skipgram", "cbow"])
@pytest.mark.parametrize("seed", [0, 1, 2])
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


# ---- prepared skip-gram batches (the trainer's fast path) ----------------------------------------

def prepared_chunk(rng, n_batches, batch, cols, n_empty=0):
    """Random windows of n_batches minibatches (the first n_empty windows without any context word),
    their negatives and their PreparedChunk."""
    centres, contexts = random_windows(rng, n=n_batches * batch)
    contexts[:n_empty] = -1
    negatives = random_negatives(rng, negative_sample_targets(skipgram_batch, centres, contexts))
    bounds, rows, flat = w2v.prepare_skipgram_negsample(centres, contexts, negatives, W, cols,
                                                        batch)
    return centres, contexts, negatives, bounds, w2v.PreparedChunk(bounds, rows, flat)


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
        fcost, fgrad = w2v.skipgram_negsample_fast(x, prepared, scale=0.25)
        assert fcost == pytest.approx(0.25 * cost, rel=1e-12)
        sparse = fgrad.to_sparse()
        assert np.array_equal(sparse.rows, grad.rows)
        assert_close(sparse.values, 0.25 * grad.values, 1e-12)
        assert_close(fgrad.to_dense(x.shape), 0.25 * grad.to_dense(x.shape), 1e-12)


def test_prepared_fast_gradient_applies_like_its_sparse_rows():
    rng = np.random.default_rng(30)
    x0 = rng.standard_normal((2 * W, D))
    _, _, _, _, chunk = prepared_chunk(rng, 2, 4, D // 2)
    cost, grad = w2v.skipgram_negsample_fast(x0, chunk.batch(1), scale=0.5)
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


def test_prepared_fast_path_gradchecks_and_handles_empty_minibatches():
    rng = np.random.default_rng(31)
    x = rng.standard_normal((2 * W, D))
    _, _, _, bounds, chunk = prepared_chunk(rng, 2, 3, D // 2, n_empty=3)
    assert bounds.tolist()[:2] == [0, 0]              # minibatch 0: three windows, no pair
    cost, grad = w2v.skipgram_negsample_fast(x, chunk.batch(0))
    assert cost == 0.0 and not grad.to_dense(x.shape).any()
    y = x.copy()
    grad.add_to(y, -1.0, RowScatter())
    assert np.array_equal(y, x)

    def f(vec):
        cost, g = w2v.skipgram_negsample_fast(vec, chunk.batch(1))
        return cost, g.to_dense(vec.shape)
    assert gradcheck_naive(f, x, verbose=False)


def test_prepare_rejects_bad_shapes():
    rng = np.random.default_rng(32)
    centres, contexts = random_windows(rng, n=4)
    negatives = random_negatives(rng, negative_sample_targets(skipgram_batch, centres, contexts))
    with pytest.raises(ValueError, match="whole number of minibatches of 3"):
        w2v.prepare_skipgram_negsample(centres, contexts, negatives, W, 2, batch=3)
    with pytest.raises(ValueError, match="one row per valid context entry"):
        w2v.prepare_skipgram_negsample(centres, contexts, negatives[1:], W, 2)


def test_matvec_fallback_for_older_numpy_gives_the_same_numbers(monkeypatch):
    rng = np.random.default_rng(33)
    x = rng.standard_normal((2 * W, D))
    _, _, _, _, chunk = prepared_chunk(rng, 1, 5, D // 2)
    cost, grad = w2v.skipgram_negsample_fast(x, chunk.batch(0))
    monkeypatch.setattr(w2v, "_MATVEC", None)        # numpy < 2.2 has no np.matvec / np.vecmat
    monkeypatch.setattr(w2v, "_VECMAT", None)
    cost2, grad2 = w2v.skipgram_negsample_fast(x, chunk.batch(0))
    assert cost2 == pytest.approx(cost, rel=1e-14)
    assert_close(grad2.to_sparse().values, grad.to_sparse().values, 1e-14)


def test_sum_helper_is_exact_on_integers_and_grows():
    assert w2v._sum(np.arange(3000.0)) == 3000 * 2999 / 2
    assert w2v._sum(np.zeros(0)) == 0.0
