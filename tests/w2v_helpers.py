"""Small word2vec problems shared by test_word2vec.py (the classic functions) and test_engine.py,
and the stored reference values that say which side of an engine proof is wrong.

The engine's proofs (test_engine.py) compare the engine with the course's functions. When they
disagree, `names_the_wrong_side` looks at both against values stored in
tests/fixtures/w2v_reference.json (computed by the project's functions, inputs included) and
puts the answer first in the failure: the course function that differs from them (a learner's
edit of q3_word2vec.py, q1 or q2), or else the engine. Regenerate the file only from code known
to be right: ``PYTHONPATH=. python tests/w2v_helpers.py --write-reference``.
"""
import functools
import json
import os
import random
import sys
import time

import numpy as np

import q1_softmax
import q2_gradcheck
import q2_sigmoid
import q3_word2vec

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


def flip_target_row(loss):
    """A learner's sign flip in negSamplingCostAndGradient (``grad[o] -= ...`` instead of
    ``+=``): `loss` with the gradient's target row negated."""
    def flipped(predicted, target, outputVectors, dataset, K=q3_word2vec.NEG_SAMPLES):
        cost, gradPred, grad = loss(predicted, target, outputVectors, dataset, K)
        grad = grad.copy()
        grad[target] *= -1
        return cost, gradPred, grad
    return flipped


def negsample_K(predicted, target, outputVectors, dataset):
    """The classic negative-sampling loss with this file's K (q3_word2vec's, looked up now)."""
    return q3_word2vec.negSamplingCostAndGradient(predicted, target, outputVectors, dataset, K)


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
    return q3_word2vec.softmaxCostAndGradient if loss == "softmax" else negsample_K


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


# ---- the stored reference values: which side of an engine proof is wrong --------------------------

REFERENCE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                              "w2v_reference.json")
FIX = "run `python q3_word2vec.py` and `python -m pytest tests/test_word2vec.py` for details"


def _reference_problems():
    """The inputs of the stored problems (a fixed generator; stored with the values anyway)."""
    rng = np.random.default_rng(2017)
    V, U = rng.standard_normal((W, D)), rng.standard_normal((W, D))
    centres, contexts = random_windows(rng, n=5)
    from w2v_engine.batched import negative_sample_targets, skipgram_batch
    return {"scores": 3 * rng.standard_normal((3, W)), "V": V, "U": U,
            "centres": centres, "contexts": contexts, "o": 4, "draws": [2, 5, 2, 6],
            "neg_skipgram": random_negatives(rng, negative_sample_targets(skipgram_batch, centres,
                                                                          contexts)),
            "neg_cbow": random_negatives(rng, centres)}


def _course_values(p):
    """{name: value} of the course functions on the stored problems, in the order to blame."""
    q3 = q3_word2vec
    values = {"softmax": q1_softmax.softmax(p["scores"]),
              "sigmoid": q2_sigmoid.sigmoid(p["scores"]),
              "sigmoid_grad": q2_sigmoid.sigmoid_grad(q2_sigmoid.sigmoid(p["scores"])),
              "softmaxCostAndGradient": q3.softmaxCostAndGradient(p["V"][1], p["o"], p["U"], None),
              "negSamplingCostAndGradient": q3.negSamplingCostAndGradient(
                  p["V"][1], p["o"], p["U"], ReplayDataset(p["draws"]), len(p["draws"]))}
    for model in (q3.skipgram, q3.cbow):
        for loss in LOSSES:
            negatives = None if loss == "softmax" else np.asarray(p["neg_" + model.__name__])
            values[f"{model.__name__}/{loss}"] = classic_sum(
                model, classic_loss(loss), p["centres"], p["contexts"], p["V"], p["U"], negatives)
    return values


def _engine_values(p):
    from w2v_engine.batched import cbow_batch, skipgram_batch
    values = {}
    for name, batch_model in (("skipgram", skipgram_batch), ("cbow", cbow_batch)):
        for loss in LOSSES:
            negatives = None if loss == "softmax" else np.asarray(p["neg_" + name])
            cost, gin, gout = batch_model(p["centres"], p["contexts"], p["V"], p["U"], negatives)
            values[f"{name}/{loss}"] = (cost, gin.to_dense((W, D)), gout.to_dense((W, D)))
    return values


def _as_lists(value):
    if isinstance(value, (tuple, list)):
        return [_as_lists(v) for v in value]
    return np.asarray(value, dtype=np.float64).tolist()


def write_reference():
    p = _reference_problems()
    inputs = {k: np.asarray(v).tolist() for k, v in p.items()}          # ints stay ints
    values = {k: _as_lists(v) for k, v in _course_values(p).items()}
    with open(REFERENCE_PATH, "w", encoding="utf-8") as fh:           # one entry a line
        for head, part in (('{"inputs": {', inputs), ('"values": {', values)):
            entries = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in part.items()]
            fh.write(head + "\n" + ",\n".join(entries) + "\n}" + (",\n" if head[0] == "{" else "}\n"))


def _stored():
    with open(REFERENCE_PATH, encoding="utf-8") as fh:
        data = json.load(fh)
    p = {k: v if k in ("o", "draws") else np.asarray(v) for k, v in data["inputs"].items()}
    return p, data["values"]


def _differs(got, want, tol=1e-10):
    if isinstance(got, tuple):
        return len(got) != len(want) or any(_differs(g, w, tol) for g, w in zip(got, want))
    try:
        g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    return g.shape != w.shape or not np.allclose(g, w, rtol=tol, atol=tol)


def wrong_course_function():
    """The first course function (q1, q2, the losses, then the models) that differs from the
    stored reference values or does not run on them, with what happened; None if all agree."""
    p, stored = _stored()
    try:
        ok = q2_gradcheck.gradcheck_naive(lambda x: (np.sum(x ** 2), 2 * x), p["V"], verbose=False)
        bad = q2_gradcheck.gradcheck_naive(lambda x: (np.sum(x ** 2), 2 * x + 0.1), p["V"],
                                           verbose=False)
        if not ok or bad:
            return "q2_gradcheck.gradcheck_naive", "its verdicts on sum(x**2) are wrong"
    except Exception as err:                       # noqa: BLE001 (a learner's code may raise anything)
        return "q2_gradcheck.gradcheck_naive", f"it raises {type(err).__name__}: {err}"
    try:
        values = _course_values(p)
    except Exception as err:                       # noqa: BLE001
        tb = err.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        return tb.tb_frame.f_code.co_name, f"it raises {type(err).__name__}: {err}"
    for name, value in values.items():
        if _differs(value, stored[name]):
            module = {"softmax": "q1_softmax", "sigmoid": "q2_sigmoid", "sigmoid_grad": "q2_sigmoid"}
            where = module.get(name, "q3_word2vec")
            return f"{where}.{name.replace('/', ' with the loss ')}", \
                "its values differ from the stored ones"
    return None


def wrong_engine_model():
    """The engine's model/loss that differs from the stored course values, or None."""
    p, stored = _stored()
    for name, value in _engine_values(p).items():
        if _differs(value, stored[name]):
            return name
    return None


def names_the_wrong_side(test):
    """Decorator for a test comparing the engine with the course functions: a failure first
    says which side disagrees with the stored reference values."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except AssertionError as err:
            course = wrong_course_function()
            if course:
                name, what = course
                head = (f"{name} disagrees with the stored reference values "
                        f"(tests/fixtures/w2v_reference.json: {what}); the engine is not at fault "
                        f"here: the course function is wrong ({FIX})")
            else:
                engine = wrong_engine_model()
                head = (f"the engine's {engine} differs from the stored reference values, which "
                        "the course functions reproduce: the engine (w2v_engine/) is wrong"
                        if engine else "the course functions and the engine both reproduce the "
                        "stored reference values, yet disagree here")
            raise AssertionError(f"{head}\n{err}") from err
    return run


if __name__ == "__main__" and sys.argv[1:] == ["--write-reference"]:
    write_reference()
    print(f"wrote {REFERENCE_PATH}")
