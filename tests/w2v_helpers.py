"""Small word2vec problems shared by test_word2vec.py (the classic functions) and test_engine.py."""
import os
import random
import time

import numpy as np

from q3_word2vec import negSamplingCostAndGradient, softmaxCostAndGradient

W, D, C, K = 7, 4, 3, 4          # small problem: vocabulary, dimension, context size, negatives
WORDS = [f"w{i}" for i in range(W)]
TOKENS = {word: i for i, word in enumerate(WORDS)}
LOSSES = ["softmax", "negsample"]


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


def classic_loss(loss):
    return softmaxCostAndGradient if loss == "softmax" else negsample_K


# ---- a dataset for the sampler (no data files needed) ------------------------------------------

class FakeDataset:
    """sample_windows / sample_negatives with the shapes of StanfordSentiment's, from rng only."""

    def sample_windows(self, rng, n, C):
        centres = rng.integers(0, 50, size=n)
        contexts = rng.integers(0, 50, size=(n, 2 * C))
        half = rng.integers(1, C + 1, size=n)
        contexts[np.arange(2 * C)[None, :] >= 2 * half[:, None]] = -1   # padding at the end
        return centres, contexts

    def sample_negatives(self, rng, targets, K):
        return rng.integers(0, 50, size=(len(targets), K))

    def tokens(self):
        return {f"t{i}": i for i in range(50)}


# ---- processes -----------------------------------------------------------------------------------

def child_pids(pid):
    """Pids of the live (not zombie) children of `pid`, from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(name))
    return found


def gone(pid, timeout=5.0):
    """True once `pid` no longer exists (or is a zombie of another parent) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.01)
    return False
