"""The checks of question 4: getSentenceFeatures and softmaxRegression."""
import numpy as np

from practice_kit.cases_q1_q2 import close, not_own_derivative, numerical_gradient, rng
from practice_kit.checks import CheckFailure, Expect, check, unpack

# ==== getSentenceFeatures =====================================================================

TOKENS = {"good": 0, "bad": 1, "film": 2, "plot": 3}


def _features(fn, vecs, sentence, tokens=TOKENS):
    return fn(dict(tokens), vecs.copy(), list(sentence))


def _feature_alts(vecs, sentence, tokens=TOKENS):
    rows = [tokens[w] for w in sentence if w in tokens]
    return {"alt_sum": vecs[rows].sum(axis=0),
            "alt_all_words": vecs[rows].sum(axis=0) / max(len(sentence), 1),
            "alt_unique": vecs[sorted(set(rows))].mean(axis=0)}


FEATURE = [Expect("sentVector", "the sentence's feature", where=lambda ix, i: f"dimension {ix[0]}")]
FEATURE_HINTS = [(lambda i, e, g: close(g["out"]["sentVector"], i["alt_sum"]),
                  "the 2017 handout's feature is the AVERAGE of the word vectors: divide the sum "
                  "by the number of (known) words"),
                 (lambda i, e, g: close(g["out"]["sentVector"], i["alt_all_words"]),
                  "unknown words are skipped, so divide by the number of KNOWN words, not by "
                  "len(sentence)"),
                 (lambda i, e, g: close(g["out"]["sentVector"], i["alt_unique"]),
                  "a word that appears twice counts twice in the average")]


@check("getSentenceFeatures", "['good', 'zzz', 'bad', 'good']: 'zzz' is unknown, 'good' appears twice",
       FEATURE, hints=FEATURE_HINTS,
       error_hint="skip the words that are not in tokens (`if word in tokens`)")
def _feat_known(fn, ref):
    vecs = rng(50).standard_normal((4, 3))
    sentence = ["good", "zzz", "bad", "good"]
    return {"in": _feature_alts(vecs, sentence), "out": {"sentVector": _features(fn, vecs, sentence)}}


@check("getSentenceFeatures", "a random sentence of 8 words over 20 words of dimension 5",
       FEATURE, hints=FEATURE_HINTS)
def _feat_random(fn, ref):
    g = rng(51)
    vecs = g.standard_normal((20, 5))
    tokens = {f"t{i}": i for i in range(20)}
    sentence = [f"t{i}" for i in g.integers(0, 20, size=8)]
    return {"in": _feature_alts(vecs, sentence, tokens),
            "out": {"sentVector": _features(fn, vecs, sentence, tokens)}}


NO_WORD = ("np.mean of no rows is nan, with a warning: when no word of the sentence is known, "
           "return np.zeros(D)")


@check("getSentenceFeatures", "no known word (['zzz', 'yyy']): zeros of shape (D,), no warning",
       FEATURE, no_warnings=True, hint=NO_WORD, error_hint=NO_WORD)
def _feat_unknown(fn, ref):
    vecs = rng(52).standard_normal((4, 3))
    return {"in": {}, "out": {"sentVector": _features(fn, vecs, ["zzz", "yyy"])}}


@check("getSentenceFeatures", "an empty sentence []: zeros of shape (D,), no warning",
       FEATURE, no_warnings=True, hint=NO_WORD, error_hint=NO_WORD)
def _feat_empty(fn, ref):
    vecs = rng(53).standard_normal((4, 3))
    return {"in": {}, "out": {"sentVector": _features(fn, vecs, [])}}


# ==== softmaxRegression =======================================================================

def _reg_case(fn, ref, X, y, Wt, reg, intercept=False, alts=True):
    kw = {"intercept": True} if intercept else {}

    def call(w, nopredictions):
        return fn(X.copy(), y.copy(), w, reg, nopredictions, **kw)
    cost, grad, pred = unpack(call(Wt.copy(), False), ("cost", "grad", "pred"))
    out = {"cost": cost, "grad": grad, "pred": pred}
    if np.abs(X).max() < 100:
        out["num_grad"] = numerical_gradient(lambda w: call(w, True)[0], Wt)
    inputs = {"N": len(y), "D": X.shape[1], "intercept": intercept}
    if alts:
        R = ref.q4_softmaxreg
        D = X.shape[1]
        W_ = Wt[:D]
        data_cost, data_grad = R.softmaxRegression(X, y, Wt, 0.0, True, **kw)
        penalty = 0.5 * reg * np.sum(W_ * W_)
        no_n = data_grad * len(y)
        no_n[:D] += reg * W_
        bias_reg = R.softmaxRegression(X, y, Wt, reg, True, **kw)[1]
        if intercept:
            bias_reg[D] += reg * Wt[D]
        bias_penalty = 0.5 * reg * np.sum(Wt[D] ** 2) if intercept else 0.0
        inputs.update(alt_no_half=data_cost + 2 * penalty, alt_sum=data_cost * len(y) + penalty,
                      alt_no_n=no_n, alt_bias_reg=bias_reg,
                      alt_bias_cost=data_cost + penalty + bias_penalty)
    return {"in": inputs, "out": out}


def _weights_where(ix, i):
    if i.get("intercept") and ix[0] == i["D"]:
        return f"the bias row (row {ix[0]}), class {ix[1]}"
    return f"weights[{ix[0]}, {ix[1]}] (feature {ix[0]}, class {ix[1]})"


REG = [Expect("cost", "cost", rtol=1e-7),
       Expect("grad", "grad (d cost / d weights)", rtol=1e-6, atol=1e-9, where=_weights_where),
       Expect("pred", "the predicted classes", exact=True, where=lambda ix, i: f"example {ix[0]}",
              hint="the prediction is the arg-max of each example's scores (axis=1)")]
REG_HINTS = [(lambda i, e, g: close(g["out"]["cost"], i["alt_no_half"]),
              "the handout's penalty is 0.5 * reg * ||W||^2: yours lacks the 0.5", "cost"),
             (lambda i, e, g: close(g["out"]["cost"], i["alt_sum"]),
              "the handout's cost is the MEAN cross-entropy over the N examples, not the sum", "cost"),
             (lambda i, e, g: i["intercept"] and close(g["out"]["cost"], i["alt_bias_cost"]),
              "the bias (the last row of weights) is not regularised: leave it out of the penalty "
              "and out of the penalty's gradient", "cost"),
             (lambda i, e, g: close(g["out"]["grad"], i["alt_no_n"]),
              "the cost is a mean over the N examples, so its gradient is too: yours is not "
              "divided by N", "grad"),
             (lambda i, e, g: i["intercept"] and close(g["out"]["grad"], i["alt_bias_reg"]),
              "the bias (the last row of weights) is not regularised: leave it out of the penalty "
              "and out of the penalty's gradient", "grad"),
             not_own_derivative("grad", "num_grad", "grad")]


@check("softmaxRegression", "W = 0 (every class equally likely): N = 2, D = 2, C = 5, no penalty",
       REG, hints=REG_HINTS)
def _reg_zero(fn, ref):
    X, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([0, 3])
    return _reg_case(fn, ref, X, y, np.zeros((2, 5)), 0.0)


@check("softmaxRegression", "random: N = 10, D = 10, C = 5, reg = 1.0", REG, hints=REG_HINTS)
def _reg_random(fn, ref):
    g = rng(60)
    X, y, Wt = g.standard_normal((10, 10)), g.integers(0, 5, size=10), 0.3 * g.standard_normal((10, 5))
    return _reg_case(fn, ref, X, y, Wt, 1.0)


@check("softmaxRegression", "with an intercept (weights (D + 1, C), the last row the bias), reg = 0.3",
       REG, hints=REG_HINTS,
       error_hint="with intercept=True, weights has D + 1 rows: the scores are X @ weights[:D] + "
                  "weights[D]")
def _reg_intercept(fn, ref):
    g = rng(61)
    X, y, Wt = g.standard_normal((8, 4)), g.integers(0, 3, size=8), 0.5 * g.standard_normal((5, 3))
    return _reg_case(fn, ref, X, y, Wt, 0.3, intercept=True)


@check("softmaxRegression", "nopredictions=True returns (cost, grad) only",
       [Expect("cost", "cost", rtol=1e-7), Expect("grad", "grad", rtol=1e-6, atol=1e-9,
                                                  where=_weights_where)])
def _reg_nopred(fn, ref):
    g = rng(62)
    X, y, Wt = g.standard_normal((6, 3)), g.integers(0, 4, size=6), g.standard_normal((3, 4))
    result = fn(X, y, Wt, 0.5, True)
    if isinstance(result, (tuple, list)) and len(result) == 3:
        raise CheckFailure("with nopredictions=True it must return (cost, grad); it returned 3 "
                           "values")
    cost, grad = unpack(result, ("cost", "grad"))
    return {"in": {"D": 3}, "out": {"cost": cost, "grad": grad}}


@check("softmaxRegression", "scores of +-1000 (features [[1000], [-1000]], weights [[1, -1]]): a "
       "finite cost, no warning", REG, no_warnings=True,
       hint="a probability underflows to 0 and log(0) = -inf: compute the log-probabilities from "
            "the scores, log y_hat = (z - m) - log sum exp(z - m) with m each row's largest score")
def _reg_extreme(fn, ref):
    return _reg_case(fn, ref, np.array([[1000.0], [-1000.0]]), np.array([1, 0]),
                     np.array([[1.0, -1.0]]), 0.0, alts=False)
