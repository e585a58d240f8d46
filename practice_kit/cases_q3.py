"""The checks of question 3: normalizeRows, the two losses, skipgram, cbow and sgd.

Word indices are named as words ("word 3", "w3") in messages, and rows of a gradient by their
block: input vectors (V, dJ/dinputVectors) or output vectors (U, dJ/doutputVectors). Negative
samples are replayed from a fixed list (`ReplayDataset`), so the learner's loss and the
reference see the same draws, and a loss that draws more or fewer is named as such.
"""
import numpy as np

from practice_kit.cases_q1_q2 import close, not_own_derivative, numerical_gradient, rng
from practice_kit.checks import CheckFailure, Expect, check, unpack

W, D = 7, 4                       # the small problem: vocabulary and dimension
WORDS = [f"w{i}" for i in range(W)]
TOKENS = {w: i for i, w in enumerate(WORDS)}


class TooManyDraws(CheckFailure):
    """The loss asked the dataset for more samples than the check holds."""


class ReplayDataset:
    """``sampleTokenIdx()`` replays a fixed list of draws and counts them."""

    def __init__(self, draws):
        self.draws, self.used = [int(d) for d in draws], 0

    def sampleTokenIdx(self):
        if self.used >= len(self.draws):
            raise TooManyDraws(f"it asked the dataset for more than the {len(self.draws)} samples "
                               "the reference draws here (getNegativeSamples(target, dataset, K) "
                               "draws K, drawing again only a draw equal to the target)")
        self.used += 1
        return self.draws[self.used - 1]


def vectors(seed, scale=1.0):
    g = rng(seed)
    return scale * g.standard_normal((W, D)), scale * g.standard_normal((W, D))


def loss_rows():
    """where() for a (W, D) gradient of the output vectors in a loss check (inputs: o, draws)."""
    def where(ix, i):
        w, role = ix[0], ""
        if w == i.get("o"):
            role = ", the target"
        elif w in i.get("negatives", []):
            n = list(i["negatives"]).count(w)
            role = ", a negative sample" + (f" drawn {n} times" if n > 1 else "")
        return f"row {w} (output vector of word {w}{role}), dimension {ix[1]}"
    return where


def dimension(ix, inputs):
    return f"dimension {ix[0]}"


SIGN = ("the sign is flipped: J falls as the target's score u_o . v grows and rises with the "
        "scores of the other words (or samples)")


def flipped(key):
    return (lambda i, e, g: close(g["out"][key], -np.asarray(e["out"][key])), SIGN, key)


# ==== normalizeRows ===========================================================================

ROWS = lambda ix, i: f"row {ix[0]}, column {ix[1]}"                        # noqa: E731


@check("normalizeRows", "the course's example [[3, 4], [1, 2]]",
       [Expect("x_unit", "normalizeRows(x)", where=ROWS)],
       hints=[(lambda i, e, g: close(g["out"]["x_unit"], i["x"] / (i["x"] ** 2).sum(1, keepdims=True)),
               "divide by the length, the square root of the sum of squares"),
              (lambda i, e, g: close(g["out"]["x_unit"], i["x"] / np.sqrt((i["x"] ** 2).sum())),
               "each row gets its own length: sum the squares over axis 1 (keepdims=True)")])
def _norm_course(fn, ref):
    x = np.array([[3.0, 4.0], [1.0, 2.0]])
    return {"in": {"x": x}, "out": {"x_unit": fn(x.copy())}}


@check("normalizeRows", "a 5 x 3 matrix of random rows", [Expect("x_unit", "normalizeRows(x)", where=ROWS)])
def _norm_random(fn, ref):
    return {"in": {}, "out": {"x_unit": fn(100 * rng(20).standard_normal((5, 3)))}}


@check("normalizeRows", "a row of zeros stays zeros, with no warning (integer x [[0, 0, 0], [0, 3, 4]])",
       [Expect("x_unit", "normalizeRows(x)", where=ROWS)], no_warnings=True,
       hint="0 / 0 is nan (with a warning): divide a row of zeros by 1 instead of by its length 0")
def _norm_zero(fn, ref):
    return {"in": {}, "out": {"x_unit": fn(np.array([[0, 0, 0], [0, 3, 4]]))}}


@check("normalizeRows", "a vector (D,) is one row: [3, 4] -> [0.6, 0.8]",
       [Expect("x_unit", "normalizeRows(x)", where=dimension)],
       error_hint="a 1-D x has no axis 1: sum over axis=-1 (keepdims=True) works for both shapes")
def _norm_vector(fn, ref):
    return {"in": {}, "out": {"x_unit": fn(np.array([3.0, 4.0]))}}


# ==== the losses ==============================================================================

def _loss_out(fn, ref, v, o, U, draws=None, K=None):
    """cost, gradPred, grad of fn at (v, o, U), with the derivatives of its own cost."""
    def call(v_, U_):
        ds = ReplayDataset(draws) if draws is not None else None
        args = (v_, o, U_, ds) + ((K,) if K is not None else ())
        return fn(*args), ds
    result, ds = call(v.copy(), U.copy())
    cost, gradPred, grad = unpack(result, ("cost", "gradPred", "grad"))
    out = {"cost": cost, "gradPred": gradPred, "grad": grad}
    if draws is not None:
        out["draws"] = ds.used
    if np.all(np.isfinite(v)) and np.abs(v).max() < 100:
        out["num_gradPred"] = numerical_gradient(lambda x: call(x, U)[0][0], v)
        out["num_grad"] = numerical_gradient(lambda x: call(v, x)[0][0], U)
    return out


def _loss_expects(tol=1e-7):
    return [Expect("cost", "cost", rtol=tol),
            Expect("gradPred", "gradPred (dJ/dpredicted)", rtol=1e-6, atol=1e-9, where=dimension),
            Expect("grad", "grad (dJ/doutputVectors)", rtol=1e-6, atol=1e-9, where=loss_rows())]


OWN = [not_own_derivative("gradPred", "num_gradPred", "gradPred"),
       not_own_derivative("grad", "num_grad", "grad")]
LOG0 = ("a probability underflows to 0 and log(0) = -inf: compute the log-probability from the "
        "scores directly, -log y_hat_o = -(s_o - m) + log sum_w exp(s_w - m) with m the largest score")


@check("softmaxCostAndGradient", "by hand: v = [1], u_0 = [2], u_1 = [0], target 1",
       _loss_expects(), hints=[flipped("gradPred"), flipped("grad")] + OWN)
def _smx_hand(fn, ref):
    v, U = np.array([1.0]), np.array([[2.0], [0.0]])
    return {"in": {"o": 1}, "out": _loss_out(fn, ref, v, 1, U)}


@check("softmaxCostAndGradient", f"random vectors: W = {W} words, D = {D}, target 3",
       _loss_expects(), hints=[flipped("gradPred"), flipped("grad")] + OWN)
def _smx_random(fn, ref):
    V, U = vectors(21)
    return {"in": {"o": 3}, "out": _loss_out(fn, ref, V[2], 3, U)}


@check("softmaxCostAndGradient", f"the last word as the target (o = {W - 1})", _loss_expects(),
       hints=OWN)
def _smx_last(fn, ref):
    V, U = vectors(22)
    return {"in": {"o": W - 1}, "out": _loss_out(fn, ref, V[0], W - 1, U)}


@check("softmaxCostAndGradient", "scores of +-1000 (v = [1000], u = [1], [-1], target 1): a finite "
       "cost, no warning", _loss_expects(), no_warnings=True, hint=LOG0)
def _smx_extreme(fn, ref):
    return {"in": {"o": 1}, "out": _loss_out(fn, ref, np.array([1000.0]), 1, np.array([[1.0], [-1.0]]))}


def _negsample_alt_once(ref, v, o, U, draws, K):
    """The reference's grad if a sample drawn twice were counted once (rows of grad only)."""
    picked = ref.q3_word2vec.getNegativeSamples(o, ReplayDataset(draws), K)
    unique = list(dict.fromkeys(picked))
    return ref.q3_word2vec.negSamplingCostAndGradient(v, o, U, ReplayDataset(unique), len(unique))[2]


def _neg_inputs(ref, v, o, U, draws, K):
    picked = ref.q3_word2vec.getNegativeSamples(o, ReplayDataset(draws), K)
    return {"o": o, "negatives": picked, "K": K,
            "alt_once": _negsample_alt_once(ref, v, o, U, draws, K)}


NEG_HINTS = [(lambda i, e, g: close(g["out"]["grad"], i["alt_once"]),
              "a negative drawn twice counts twice, but yours counts it once: grad[k] += ... "
              "with an index array k adds once per distinct index; use np.add.at(grad, k, ...) or "
              "a loop over the K samples", "grad"),
             (lambda i, e, g: close(np.asarray(g["out"]["grad"])[i["o"]],
                                    -np.asarray(e["out"]["grad"])[i["o"]]),
              "the target's row has its sign flipped: the target's term is -log sigma(+u_o . v) "
              "and a sample's -log sigma(-u_k . v), so their derivatives differ in sign", "grad"),
             flipped("gradPred"), flipped("grad")] + OWN
DRAWS = Expect("draws", "samples drawn from the dataset", exact=True,
               hint="draw the samples with getNegativeSamples(target, dataset, K): exactly K, a "
                    "draw equal to the target drawn again, in order")


@check("negSamplingCostAndGradient", "by hand: U = 0, target 0, K = 3, draws [3, 0, 3, 1] (the 0 is "
       "drawn again; word 3 twice)", [DRAWS] + _loss_expects(), hints=NEG_HINTS)
def _neg_hand(fn, ref):
    v, U, draws = np.array([1.0, 2.0]), np.zeros((5, 2)), [3, 0, 3, 1]
    return {"in": _neg_inputs(ref, v, 0, U, draws, 3), "out": _loss_out(fn, ref, v, 0, U, draws, 3)}


@check("negSamplingCostAndGradient", f"random vectors: W = {W}, D = {D}, target 4, K = 4, draws "
       "[2, 5, 2, 6] (word 2 twice)", [DRAWS] + _loss_expects(), hints=NEG_HINTS)
def _neg_random(fn, ref):
    V, U = vectors(23)
    draws = [2, 5, 2, 6]
    return {"in": _neg_inputs(ref, V[1], 4, U, draws, 4), "out": _loss_out(fn, ref, V[1], 4, U, draws, 4)}


@check("negSamplingCostAndGradient", "K left at its default (NEG_SAMPLES = 10), target 6",
       [DRAWS] + _loss_expects(), hints=NEG_HINTS)
def _neg_default(fn, ref):
    V, U = vectors(24)
    draws = [0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2]        # the 6 is the target: drawn again
    return {"in": _neg_inputs(ref, V[3], 6, U, draws, 10), "out": _loss_out(fn, ref, V[3], 6, U, draws)}


@check("negSamplingCostAndGradient", "scores of +-1000 (v = [1000], u = [1], [-1], target 1, one "
       "sample 0): a finite cost, no warning", [DRAWS] + _loss_expects(), no_warnings=True,
       hint="log(sigmoid(s)) underflows to log(0) for s below about -745: compute -log sigma(s) "
            "as neg_log_sigmoid(s) = log(1 + exp(-s)) without overflow (np.logaddexp(0, -s))")
def _neg_extreme(fn, ref):
    v, U = np.array([1000.0]), np.array([[1.0], [-1.0]])
    return {"in": {"o": 1, "negatives": [0]}, "out": _loss_out(fn, ref, v, 1, U, [0], 1)}


# ==== skipgram and cbow =======================================================================

def _block_rows(block):
    def where(ix, i):
        w, role = ix[0], ""
        if w == i.get("centre"):
            role = ", the centre word"
        elif w in i.get("context", []):
            n = i["context"].count(w)
            role = ", a context word" + (f" ({n} times)" if n > 1 else "")
        return f"{block} vector of word w{w} (row {w}{role}), dimension {ix[1]}"
    return where


def _model_expects():
    return [Expect("cost", "cost", rtol=1e-7),
            Expect("gradIn", "gradIn (dJ/dinputVectors)", rtol=1e-6, atol=1e-9,
                   where=_block_rows("input")),
            Expect("gradOut", "gradOut (dJ/doutputVectors)", rtol=1e-6, atol=1e-9,
                   where=_block_rows("output"))]


def _negsample_K(ref, K):
    def loss(predicted, target, outputVectors, dataset):
        return ref.q3_word2vec.negSamplingCostAndGradient(predicted, target, outputVectors, dataset, K)
    return loss


def _model_case(fn, ref, centre, context, seed, negsample, alts=None):
    """fn(centre, C, context, ...) with the reference loss; "draws" counts the samples used."""
    V, U = vectors(seed, 0.5)
    draws = list(rng(seed + 100).integers(0, W, size=60)) if negsample else None
    loss = _negsample_K(ref, 4) if negsample else ref.q3_word2vec.softmaxCostAndGradient
    ds = ReplayDataset(draws) if negsample else None
    result = fn(centre, 3, list(context), dict(TOKENS), V.copy(), U.copy(), ds, loss)
    cost, gradIn, gradOut = unpack(result, ("cost", "gradIn", "gradOut"))
    out = {"cost": cost, "gradIn": gradIn, "gradOut": gradOut}
    if negsample:
        out["draws"] = ds.used
    inputs = {"centre": TOKENS[centre], "context": [TOKENS[w] for w in context]}
    if alts:
        inputs.update(alts(ref, V, U, loss, draws))
    return {"in": inputs, "out": out}


def _skipgram_alts(centre, context):
    def alts(ref, V, U, loss, draws):
        c = TOKENS[centre]
        ds = ReplayDataset(draws) if draws else None
        parts = [loss(V[c], TOKENS[w], U, ds) for w in context]
        last = np.zeros((W, D))
        last[c] = parts[-1][1]
        ds = ReplayDataset(draws) if draws else None
        from_output = sum(loss(U[c], TOKENS[w], U, ds)[0] for w in context)
        return {"n": len(context), "alt_last_in": last, "alt_output_cost": from_output}
    return alts


def _cbow_alts(centre, context):
    def alts(ref, V, U, loss, draws):
        idx = [TOKENS[w] for w in context]
        mean = V[idx].mean(axis=0)
        ds = ReplayDataset(draws) if draws else None
        cost_mean = loss(mean, TOKENS[centre], U, ds)[0]
        ds = ReplayDataset(draws) if draws else None
        gv = loss(V[idx].sum(axis=0), TOKENS[centre], U, ds)[1]
        once = np.zeros((W, D))
        once[sorted(set(idx))] = gv
        return {"alt_mean_cost": cost_mean, "alt_once_in": once}
    return alts


DRAWS_MODEL = Expect("draws", "samples drawn from the dataset", exact=True,
                     hint="call the loss once per context word, in their order, each drawing its "
                          "own samples")
SKIP_HINTS = [(lambda i, e, g: close(g["out"]["cost"], e["out"]["cost"] / i["n"]),
               "the 2017 handout's skip-gram cost is the SUM of the losses over the context "
               "words, not their mean", "cost"),
              (lambda i, e, g: close(g["out"]["cost"], i["alt_output_cost"]),
               "the predicted vector is the centre word's INPUT vector v_c (a row of "
               "inputVectors), not its output vector", "cost"),
              (lambda i, e, g: close(g["out"]["gradIn"], i["alt_last_in"]),
               "gradIn keeps only the last context word's gradient: ADD (+=) the centre word's "
               "gradient of every context word", "gradIn"),
              (lambda i, e, g: np.flatnonzero(np.abs(np.asarray(g["out"]["gradIn"])).sum(1)).tolist()
               not in ([i["centre"]], []),
               "only the centre word's input vector v_c enters the skip-gram cost: gradIn is zero "
               "in every other row", "gradIn")]
CBOW_HINTS = [(lambda i, e, g: close(g["out"]["cost"], i["alt_mean_cost"]),
               "the 2017 handout's CBOW predicts from the SUM of the context words' input vectors, "
               "not their mean", "cost"),
              (lambda i, e, g: close(g["out"]["gradIn"], i["alt_once_in"]),
               "a context word that appears twice is two terms of the sum: its row gets the "
               "gradient twice (np.add.at, or a loop over the context words)", "gradIn")]


SKIP = ("skip-gram predicts each context word from the centre word: the loss is called with "
        "v_c (the centre word's input vector) and the context word's index, once per context "
        "word; its gradPred belongs to the centre word's row of gradIn, its grad to gradOut")
CBOW = ("CBOW predicts the centre word from v_hat, the sum of the context words' input vectors: "
        "one call of the loss with v_hat and the centre word's index; its gradPred belongs to "
        "the row of every context word in gradIn, its grad to gradOut")


@check("skipgram", "softmax loss, centre w2, context [w1, w5, w1] (w1 twice)", _model_expects(),
       hints=SKIP_HINTS, hint=SKIP)
def _sg_softmax(fn, ref):
    return _model_case(fn, ref, "w2", ["w1", "w5", "w1"], 30, False, _skipgram_alts("w2", ["w1", "w5", "w1"]))


@check("skipgram", "negative sampling (K = 4, samples replayed), centre w0, context [w3, w6, w3, w4]",
       [DRAWS_MODEL] + _model_expects(), hints=SKIP_HINTS, hint=SKIP)
def _sg_negsample(fn, ref):
    ctx = ["w3", "w6", "w3", "w4"]
    return _model_case(fn, ref, "w0", ctx, 31, True, _skipgram_alts("w0", ctx))


@check("skipgram", 'the course\'s published example: skipgram("c", 3, ["a", "b", "e", "d", "b", "c"]) '
       "with the softmax loss", [Expect("cost", "cost", rtol=1e-10),
                                  Expect("gradIn", "gradIn", atol=1e-8, where=_block_rows("input")),
                                  Expect("gradOut", "gradOut", atol=1e-8, where=_block_rows("output"))],
       hints=SKIP_HINTS[:3], hint=SKIP)
def _sg_published(fn, ref):
    w2v = ref.q3_word2vec
    vecs = w2v.normalizeRows(np.random.RandomState(w2v.NP_SEED).randn(10, 3))
    tokens = {w: i for i, w in enumerate("abcde")}
    ctx = ["a", "b", "e", "d", "b", "c"]
    result = fn("c", 3, ctx, tokens, vecs[:5].copy(), vecs[5:].copy(), None, w2v.softmaxCostAndGradient)
    cost, gradIn, gradOut = unpack(result, ("cost", "gradIn", "gradOut"))
    parts = [w2v.softmaxCostAndGradient(vecs[2], tokens[w], vecs[5:], None) for w in ctx]
    last = np.zeros((5, 3))
    last[2] = parts[-1][1]
    from_output = sum(w2v.softmaxCostAndGradient(vecs[7], tokens[w], vecs[5:], None)[0] for w in ctx)
    inputs = {"centre": 2, "context": [tokens[w] for w in ctx], "n": len(ctx), "alt_last_in": last,
              "alt_output_cost": from_output}
    return {"in": inputs, "out": {"cost": cost, "gradIn": gradIn, "gradOut": gradOut}}


@check("cbow", "softmax loss, centre w0, context [w3, w1, w3] (w3 twice)", _model_expects(),
       hints=CBOW_HINTS, hint=CBOW)
def _cbow_softmax(fn, ref):
    ctx = ["w3", "w1", "w3"]
    return _model_case(fn, ref, "w0", ctx, 32, False, _cbow_alts("w0", ctx))


@check("cbow", "negative sampling (K = 4, samples replayed), centre w5, context [w2, w4, w6, w2]",
       [DRAWS_MODEL] + _model_expects(), hints=CBOW_HINTS, hint=CBOW)
def _cbow_negsample(fn, ref):
    ctx = ["w2", "w4", "w6", "w2"]
    return _model_case(fn, ref, "w5", ctx, 33, True, _cbow_alts("w5", ctx))


@check("cbow", "the centre word also in its context: centre w1, context [w1, w2]", _model_expects(),
       hints=CBOW_HINTS, hint=CBOW)
def _cbow_centre_in_context(fn, ref):
    return _model_case(fn, ref, "w1", ["w1", "w2"], 34, False, _cbow_alts("w1", ["w1", "w2"]))


# ==== sgd =====================================================================================

class RowsGradient:
    """A sparse gradient in sgd's protocol: ``add_to(x, factor)`` adds factor * values to rows."""

    def __init__(self, rows, values):
        self.rows, self.values = rows, values

    def add_to(self, x, factor, scatter=None):
        np.add.at(x, self.rows, factor * self.values)


class Recorder:
    """f(x) -> (cost, grad) of a known problem; keeps a copy of every x it is called with."""

    def __init__(self, cost_grad):
        self.cost_grad, self.seen = cost_grad, []

    def __call__(self, x):
        self.seen.append(np.array(x, dtype=float, copy=True))
        return self.cost_grad(x)

    def first(self, n):
        if len(self.seen) < n:
            raise CheckFailure(f"f was called {len(self.seen)} times; sgd must call it once per "
                               f"iteration ({n} or more here)")
        return np.array(self.seen[:n])


def _sgd(fn, f, x0, step, iterations, **kw):
    return fn(f, x0, step, iterations, PRINT_EVERY=10 ** 9, **kw)


def _iterations(ix, i):
    return f"the x of iteration {ix[0] + 1}" + (f", element {list(ix[1:])}" if len(ix) > 1 else "")


DESCENT = ("x moves against the gradient, by step times the gradient, at every iteration: "
           "x -= step * grad (then x = postprocessing(x) if it is given)")


@check("sgd", "the course's sanity check: f(x) = x**2 from x0 = 0.5, step 0.01, 1000 iterations",
       [Expect("first", "the x that f was called with", where=_iterations, hint=DESCENT),
        Expect("result", "sgd's result", rtol=1e-6, atol=1e-12, hint=DESCENT)])
def _sgd_course(fn, ref):
    f = Recorder(lambda x: (float(np.sum(x ** 2)), 2 * x))
    result = _sgd(fn, f, 0.5, 0.01, 1000)
    return {"in": {}, "out": {"first": f.first(3), "result": result}}


@check("sgd", "a 3 x 4 matrix x0, f(x) = sum((x - t)**2), step 0.1, 30 iterations",
       [Expect("first", "the x that f was called with", where=_iterations, hint=DESCENT),
        Expect("result", "sgd's result", where=lambda ix, i: f"element {list(ix)}", hint=DESCENT),
        Expect("x0", "x0 after sgd", exact=True,
               hint="sgd works on its copy of x0; the caller's array must not change")])
def _sgd_matrix(fn, ref):
    t, x0 = rng(40).standard_normal((2, 3, 4))
    keep = x0.copy()
    f = Recorder(lambda x: (float(np.sum((x - t) ** 2)), 2 * (x - t)))
    result = _sgd(fn, f, x0, 0.1, 30)
    return {"in": {}, "out": {"first": f.first(3), "result": result, "x0": x0 - keep}}


@check("sgd", "the step halves every anneal_every iterations: grad = 1, step 1, anneal_every = 10, "
       "25 iterations from 0 (x = -(10 + 5 + 1.25))",
       [Expect("result", "sgd's result", where=lambda ix, i: f"element {list(ix)}",
               hint="halve the step after iterations anneal_every, 2 anneal_every, ... (here 10 "
                    "and 20): use the argument anneal_every, not the constant ANNEAL_EVERY")])
def _sgd_anneal(fn, ref):
    f = Recorder(lambda x: (0.0, np.ones_like(x)))
    return {"in": {}, "out": {"result": _sgd(fn, f, np.zeros(2), 1.0, 25, anneal_every=10)}}


@check("sgd", "postprocessing is applied after every update (here: x scaled to length 1)",
       [Expect("first", "the x that f was called with", where=_iterations,
               hint="after every update, x = postprocessing(x) when postprocessing is given: f "
                    "must see the postprocessed x at the next iteration")])
def _sgd_post(fn, ref):
    t = np.array([3.0, -1.0, 2.0])
    f = Recorder(lambda x: (float(np.sum((x - t) ** 2)), 2 * (x - t)))
    _sgd(fn, f, np.array([1.0, 0.0, 0.0]), 0.1, 5, postprocessing=lambda x: x / np.linalg.norm(x))
    return {"in": {}, "out": {"first": f.first(5)}}


@check("sgd", "a sparse gradient (grad.add_to(x, factor)), as q3_run.py's fast path gives, with a "
       "repeated row", [Expect("result", "sgd's result", where=lambda ix, i: f"row {ix[0]}, column {ix[1]}",
                               hint="apply a sparse gradient with grad.add_to(x, -step): it adds "
                                    "-step * grad to the rows it holds, in place")],
       error_hint="a sparse gradient is not an array: apply it with grad.add_to(x, -step) (see the "
                  "comment above the hole)")
def _sgd_sparse(fn, ref):
    t = rng(41).standard_normal((6, 3))
    rows = np.array([1, 4, 1, 0])

    def f(x):
        values = 2 * (x[rows] - t[rows])
        return float(np.sum((x[rows] - t[rows]) ** 2)), RowsGradient(rows, values)
    return {"in": {}, "out": {"result": _sgd(fn, f, np.zeros((6, 3)), 0.1, 20)}}

