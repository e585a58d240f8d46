"""A learner's answers for tests/test_practice.py: a right one for every hole, and planted bugs.

`CORRECT` holds answers written the way a learner following the handout would write them
(not the project's solution): the checker must pass them. `BUGS` holds learner-style mistakes,
each made from a right answer by one textual change; the checker must flag each on exactly its
function, with the hint that names the mistake. `fill` writes answers into a practice copy's
holes, as a learner would (between the course's markers, which stay).
"""
import re
import textwrap
from typing import NamedTuple

CORRECT = {
    "softmax": """
        x = np.asarray(x, dtype=float)
        shifted = x - np.max(x, axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=-1, keepdims=True)
    """,
    "sigmoid": """
        x = np.asarray(x, dtype=float)
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return s if s.ndim else float(s)
    """,
    "sigmoid_grad": """
        return s * (1 - s)
    """,
    "gradcheck_naive": """
        rndstate = random.getstate()
        npstate = np.random.get_state()

        def call(point):
            random.setstate(rndstate)
            np.random.set_state(npstate)
            return f(point)
        x = np.array(x, dtype=float)
        fx, grad = call(x)
        it = np.nditer(x, flags=["multi_index"])
        while not it.finished:
            ix = it.multi_index
            old = x[ix]
            x[ix] = old + h
            fplus = call(x)[0]
            x[ix] = old - h
            fminus = call(x)[0]
            x[ix] = old
            numgrad = (fplus - fminus) / (2 * h)
            reldiff = abs(numgrad - grad[ix]) / max(1, abs(numgrad), abs(grad[ix]))
            if reldiff > tol:
                if verbose:
                    print("Gradient check failed.")
                    print("First gradient error found at", where(ix) if where else ix)
                    print("Your gradient:", grad[ix], "Numerical gradient:", numgrad)
                return False
            it.iternext()
        if verbose:
            print("Gradient check passed!")
        return True
    """,
    "forward_backward_prop": """
        W1, b1, W2, b2 = unpack_params(params, dimensions)
        h = sigmoid(data @ W1 + b1)
        theta = h @ W2 + b2
        y_hat = softmax(theta)
        shifted = theta - theta.max(axis=1, keepdims=True)
        log_y_hat = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        cost = -np.sum(labels * log_y_hat)
        delta2 = y_hat - labels
        gW2 = h.T @ delta2
        gb2 = delta2.sum(axis=0, keepdims=True)
        delta1 = delta2 @ W2.T * sigmoid_grad(h)
        gW1 = data.T @ delta1
        gb1 = delta1.sum(axis=0, keepdims=True)
        return cost, np.concatenate([gW1.ravel(), gb1.ravel(), gW2.ravel(), gb2.ravel()])
    """,
    "normalizeRows": """
        x = np.asarray(x, dtype=float)
        norms = np.sqrt(np.sum(x ** 2, axis=-1, keepdims=True))
        return x / np.where(norms > 0, norms, 1.0)
    """,
    "softmaxCostAndGradient": """
        scores = outputVectors @ predicted
        m = np.max(scores)
        log_norm = m + np.log(np.sum(np.exp(scores - m)))
        cost = log_norm - scores[target]
        y_hat = np.exp(scores - log_norm)
        delta = y_hat.copy()
        delta[target] -= 1
        return cost, outputVectors.T @ delta, np.outer(delta, predicted)
    """,
    "negSamplingCostAndGradient": """
        samples = getNegativeSamples(target, dataset, K)
        u_o = outputVectors[target]
        s_o = u_o @ predicted
        s_k = outputVectors[samples] @ predicted
        cost = neg_log_sigmoid(s_o) + np.sum(neg_log_sigmoid(-s_k))
        gradPred = (sigmoid(s_o) - 1) * u_o
        grad = np.zeros(outputVectors.shape)
        grad[target] += (sigmoid(s_o) - 1) * predicted
        for k, s in zip(samples, s_k):
            gradPred += sigmoid(s) * outputVectors[k]
            grad[k] += sigmoid(s) * predicted
        return cost, gradPred, grad
    """,
    "skipgram": """
        c = tokens[currentWord]
        cost = 0.0
        gradIn = np.zeros(inputVectors.shape)
        gradOut = np.zeros(outputVectors.shape)
        for word in contextWords:
            F, gPred, gOut = word2vecCostAndGradient(inputVectors[c], tokens[word], outputVectors,
                                                     dataset)
            cost += F
            gradIn[c] += gPred
            gradOut += gOut
        return cost, gradIn, gradOut
    """,
    "cbow": """
        idx = [tokens[w] for w in contextWords]
        v_hat = np.sum(inputVectors[idx], axis=0)
        cost, gPred, gradOut = word2vecCostAndGradient(v_hat, tokens[currentWord], outputVectors,
                                                       dataset)
        gradIn = np.zeros(inputVectors.shape)
        for i in idx:
            gradIn[i] += gPred
        return cost, gradIn, gradOut
    """,
    "sgd": ("""
        if not isinstance(grad, DENSE) and hasattr(grad, "add_to"):
            grad.add_to(x, -step)
        else:
            x -= step * grad
        if postprocessing is not None:
            x = postprocessing(x)
    """, """
        if it % anneal_every == 0:
            step *= 0.5
    """),
    "getSentenceFeatures": """
        rows = [tokens[w] for w in sentence if w in tokens]
        if not rows:
            return np.zeros(wordVectors.shape[1])
        return np.mean(wordVectors[rows], axis=0)
    """,
    "softmaxRegression": """
        N, D = features.shape
        W = weights[:D]
        scores = features @ W
        if intercept:
            scores = scores + weights[D]
        z = scores - scores.max(axis=1, keepdims=True)
        log_prob = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        cost = -np.mean(log_prob[np.arange(N), labels]) + 0.5 * regularization * np.sum(W ** 2)
        delta = np.exp(log_prob)
        delta[np.arange(N), labels] -= 1
        delta /= N
        grad = np.zeros(weights.shape)
        grad[:D] = features.T @ delta + regularization * W
        if intercept:
            grad[D] = delta.sum(axis=0)
        if nopredictions:
            return cost, grad
        return cost, grad, np.argmax(scores, axis=1)
    """,
}


class Bug(NamedTuple):
    """A mistake planted in `function`: `old` replaced by `new` in its right answer (in hole
    `part` of sgd), or `body` instead of it; the checker's message must contain `expect`."""
    function: str
    name: str
    old: str = ""
    new: str = ""
    body: str = ""
    expect: str = ""
    part: int = 0
    status: str = "fail"


BUGS = [
    Bug("softmax", "no max-shift", "x - np.max(x, axis=-1, keepdims=True)", "x",
        expect="subtract each row's largest score"),
    Bug("softmax", "softmax over the wrong axis", "axis=-1", "axis=0", expect="normalises the columns"),
    Bug("softmax", "modifies its input", body="""
        x = np.asarray(x, dtype=float)
        x -= np.max(x, axis=-1, keepdims=True)
        e = np.exp(x)
        return e / np.sum(e, axis=-1, keepdims=True)
    """, expect="changes the caller's array"),
    Bug("sigmoid", "sign flip in the exponent", body="return 1 / (1 + np.exp(x))",
        expect="the sign in the exponent is flipped"),
    Bug("sigmoid", "overflows at -1000", body="""
        s = 1 / (1 + np.exp(-np.asarray(x, dtype=float)))
        return s if s.ndim else float(s)
    """, expect="exp(-x) overflows"),
    Bug("sigmoid_grad", "takes x instead of sigmoid(x)", body="""
        sig = 1 / (1 + np.exp(-s))
        return sig * (1 - sig)
    """, expect="the sigmoid's output, not x"),
    Bug("gradcheck_naive", "does not restore the random state",
        "    random.setstate(rndstate)\n    np.random.set_state(npstate)\n", "",
        expect="restore BOTH before every call"),
    Bug("gradcheck_naive", "one-sided differences", "(fplus - fminus) / (2 * h)", "(fplus - fx) / h",
        expect="one-sided differences"),
    Bug("gradcheck_naive", "returns nothing", "return True", "return", expect="return True or False"),
    Bug("forward_backward_prop", "sigmoid_grad of the hidden layer's input", "sigmoid_grad(h)",
        "sigmoid_grad(data @ W1 + b1)", expect="sigmoid_grad takes the sigmoid's OUTPUT"),
    Bug("forward_backward_prop", "mean cost (not the handout's sum)", "delta2 = y_hat - labels",
        "delta2 = (y_hat - labels) / len(data)\ncost = cost / len(data)",
        expect="SUMMED over the N examples"),
    Bug("forward_backward_prop", "log of an underflowed probability", "cost = -np.sum(labels * log_y_hat)",
        "cost = -np.sum(labels * np.log(y_hat))", expect="log(0) = -inf"),
    Bug("forward_backward_prop", "b2's gradient not summed over the examples",
        "gb2 = delta2.sum(axis=0, keepdims=True)", "gb2 = delta2[:1]",
        expect="not the derivative of your own cost"),
    Bug("normalizeRows", "zero row divided by 0", "x / np.where(norms > 0, norms, 1.0)", "x / norms",
        expect="0 / 0 is nan"),
    Bug("normalizeRows", "no square root", "np.sqrt(np.sum(x ** 2, axis=-1, keepdims=True))",
        "np.sum(x ** 2, axis=-1, keepdims=True)", expect="the square root of the sum of squares"),
    Bug("softmaxCostAndGradient", "sign flip in gradPred", "outputVectors.T @ delta",
        "-outputVectors.T @ delta", expect="the sign is flipped"),
    Bug("softmaxCostAndGradient", "log of an underflowed probability", body="""
        y_hat = softmax(outputVectors @ predicted)
        cost = -np.log(y_hat[target])
        delta = y_hat.copy()
        delta[target] -= 1
        return cost, outputVectors.T @ delta, np.outer(delta, predicted)
    """, expect="log(0) = -inf"),
    Bug("negSamplingCostAndGradient", "sign flip in grad[o]", "grad[target] += (sigmoid(s_o) - 1)",
        "grad[target] -= (sigmoid(s_o) - 1)", expect="the target's row has its sign flipped"),
    Bug("negSamplingCostAndGradient", "a negative drawn twice counted once",
        "for k, s in zip(samples, s_k):\n"
        "    gradPred += sigmoid(s) * outputVectors[k]\n"
        "    grad[k] += sigmoid(s) * predicted\n",
        "gradPred += sigmoid(s_k) @ outputVectors[samples]\n"
        "grad[samples] += np.outer(sigmoid(s_k), predicted)\n",
        expect="counts it once"),
    Bug("negSamplingCostAndGradient", "samples drawn without getNegativeSamples",
        "getNegativeSamples(target, dataset, K)", "[dataset.sampleTokenIdx() for _ in range(K)]",
        expect="getNegativeSamples(target, dataset, K)"),
    Bug("skipgram", "mean over the context words", "return cost, gradIn, gradOut",
        "n = len(contextWords)\nreturn cost / n, gradIn / n, gradOut / n",
        expect="SUM of the losses"),
    Bug("skipgram", "gradIn overwritten by each context word", "gradIn[c] += gPred",
        "gradIn[c] = gPred", expect="keeps only the last context word"),
    Bug("cbow", "averages the context (the 2017 handout sums)",
        "v_hat = np.sum(inputVectors[idx], axis=0)", "v_hat = np.mean(inputVectors[idx], axis=0)",
        expect="SUM of the context words"),
    Bug("cbow", "a repeated context word counted once", "for i in idx:\n    gradIn[i] += gPred\n",
        "gradIn[idx] += gPred\n", expect="gets the gradient twice"),
    Bug("sgd", "does not anneal (uses the constant ANNEAL_EVERY)", "anneal_every", "ANNEAL_EVERY",
        part=1, expect="use the argument anneal_every"),
    Bug("sgd", "steps up the gradient", "x -= step * grad", "x += step * grad",
        expect="x moves against the gradient"),
    Bug("sgd", "ignores sparse gradients", body="""
        x -= step * grad
        if postprocessing is not None:
            x = postprocessing(x)
    """, expect="apply it with grad.add_to(x, -step)", status="error"),
    Bug("getSentenceFeatures", "sums instead of averaging", "np.mean(wordVectors[rows], axis=0)",
        "np.sum(wordVectors[rows], axis=0)", expect="AVERAGE of the word vectors"),
    Bug("getSentenceFeatures", "divides by len(sentence)", "np.mean(wordVectors[rows], axis=0)",
        "np.sum(wordVectors[rows], axis=0) / len(sentence)", expect="number of KNOWN words"),
    Bug("softmaxRegression", "penalty without the 0.5", "0.5 * regularization * np.sum(W ** 2)",
        "regularization * np.sum(W ** 2)", expect="lacks the 0.5"),
    Bug("softmaxRegression", "gradient not divided by N", "delta /= N\n", "",
        expect="not divided by N"),
    Bug("softmaxRegression", "the bias regularised", "    grad[D] = delta.sum(axis=0)",
        "    grad[D] = delta.sum(axis=0) + regularization * weights[D]",
        expect="the bias (the last row of weights) is not regularised"),
]


def answer(function, bug=None):
    """The answer text(s) for `function`: the right one, or the right one with `bug` planted."""
    right = CORRECT[function]
    parts = list(right) if isinstance(right, tuple) else [right]
    parts = [textwrap.dedent(p).strip("\n") for p in parts]
    if bug is not None:
        if bug.body:
            parts[bug.part] = textwrap.dedent(bug.body).strip("\n")
        else:
            text = parts[bug.part]
            assert text.count(bug.old) >= 1, f"bug {bug.name!r}: {bug.old!r} is not in the answer"
            parts[bug.part] = text.replace(bug.old, bug.new)
    return parts


HOLE = re.compile(r"^( *)### YOUR CODE HERE\n\1raise NotImplementedError\n", re.M)


def fill(path, function, parts, container=None):
    """Write `parts` into the holes of `function` (or of its `container`) in the file `path`."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    start = text.index(f"\ndef {container or function}(")
    following = re.search(r"\n(def |class |# ----|# ====)", text[start + 1:])
    end = start + 1 + following.start() if following else len(text)
    body = text[start:end]
    for part in parts:
        m = HOLE.search(body)
        assert m, f"{path}: no hole left in {function}"
        pad = m.group(1)
        code = "\n".join(pad + line if line.strip() else "" for line in part.split("\n"))
        body = body[:m.start()] + f"{pad}### YOUR CODE HERE\n{code}\n" + body[m.end():]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text[:start] + body + text[end:])
