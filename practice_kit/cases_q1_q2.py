"""The checks of questions 1 and 2: softmax, sigmoid, sigmoid_grad, gradcheck_naive,
forward_backward_prop (see checks.py for how a check is written and judged).

Every case builds its inputs from its own seeded generator; `ref` is the reference (the
solution's modules, by name). Detectors of common mistakes compute the mistaken answer by
calling the reference on other inputs, never by spelling out a gradient here.
"""
import contextlib
import io
import random

import numpy as np

from practice_kit.checks import CheckFailure, Expect, check, unpack


def rng(seed):
    return np.random.default_rng(seed)


def close(a, b, rtol=1e-6, atol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def cell(name):
    """where() for a matrix: ``name[i, j]``; for a vector ``name[i]``."""
    return lambda ix, inputs: f"{name}[{', '.join(map(str, ix))}]"


def has_nan(out, key):
    return bool(np.isnan(np.asarray(out[key], dtype=float)).any())


def numerical_gradient(f, x, h=1e-5):
    """Centred differences of a scalar function f at x (a float64 copy), every element."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        up = float(f(x))
        x[ix] = old - h
        down = float(f(x))
        x[ix] = old
        grad[ix] = (up - down) / (2 * h)
    return grad


def not_own_derivative(key, numkey, what):
    """A detector: the learner's gradient `key` is not the derivative of their own cost."""
    def detect(inputs, expected, got):
        return numkey in got["out"] and not close(got["out"][key], got["out"][numkey], 1e-4, 1e-6)
    return detect, (f"your {what} is not the derivative of your own cost (centred differences of "
                    "your cost disagree with it): a gradient check of your function fails too"), key


# ==== q1: softmax =============================================================================

def _softmax_axis0(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


ROW = "each row of a matrix is its own distribution: take the max and the sum over the last axis " \
      "(axis=-1, keepdims=True), not over the columns or the whole matrix"
SHIFT = "exp(1001) overflows to inf and inf / inf is nan: subtract each row's largest score from " \
        "the row first (question 1a: it leaves the softmax unchanged), so the largest exponent is 0"


@check("softmax", "softmax([1, 2]), the course's first example",
       [Expect("y_hat", "softmax([1, 2])", where=cell("y_hat"))],
       hints=[(lambda i, e, g: not close(np.sum(g["out"]["y_hat"]), 1.0),
               "the probabilities must sum to 1: divide each exponential by the sum of them all")])
def _softmax_pair(fn, ref):
    return {"in": {}, "out": {"y_hat": fn(np.array([1, 2]))}}


@check("softmax", "a 4 x 7 matrix of random scores, row by row",
       [Expect("y_hat", "softmax(x)", where=lambda ix, i: f"row {ix[0]}, column {ix[1]}")],
       hints=[(lambda i, e, g: close(g["out"]["y_hat"], _softmax_axis0(i["x"])),
               "your softmax normalises the columns: " + ROW),
              (lambda i, e, g: close(np.sum(g["out"]["y_hat"]), 1.0), "the whole matrix sums to 1 "
               "in yours: " + ROW)])
def _softmax_rows(fn, ref):
    x = rng(1).standard_normal((4, 7))
    return {"in": {"x": x}, "out": {"y_hat": fn(x.copy())}}


@check("softmax", "a 1-D vector of 5 scores",
       [Expect("y_hat", "softmax(x)", where=cell("y_hat"))],
       error_hint="a 1-D vector has no axis 1: axis=-1 (the last axis) works for both shapes")
def _softmax_vector(fn, ref):
    return {"in": {}, "out": {"y_hat": fn(3 * rng(2).standard_normal(5))}}


@check("softmax", "scores of about +-1000 ([[1001, 1002], [3, 4], [-1000, -1001]]): exact, no warning",
       [Expect("y_hat", "softmax(x)", where=lambda ix, i: f"row {ix[0]}, column {ix[1]}")],
       no_warnings=True,
       hints=[(lambda i, e, g: has_nan(g["out"], "y_hat") and not np.isnan(
                   np.asarray(g["out"]["y_hat"], dtype=float)[0]).any(),
               "you subtracted the largest score of the whole matrix: rows far below it underflow "
               "to 0 / 0; subtract each row's own maximum (keepdims=True)"),
              (lambda i, e, g: True, SHIFT)])
def _softmax_extremes(fn, ref):
    x = np.array([[1001.0, 1002.0], [3.0, 4.0], [-1000.0, -1001.0]])
    return {"in": {}, "out": {"y_hat": fn(x)}}


@check("softmax", "the caller's x is left unchanged",
       [Expect("unchanged", "x unchanged after softmax(x)", exact=True,
               hint="x -= ... or x /= ... changes the caller's array in place: write "
                    "x = x - ... (a new array) instead")])
def _softmax_input(fn, ref):
    x = rng(3).standard_normal((3, 5))
    before = x.copy()
    fn(x)
    return {"in": {}, "out": {"unchanged": bool(np.array_equal(x, before))}}


@check("softmax", "integer scores [[1, 2], [3, 5]] give float probabilities",
       [Expect("y_hat", "softmax(x)", where=lambda ix, i: f"row {ix[0]}, column {ix[1]}")],
       hint="an integer array cannot hold probabilities: convert to float first "
            "(x = x.astype(float)), and never change the caller's array")
def _softmax_integers(fn, ref):
    return {"in": {}, "out": {"y_hat": fn(np.array([[1, 2], [3, 5]]))}}


# ==== q2: sigmoid, sigmoid_grad ================================================================

@check("sigmoid", "a 3 x 4 matrix of random x",
       [Expect("s", "sigmoid(x)", where=lambda ix, i: f"x[{ix[0]}, {ix[1]}] = {i['x'][ix]:.4g}")],
       hints=[(lambda i, e, g: close(g["out"]["s"], 1 - e["out"]["s"]),
               "yours is sigmoid(-x): the sign in the exponent is flipped (sigmoid(x) -> 1 as x grows)")])
def _sigmoid_matrix(fn, ref):
    x = 3 * rng(4).standard_normal((3, 4))
    return {"in": {"x": x}, "out": {"s": fn(x.copy())}}


@check("sigmoid", "sigmoid(0) = 0.5 for a scalar",
       [Expect("s", "sigmoid(0.0)")])
def _sigmoid_scalar(fn, ref):
    return {"in": {}, "out": {"s": fn(0.0)}}


@check("sigmoid", "x = [-1000, 1000, -50, 50]: exactly 0 and 1 at +-1000, with no warning",
       [Expect("s", "sigmoid(x)", where=lambda ix, i: f"x = {[-1000, 1000, -50, 50][ix[0]]}")],
       no_warnings=True,
       hint="exp(-x) overflows for x below about -709 (a RuntimeWarning): where x < 0 compute "
            "exp(x) / (1 + exp(x)) instead, so that only numbers <= 0 are exponentiated")
def _sigmoid_extremes(fn, ref):
    return {"in": {}, "out": {"s": fn(np.array([-1000.0, 1000.0, -50.0, 50.0]))}}


def _sigmoid_of(s):
    return 1 / (1 + np.exp(-np.asarray(s, dtype=float)))


@check("sigmoid_grad", "s = sigmoid(x) for a 3 x 4 matrix of random x",
       [Expect("ds", "sigmoid_grad(s)", where=lambda ix, i: f"s[{ix[0]}, {ix[1]}] = {i['s'][ix]:.4g}")],
       hints=[(lambda i, e, g: close(g["out"]["ds"],
                                     _sigmoid_of(i["s"]) * (1 - _sigmoid_of(i["s"]))),
               "sigmoid_grad is given s = sigmoid(x), the sigmoid's output, not x: write the "
               "derivative in terms of s alone, without calling sigmoid again")])
def _sigmoid_grad_matrix(fn, ref):
    s = ref.q2_sigmoid.sigmoid(2 * rng(5).standard_normal((3, 4)))
    return {"in": {"s": s}, "out": {"ds": fn(s.copy())}}


@check("sigmoid_grad", "s = [0.5, 0, 1]", [Expect("ds", "sigmoid_grad(s)", where=cell("ds"))])
def _sigmoid_grad_ends(fn, ref):
    return {"in": {}, "out": {"ds": fn(np.array([0.5, 0.0, 1.0]))}}


# ==== q2: gradcheck_naive ======================================================================

def _quad(x):
    return np.sum(x ** 2), 2 * x


def _cube(x):
    return np.sum(x ** 3), 3 * x ** 2


def _verdict(fn, f, x, **kw):
    """gradcheck_naive(f, x)'s verdict, with whatever it prints captured."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        ok = fn(f, x, **kw)
    return ok, printed.getvalue()


VERDICT = "gradcheck_naive's verdict"
RETURN = ("return True or False (the course's version only printed it; the self-tests and the "
          "checker assert on the result)")
ACCEPT = ("a right gradient was rejected. Common causes: one-sided differences (f(x + h) - f(x)) / h "
          "are off by about h = 1e-4, ten times the tolerance (use centred ones, / 2h); x[ix] not "
          "put back after the two evaluations; the relative error not as the docstring says")


def _returns_none(i, e, g):
    return g["out"]["ok"] is None


@check("gradcheck_naive", "accepts a right gradient: f(x) = sum(x**2) on a 3 x 4 matrix",
       [Expect("ok", VERDICT, exact=True)], hints=[(_returns_none, RETURN)], hint=ACCEPT)
def _gc_matrix(fn, ref):
    return {"in": {}, "out": {"ok": _verdict(fn, _quad, rng(6).standard_normal((3, 4)))[0]}}


@check("gradcheck_naive", "accepts a right gradient at a scalar (a 0-d array x = 1.5)",
       [Expect("ok", VERDICT, exact=True)], hints=[(_returns_none, RETURN)], hint=ACCEPT)
def _gc_scalar(fn, ref):
    return {"in": {}, "out": {"ok": _verdict(fn, _quad, np.array(1.5))[0]}}


@check("gradcheck_naive", "accepts a right gradient: f(x) = sum(x**3) on a vector of 5",
       [Expect("ok", VERDICT, exact=True)], hints=[(_returns_none, RETURN)], hint=ACCEPT)
def _gc_cube(fn, ref):
    return {"in": {}, "out": {"ok": _verdict(fn, _cube, rng(7).standard_normal(5))[0]}}


def _wrong_at(x):
    g = 2 * x
    g[1, 2] += 1e-2
    return np.sum(x ** 2), g


REJECT = ("compare EVERY element: numerical and yours, relative error "
          "|num - grad| / max(1, |num|, |grad|), and False as soon as one exceeds tol")


@check("gradcheck_naive", "rejects a gradient wrong in one element ([1, 2] off by 0.01)",
       [Expect("ok", VERDICT, exact=True)], hints=[(_returns_none, RETURN)], hint=REJECT)
def _gc_wrong(fn, ref):
    return {"in": {}, "out": {"ok": _verdict(fn, _wrong_at, rng(8).standard_normal((3, 4)))[0]}}


@check("gradcheck_naive", "rejects a gradient with its sign flipped: f = sum(x**3), grad = -3 x**2",
       [Expect("ok", VERDICT, exact=True)], hints=[(_returns_none, RETURN)], hint=REJECT)
def _gc_sign(fn, ref):
    return {"in": {}, "out": {"ok": _verdict(fn, lambda x: (np.sum(x ** 3), -3 * x ** 2),
                                             np.array([0.5, 1.5]))[0]}}


@check("gradcheck_naive", "names the failing element with where(ix) when it is given",
       [Expect("named", "where([1, 2]) in what it printed", exact=True,
               hint="when `where` is given, print where(ix) for the first failing index ix "
                    "(the word2vec self-test passes one that names the word)")],
       error_hint="keep the signature: gradcheck_naive(f, x, h=H, tol=TOLERANCE, verbose=True, "
                  "where=None)")
def _gc_where(fn, ref):
    ok, printed = _verdict(fn, _wrong_at, rng(9).standard_normal((3, 4)), verbose=True,
                           where=lambda ix: f"row {ix[0]}, column {ix[1]} of the test matrix")
    return {"in": {}, "out": {"named": "row 1, column 2 of the test matrix" in printed}}


def _stochastic(x):
    w = np.random.rand(*x.shape) + random.random()        # both generators, as word2vec's losses
    return np.sum(w * x ** 2), 2 * w * x


RANDOM = ("f draws random numbers: save random.getstate() and np.random.get_state() on entry and "
          "restore BOTH before every call of f, so f(x + h) and f(x - h) see the same draws")


@check("gradcheck_naive", "accepts a right gradient of an f that draws random numbers",
       [Expect("ok", VERDICT, exact=True)], hints=[(_returns_none, RETURN)], hint=RANDOM)
def _gc_random(fn, ref):
    random.seed(10)
    np.random.seed(10)
    return {"in": {}, "out": {"ok": _verdict(fn, _stochastic, rng(10).standard_normal((3, 2)))[0]}}


@check("gradcheck_naive", "leaves both random generators as one call of f leaves them",
       [Expect("draws", "the next random.random() and np.random.rand() after the check", exact=True,
               hint="restore the saved states before every call of f and not after the last "
                    "one: then the generators end as one call of f leaves them, as the course's "
                    "self-test (and its published numbers) expect")])
def _gc_state(fn, ref):
    random.seed(11)
    np.random.seed(11)
    _verdict(fn, _stochastic, rng(11).standard_normal(3))
    return {"in": {}, "out": {"draws": np.array([random.random(), np.random.rand()])}}


@check("gradcheck_naive", "leaves the caller's x exactly as it came in",
       [Expect("x", "x after the check", rtol=0, atol=0, where=cell("x"),
               hint="put the saved value back in x[ix] after the two evaluations (adding and "
                    "subtracting h leaves rounding errors), or work on a copy of x")])
def _gc_x(fn, ref):
    x = rng(12).standard_normal((2, 3)) * 10
    _verdict(fn, _quad, x)
    return {"in": {}, "out": {"x": x}}


# ==== q2: forward_backward_prop ===============================================================

BLOCKS = ("W1", "b1", "W2", "b2")


def _network(seed, N, dims):
    g = rng(seed)
    data = g.standard_normal((N, dims[0]))
    labels = np.zeros((N, dims[2]))
    labels[np.arange(N), g.integers(0, dims[2], N)] = 1
    Dx, H, Dy = dims
    params = g.standard_normal((Dx + 1) * H + (H + 1) * Dy)
    return data, labels, params


def _fbp_case(fn, ref, seed, N, dims):
    data, labels, params = _network(seed, N, dims)
    q2n = ref.q2_neural
    cost, grad = unpack(fn(data, labels, params.copy(), dims), ("cost", "grad"))
    grad = np.asarray(grad, dtype=float)
    if grad.size != params.size:
        raise CheckFailure(f"grad has {grad.size} values; it must have one per parameter, "
                           f"{params.size} for dimensions {dims}, flattened like params")
    out = {"cost": cost}
    out.update({"d" + b: v for b, v in zip(BLOCKS, q2n.unpack_params(grad.ravel(), dims))})
    own = numerical_gradient(lambda p: fn(data, labels, p, dims)[0], params)
    out.update({"num_d" + b: v for b, v in zip(BLOCKS, q2n.unpack_params(own, dims))})
    # the common mistake of the backward pass, made with the reference itself: sigmoid_grad
    # given the hidden layer's input (its logit) instead of its output
    saved = q2n.sigmoid_grad
    q2n.sigmoid_grad = lambda s: saved(np.log(s / (1 - s)))
    try:
        alt = q2n.forward_backward_prop(data, labels, params, dims)[1]
    finally:
        q2n.sigmoid_grad = saved
    inputs = {"N": N, "alt_logit": dict(zip(BLOCKS, q2n.unpack_params(alt, dims)))}
    return {"in": inputs, "out": out}


def _fbp_expects():
    names = {"W1": ("input feature", "hidden unit"), "b1": ("", "hidden unit"),
             "W2": ("hidden unit", "output class"), "b2": ("", "output class")}

    def where(block):
        rows, cols = names[block]
        return lambda ix, i: (f"{block}[{ix[0]}, {ix[1]}] ({rows + ' ' + str(ix[0]) + ', ' if rows else ''}"
                              f"{cols} {ix[1]})")
    return [Expect("cost", "cost", rtol=1e-7)] + [
        Expect("d" + b, f"the gradient's {b} block (d cost / d {b})", rtol=1e-6, atol=1e-8,
               where=where(b)) for b in BLOCKS]


def _fbp_hints():
    hints = [(lambda i, e, g: close(g["out"]["cost"], e["out"]["cost"] / i["N"]),
              "the 2017 handout's cost is the cross-entropy SUMMED over the N examples; yours is "
              "the mean (the sum divided by N); the gradient follows the cost", "cost"),
             (lambda i, e, g: close(g["out"]["dW1"], i["alt_logit"]["W1"]),
              "sigmoid_grad takes the sigmoid's OUTPUT (the hidden layer h), and you gave it the "
              "hidden layer's input x W1 + b1", "dW1")]
    hints += [not_own_derivative("d" + b, "num_d" + b, f"{b} gradient") for b in BLOCKS]
    return hints


@check("forward_backward_prop", "the course's network: N = 20 examples, dimensions [10, 5, 10]",
       _fbp_expects(), hints=_fbp_hints())
def _fbp_course(fn, ref):
    return _fbp_case(fn, ref, 13, 20, [10, 5, 10])


@check("forward_backward_prop", "a single example (N = 1), dimensions [3, 4, 2]",
       _fbp_expects(), hints=_fbp_hints())
def _fbp_single(fn, ref):
    return _fbp_case(fn, ref, 14, 1, [3, 4, 2])


@check("forward_backward_prop", "a saturated network (scores of +-1000 at the output): a finite "
       "cost, no warning", [Expect("cost", "cost", rtol=1e-9)] + _fbp_expects()[1:],
       no_warnings=True,
       hint="a probability underflows to 0 and log(0) = -inf: compute log y_hat from the output "
            "scores theta directly, (theta - m) - log sum exp(theta - m) with m each row's largest")
def _fbp_saturated(fn, ref):
    dims = [2, 3, 2]
    params = np.full(ref.q2_neural.param_count(dims), 500.0)
    params[-2:] = [1000.0, -1000.0]            # b2 gives the true class (1) a probability of ~0
    data, labels = np.ones((1, 2)), np.array([[0.0, 1.0]])
    cost, grad = unpack(fn(data, labels, params.copy(), dims), ("cost", "grad"))
    grad = np.asarray(grad, dtype=float)
    if grad.size != params.size:
        raise CheckFailure(f"grad has {grad.size} values; it must have {params.size}")
    out = {"cost": cost}
    out.update({"d" + b: v for b, v in zip(BLOCKS, ref.q2_neural.unpack_params(grad, dims))})
    return {"in": {"N": 1}, "out": out}
