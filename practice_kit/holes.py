"""The course's holes: which functions a learner writes, and what the practice copy tells them.

A hole keeps its function's signature. Its docstring is written here for the learner (inputs,
outputs, shapes, the handout's conventions) and never states a gradient the question asks the
learner to derive; the solution's docstrings do, so they are not copied. The module docstrings of
the question scripts are replaced for the same reason. tests/test_practice.py checks that each
docstring here names every parameter of the current signature, so a changed signature in the
solution shows up as a failing test rather than as a docstring that lies.
"""
from typing import NamedTuple

HOLE_BEGIN = "### YOUR CODE HERE"
HOLE_RAISE = "raise NotImplementedError"
HOLE_END = "### END YOUR CODE"


class Hole(NamedTuple):
    """One function the learner writes.

    question : "q1" .. "q4"; file : its question script; function : the name the checker reports
    and calls; whole : True when the whole body is the hole, False for holes inside the body (the
    update and anneal lines of sgd, found by the rule in generate.py).
    """
    question: str
    file: str
    function: str
    whole: bool = True


HOLES = (
    Hole("q1", "q1_softmax.py", "softmax"),
    Hole("q2", "q2_sigmoid.py", "sigmoid"),
    Hole("q2", "q2_sigmoid.py", "sigmoid_grad"),
    Hole("q2", "q2_gradcheck.py", "gradcheck_naive"),
    Hole("q2", "q2_neural.py", "forward_backward_prop"),
    Hole("q3", "q3_word2vec.py", "normalizeRows"),
    Hole("q3", "q3_word2vec.py", "softmaxCostAndGradient"),
    Hole("q3", "q3_word2vec.py", "negSamplingCostAndGradient"),
    Hole("q3", "q3_word2vec.py", "skipgram"),
    Hole("q3", "q3_word2vec.py", "cbow"),
    Hole("q3", "q3_sgd.py", "sgd", whole=False),
    Hole("q4", "q4_softmaxreg.py", "getSentenceFeatures"),
    Hole("q4", "q4_softmaxreg.py", "softmaxRegression"),
)
QUESTIONS = ("q1", "q2", "q3", "q4")
# the question scripts, in the order they import one another (the reference is loaded in it)
QUESTION_FILES = ("q1_softmax.py", "q2_sigmoid.py", "q2_gradcheck.py", "q2_neural.py",
                  "q3_word2vec.py", "q3_sgd.py", "q4_softmaxreg.py")


# ---- the learner's docstrings (numpydoc, indented by the generator) ---------------------------

FUNCTION_DOCS = {
    "softmax": """\
Softmax of a vector, or of each row of a matrix (question 1b).

Parameters
----------
x : ndarray, shape (D,) or (N, D)
    Scores; integer input too. Do not modify it.

Returns
-------
y_hat : ndarray of float, same shape as `x`
    Probabilities: the vector, or each row, sums to 1.

It must give exact probabilities, with no warning, for scores of +-1000
(question 1a: adding a constant to every score of a row does not change its softmax).
""",
    "sigmoid": """\
The logistic sigmoid 1 / (1 + exp(-x)), element by element (question 2a).

Parameters
----------
x : scalar or ndarray, any shape

Returns
-------
s : ndarray of float, same shape as `x` (a float for a scalar)

Exact, with no overflow warning, for x = +-1000.
""",
    "sigmoid_grad": """\
Derivative of the sigmoid, computed from the sigmoid's output (question 2a).

Parameters
----------
s : scalar or ndarray, any shape
    Values s = sigmoid(x): the output of the sigmoid, not x.

Returns
-------
ds : ndarray of float, same shape as `s`
    d sigmoid / dx at the x that gave s, written in terms of s alone.
""",
    "gradcheck_naive": """\
Check the gradient that `f` returns against centred finite differences (question 2b).

Parameters
----------
f : callable
    ``f(x) -> (cost, grad)``: a float, and the gradient with the shape of x. f may draw
    random numbers (the negative-sampling loss does): every call of f must see the same draws.
    Save the state of Python's `random` and of NumPy's global generator on entry and restore
    both before every call of f; at the end leave them as one call of f leaves them.
x : ndarray, any shape (0-d for a scalar)
    The point to check at. It must be as it came in when the function returns.
h : float
    The finite-difference step.
tol : float
    An element passes when |numerical - yours| / max(1, |numerical|, |yours|) <= tol.
verbose : bool
    Print "Gradient check passed!", or the first failing element with both values.
where : callable or None
    ``where(ix) -> str`` describes index `ix` (a tuple) in the failure message; the word2vec
    self-test passes one that names the block, the word and the dimension. None: print `ix`.

Returns
-------
ok : bool
    True when every element agrees within `tol`, False otherwise.
""",
    "forward_backward_prop": """\
Forward and backward pass of the two-layer network (question 2c):
a sigmoid hidden layer, a softmax output layer, the cross-entropy cost.

Parameters
----------
data : ndarray, shape (N, Dx)
    One example per row.
labels : ndarray, shape (N, Dy)
    One-hot rows.
params : ndarray, shape ((Dx + 1) H + (H + 1) Dy,)
    W1 (Dx, H), b1 (1, H), W2 (H, Dy), b2 (1, Dy), flattened in that order;
    ``unpack_params(params, dimensions)`` gives the four as views.
dimensions : sequence of 3 ints
    [Dx, H, Dy].

Returns
-------
cost : float
    The cross-entropy summed over the N examples (the 2017 handout's, not the mean);
    finite, with no warning, when the output scores are +-1000.
grad : ndarray, shape like `params`
    d cost / d params, flattened in the same order.

Use q1's `softmax` and q2's `sigmoid` and `sigmoid_grad`.
""",
    "normalizeRows": """\
Scale every row to unit Euclidean length (question 3).

Parameters
----------
x : ndarray, shape (N, D) or (D,)
    A vector is one row. Integer input too.

Returns
-------
x_unit : ndarray of float, same shape as `x`
    Each row divided by its length; a row of zeros stays zeros, with no warning.
""",
    "softmaxCostAndGradient": """\
Softmax cross-entropy cost and gradients for one predicted vector (questions 3a, 3b).

Parameters
----------
predicted : ndarray, shape (D,)
    v_c (skip-gram) or v_hat (CBOW).
target : int
    Index o of the true output word.
outputVectors : ndarray, shape (W, D)
    U: row w is the output vector u_w of word w.
dataset : object
    Not used by this loss (the negative-sampling loss draws from it).

Returns
-------
cost : float
    J = -log y_hat_o, with y_hat the softmax of the scores u_w . predicted over all W words.
    Finite, with no warning, for scores of +-1000.
gradPred : ndarray, shape (D,)
    dJ / d predicted.
grad : ndarray, shape (W, D)
    dJ / d outputVectors.
""",
    "negSamplingCostAndGradient": """\
Negative-sampling cost and gradients for one predicted vector (question 3c).

Parameters
----------
predicted : ndarray, shape (D,)
    v_c (skip-gram) or v_hat (CBOW).
target : int
    Index o of the true output word.
outputVectors : ndarray, shape (W, D)
    U: row w is u_w.
dataset : object with ``sampleTokenIdx()``
    Draw the samples with ``getNegativeSamples(target, dataset, K)``: K indices, none equal to
    the target, in the course's order.
K : int
    Number of negative samples.

Returns
-------
cost : float
    J = -log sigma(u_o . predicted) - sum over the K samples k of log sigma(-u_k . predicted).
    Finite, with no warning, for scores of +-1000 (`neg_log_sigmoid` helps).
gradPred : ndarray, shape (D,)
    dJ / d predicted.
grad : ndarray, shape (W, D)
    dJ / d outputVectors: zero except in the rows of the target and of the samples.
    A word drawn twice is two samples: it counts twice.
""",
    "skipgram": """\
Skip-gram cost and gradients for one window (question 3d).

Parameters
----------
currentWord : str
    The centre word c.
C : int
    The context size (not needed here; kept for the course's signature).
contextWords : list of str
    Up to 2C words; a word may appear more than once.
tokens : dict str -> int
    Row of each word in the vector matrices.
inputVectors : ndarray, shape (W, D)
    V: row w is the input vector v_w.
outputVectors : ndarray, shape (W, D)
    U: row w is the output vector u_w.
dataset : object
    Passed on to the loss.
word2vecCostAndGradient : callable
    The loss F(predicted, target, outputVectors, dataset) -> (cost, gradPred (D,), grad (W, D)):
    softmaxCostAndGradient or negSamplingCostAndGradient.

Returns
-------
cost : float
    The sum of F over the context words, calling F once per context word in their order
    (the negative samples are drawn in that order).
gradIn : ndarray, shape (W, D)
    dJ / d inputVectors.
gradOut : ndarray, shape (W, D)
    dJ / d outputVectors.
""",
    "cbow": """\
CBOW cost and gradients for one window (question 3d).

Same parameters as `skipgram`: currentWord, C, contextWords, tokens, inputVectors,
outputVectors, dataset, word2vecCostAndGradient. The predicted vector is v_hat, the SUM of
the input vectors of the context words (the 2017 handout sums; a word that appears twice
counts twice); the cost is the loss of predicting the centre word from v_hat.

Returns
-------
cost : float
gradIn : ndarray, shape (W, D)
    dJ / d inputVectors.
gradOut : ndarray, shape (W, D)
    dJ / d outputVectors.
""",
    "getSentenceFeatures": """\
Feature vector of one sentence: the average of its words' vectors (question 4a).

Parameters
----------
tokens : dict str -> int
    Row of each word in `wordVectors`.
wordVectors : ndarray, shape (V, D)
sentence : list of str
    Words not in `tokens` are skipped.

Returns
-------
sentVector : ndarray, shape (D,)
    The mean of the vectors of the sentence's known words (a word twice counts twice);
    zeros, with no warning, when no word is known.
""",
    "softmaxRegression": """\
Cost, gradient and predictions of L2-regularised softmax regression (question 4a).

Parameters
----------
features : ndarray, shape (N, D)
labels : ndarray of int, shape (N,)
    Classes in 0 .. C-1.
weights : ndarray, shape (D, C), or (D + 1, C) with ``intercept=True``
    With an intercept the last row is the bias b.
regularization : float
    reg, the weight of the penalty.
nopredictions : bool
    Return only (cost, grad).
intercept : bool
    Whether the last row of `weights` is a bias.

Returns
-------
cost : float
    The mean over the N examples of -log softmax(scores)[label], plus 0.5 * reg * ||W||^2,
    W the weights without the bias row (the bias is not regularised). Finite, with no
    warning, for scores of +-1000.
grad : ndarray, shape like `weights`
    d cost / d weights.
pred : ndarray of int, shape (N,)
    The arg-max class of each row (only when `nopredictions` is False).
""",
}

# ---- the learner's module docstrings ----------------------------------------------------------
_CHECK = "Check your functions with ``python practice.py check {q}``; ``python {file}`` runs the self-test."
MODULE_DOCS = {
    "q1_softmax.py": """\
Question 1: a numerically stable softmax.

softmax(x)_i = exp(x_i) / sum_j exp(x_j), for a vector or for each row of a matrix.
""",
    "q2_sigmoid.py": """\
Question 2(a): the sigmoid and its derivative.
""",
    "q2_gradcheck.py": """\
Question 2(b): a naive gradient checker by centred finite differences.

For every element x_i, compare the gradient f returns with (f(x + h e_i) - f(x - h e_i)) / 2h.
""",
    "q2_neural.py": """\
Question 2(c): a one-hidden-layer network, forward and backward pass.

    h     = sigmoid(x W1 + b1)        hidden layer, (N, H)
    y_hat = softmax(h W2 + b2)        output probabilities, (N, Dy)
    J     = - sum_n log y_hat[n, label_n]   cross-entropy summed over the N examples
""",
    "q3_word2vec.py": """\
Question 3: word2vec -- skip-gram and CBOW, with the softmax and negative-sampling losses.

Word vectors are rows. ``inputVectors`` V (W, D) holds the centre ("input") vector v_w of
every word, ``outputVectors`` U (W, D) its context ("output") vector u_w; ``wordVectors``
(2W, D) stacks V on top of U. The functions keep the 2017 course's names, signatures and
order of random draws, so the self-test can compare with its published numbers.

``python q3_run.py`` trains with the training engine (``w2v_engine/``), which holds a batched
solution of this question; before training it compares the engine with your functions on a
small probe minibatch and refuses to train in place of code that differs (``--classic``
trains your own functions).
""",
    "q3_sgd.py": """\
Question 3(e): stochastic gradient descent, with exact checkpoints.

``sgd(f, x0, step, iterations, postprocessing=None, useSaved=False, PRINT_EVERY=10)`` is the
course's. Every ``PRINT_EVERY`` iterations it prints the smoothed cost (``iter 100: 12.345678``);
with ``useSaved`` it writes a checkpoint every ``SAVE_PARAMS_EVERY`` iterations and resumes from
the newest. Two holes are yours: the update of one iteration, and the annealing of the step.
""",
    "q4_softmaxreg.py": """\
Question 4(a): sentence features and an L2-regularised softmax regression.

A sentence is represented by the average of its word vectors; a linear softmax classifier maps
that (D,) feature to the 5 sentiment classes:

    scores = X W (+ b)                  (N, C)
    y_hat  = softmax(scores)            (N, C)
    J(W)   = mean_i -log y_hat[i, y_i] + 0.5 * reg * ||W||^2
""",
}

# the comments above the two holes in sgd's loop (names checked by generate.py)
SGD_UPDATE_COMMENT = """\
# Your update: move x against the gradient by `step`, then apply `postprocessing` (if it is not
# None) to the new x. A sparse gradient (q3_run.py's fast path) is not an array: when
# `not isinstance(grad, DENSE) and hasattr(grad, "add_to")`, grad.add_to(x, factor) adds
# factor * grad to x in place (only the rows it holds)."""
SGD_ANNEAL_COMMENT = """\
# Your annealing: halve `step` after every `{period}` iterations (`{it}` counts them from 1)."""

# What the practice copy computes differently from the solution: a batched function that would
# give the answer of a hole away, rewritten to call the learner's function (body lines only).
REWRITES = {
    ("q4_softmaxreg.py", "sentence_features"): """\
# practice copy: one call of your getSentenceFeatures per sentence
D = np.asarray(wordVectors).shape[1]
features = np.zeros((len(sentences), D))            # (N, D)
for i, sentence in enumerate(sentences):
    features[i] = getSentenceFeatures(tokens, wordVectors, sentence)
return features
""",
}


def check_command(question):
    """The command that checks one question, as the messages print it."""
    return f"python practice.py check {question}"


def module_doc(file):
    """The learner's module docstring of a question script, with its check line."""
    question = file.split("_")[0]
    return MODULE_DOCS[file] + "\n" + _CHECK.format(q=question, file=file) + "\n"
