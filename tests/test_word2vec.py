"""Tests of q3_word2vec: the classic per-window losses and models of the course.

Each test's name holds the name of the function it tests (and parametrized ids name the losses by
their functions), so a wrong function is named by the tests that fail.

Tolerances: gradients are checked with q2_gradcheck.gradcheck_naive (centred differences, h = 1e-4,
relative error <= 1e-5); hand values to 1e-12 unless stated. The engine's batched versions are
tested against these functions in test_engine.py.
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
from q3_word2vec import (cbow, getNegativeSamples, negSamplingCostAndGradient, normalizeRows,
                         skipgram, softmaxCostAndGradient, word2vec_sgd_wrapper)
from w2v_helpers import (C, D, LOSSES, TOKENS, W, RandomDataset, ReplayDataset, assert_close,
                         classic_loss, negsample_K, random_vectors, wrong_course_function)


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

def test_softmaxCostAndGradient_two_words_by_hand():
    # v = [1], u_0 = [2], u_1 = [0], target 1: scores (2, 0), cost = log(1 + e^2),
    # y_hat - y = (s, -s) with s = sigma(2); gradPred = 2 s; grad = (s, -s) v^T
    s = 1 / (1 + math.exp(-2))
    cost, gradPred, grad = softmaxCostAndGradient(np.array([1.0]), 1, np.array([[2.0], [0.0]]), None)
    assert cost == pytest.approx(math.log(1 + math.e ** 2), rel=1e-14)
    assert_close(gradPred, [2 * s], 1e-14)
    assert_close(grad, [[s], [-s]], 1e-14)


def test_softmaxCostAndGradient_matches_q1_softmax_and_is_stable():
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


def test_negSamplingCostAndGradient_by_hand_duplicate_negative_counts_twice():
    # U = 0: every score is 0, sigma = 1/2; cost = (K+1) log 2; the target row gets -v/2,
    # each draw of a negative +v/2 -- word 3 is drawn twice, so its row gets v
    v = np.array([1.0, 2.0])
    dataset = ReplayDataset([3, 0, 3, 1])     # target 0: the draw of 0 is rejected and redrawn
    cost, gradPred, grad = negSamplingCostAndGradient(v, 0, np.zeros((5, 2)), dataset, K=3)
    assert dataset.left() == 0
    assert cost == pytest.approx(4 * math.log(2), rel=1e-14)
    assert_close(gradPred, [0, 0], 0)
    assert_close(grad, [-v / 2, v / 2, [0, 0], v, [0, 0]], 1e-15)


def test_negSamplingCostAndGradient_matches_the_formula():
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


def test_negSamplingCostAndGradient_is_stable_at_extremes():
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


def test_getNegativeSamples_order_and_redraw():
    dataset = ReplayDataset([0, 2, 0, 0, 3, 2, 9])
    assert getNegativeSamples(0, dataset, 3) == [2, 3, 2]
    assert dataset.left() == 1
    empty = ReplayDataset([1])
    with pytest.raises(ValueError, match="K must be an integer >= 1, got 0"):
        getNegativeSamples(5, empty, 0)            # K = 0 is an error, not an empty sample
    assert empty.left() == 1                       # ... raised before any draw


def test_first_and_last_word_indices_are_valid():
    # 0 and W-1 are rows like any other: the range checks must not reject them (nor wrap them)
    rng = np.random.default_rng(3)
    V, U = random_vectors(rng)
    last = W - 1
    for o in (0, last):
        cost, gradPred, grad = softmaxCostAndGradient(V[1], o, U, None)
        assert cost == pytest.approx(-math.log(softmax(U @ V[1])[o]), rel=1e-13)
        assert gradPred.shape == (D,) and grad.shape == (W, D)
    cost, _, grad = negSamplingCostAndGradient(V[1], last, U, ReplayDataset([0, last, 0]), K=2)
    expected = -math.log(sigmoid(U[last] @ V[1])) - 2 * math.log(sigmoid(-U[0] @ V[1]))
    assert cost == pytest.approx(expected, rel=1e-13)     # the draw of `last` (the target) redrawn
    assert_close(grad[0], 2 * sigmoid(U[0] @ V[1]) * V[1], 1e-13)
    words = [f"w{last}", "w0"]
    cost, gin, _ = skipgram("w0", C, words, TOKENS, V, U, None)
    assert cost == pytest.approx(sum(softmaxCostAndGradient(V[0], o, U, None)[0] for o in (last, 0)),
                                 rel=1e-13)
    assert np.flatnonzero(gin.any(axis=1)).tolist() == [0]
    cost, gin, _ = cbow(f"w{last}", C, words, TOKENS, V, U, None)
    assert cost == pytest.approx(softmaxCostAndGradient(V[last] + V[0], last, U, None)[0], rel=1e-13)
    assert np.flatnonzero(gin.any(axis=1)).tolist() == [0, last]


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


LOSS_NAMES = {"softmax": "softmaxCostAndGradient", "negsample": "negSamplingCostAndGradient"}


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES.get)
def test_classic_loss_gradchecks(loss):
    rng = np.random.default_rng(6)
    v, U = rng.standard_normal(D), rng.standard_normal((W, D))
    F, dataset = classic_loss(loss), RandomDataset(W)
    random.seed(6)
    assert gradcheck_naive(lambda x: F(x, 2, U, dataset)[:2], v, verbose=False)
    assert gradcheck_naive(lambda x: F(v, 2, x, dataset)[::2], U, verbose=False)


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES.get)
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


def test_course_functions_reproduce_the_stored_reference_values():
    """The values test_engine.py's failures are judged by (tests/fixtures/w2v_reference.json)."""
    assert wrong_course_function() is None, wrong_course_function()


def test_the_self_test_names_the_block_word_and_dimension_of_a_failed_gradient_check(monkeypatch,
                                                                                     capsys):
    right = w2v.negSamplingCostAndGradient

    def flipped(predicted, target, outputVectors, dataset, K=w2v.NEG_SAMPLES):   # grad[o] -= ...
        cost, gradPred, grad = right(predicted, target, outputVectors, dataset, K)
        grad[target] *= -1
        return cost, gradPred, grad
    monkeypatch.setattr(w2v, "negSamplingCostAndGradient", flipped)
    states = random.getstate(), np.random.get_state()
    try:
        with pytest.raises(AssertionError, match="skipgram \\+ negative sampling"):
            w2v._self_test()
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
    out = capsys.readouterr().out
    assert "output vector of word 'a', dimension 0" in out, out     # not "index (5, 0)" alone
