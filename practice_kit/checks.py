"""How a check is written and judged: a case, what of its output is compared, and the hints.

A `Check` is one case for one function: ``run(fn, ref)`` builds its inputs, calls `fn` (the
learner's function in the child process, the reference's in the checker) and returns
``{"in": inputs, "out": outputs}``. The checker runs it twice: with the reference in its own
process (the expected outputs), and with the learner's function in a separate process (what it
got). `judge` compares them, output by output (`Expect`), and on the first difference writes
the failure in words: the check, the element with its meaning (which row, which word), both
numbers, and a hint. A hint comes from the first detector that recognises a common mistake
(a flipped sign, the wrong axis, a mean where the handout sums ...), else from the output's
own hint.

Cases are deterministic (their own seeded generators), so both runs see the same inputs.
"""
import base64
import io

import numpy as np

CHECKS = {}          # function name -> [Check, ...] in the order they are judged


class CheckFailure(Exception):
    """Raised by a case itself (not by the learner's code): the learner's function did something
    the check can already name, e.g. returned 2 values where 3 are expected."""


class Expect:
    """One output of a check and how it is compared.

    key : the output's key; label : its name in messages (``grad``, ``dJ/dW1``);
    rtol, atol : numpy.isclose tolerances; where : ``where(ix, inputs) -> str`` names element
    `ix` (a tuple) for a reader; hint : said when this output differs and no detector fired;
    exact : compare with ==, not closeness (booleans, counts, random draws).
    """

    def __init__(self, key, label=None, rtol=1e-7, atol=1e-10, where=None, hint=None, exact=False):
        self.key, self.label = key, label or key
        self.rtol, self.atol, self.where, self.hint, self.exact = rtol, atol, where, hint, exact

    def difference(self, expected, got, inputs):
        """None if `got` matches `expected`, else one line saying where and how it differs."""
        if isinstance(expected, Opaque) or expected is None:
            return None
        if isinstance(got, Opaque):
            return f"{self.label}: expected {describe(expected)}, got {got.text}"
        if got is None:
            return f"{self.label}: expected {describe(expected)}, got None (nothing returned?)"
        if isinstance(expected, str) or isinstance(got, str):
            return None if expected == got else f"{self.label}: expected {expected!r}, got {got!r}"
        e, g = np.asarray(expected), np.asarray(got)
        if e.shape != g.shape:
            extra = " (the transpose?)" if e.ndim == 2 and g.shape == e.shape[::-1] else ""
            return f"{self.label}: expected shape {e.shape}, got shape {g.shape}{extra}"
        if g.dtype.kind not in "biuf":
            return f"{self.label}: expected numbers, got an array of {g.dtype}"
        if self.exact or e.dtype.kind == "b":
            wrong = np.atleast_1d(e != g)
        else:
            with np.errstate(invalid="ignore", over="ignore"):
                wrong = ~np.atleast_1d(np.isclose(g.astype(float), e.astype(float), rtol=self.rtol,
                                                  atol=self.atol, equal_nan=True))
        if not wrong.any():
            return None
        if e.ndim == 0:
            return f"{self.label}: expected {fmt(e[()])}, got {fmt(g[()])}"
        bad = np.argwhere(wrong)
        ix = tuple(int(i) for i in bad[0])
        place = self.where(ix, inputs) if self.where else f"element {list(ix)}"
        if e.size <= 8:
            return (f"{self.label}, first at {place}: expected {fmt(e)}, got {fmt(g)}")
        return f"{self.label}, {place}: expected {fmt(e[ix])}, got {fmt(g[ix])}"


class Check:
    """One case of one function; see the module docstring.

    hints : sequence of ``(detect(inputs, expected, got) -> bool, text[, key])``: `expected` is
        the reference's ``{"in", "out"}``, `got` the learner's ``{"out", "warnings"}``; with a
        key, the detector is asked only when that output differs.
    no_warnings : a warning (overflow, division by zero) fails the check.
    hint : said when no detector and no output hint applies.
    error_hint : said when the learner's code raises an exception in this case.
    """

    def __init__(self, function, title, run, expects, hints=(), no_warnings=False, hint=None,
                 error_hint=None):
        self.function, self.title, self.run = function, title, run
        self.expects, self.hints, self.no_warnings = list(expects), list(hints), no_warnings
        self.hint, self.error_hint = hint, error_hint


def check(function, title, expects, hints=(), no_warnings=False, hint=None, error_hint=None):
    """Decorator: register ``run(fn, ref)`` as a check of `function`, in definition order."""
    def register(run):
        CHECKS.setdefault(function, []).append(
            Check(function, title, run, expects, hints, no_warnings, hint, error_hint))
        return run
    return register


def unpack(result, names):
    """The learner's return value split into `names`, or a CheckFailure naming what came back."""
    n = len(names)
    if n == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else describe(result)
        raise CheckFailure(f"it should return {n} values ({', '.join(names)}); it returned {got}")
    return tuple(result)


# ---- judging ----------------------------------------------------------------------------------

def _hint(check, expect, inputs, expected, got):
    for detect, text, *key in check.hints:
        if key and (expect is None or key[0] != expect.key):
            continue                 # a detector about another output
        try:
            if detect(inputs, expected, got):
                return text
        except Exception:            # a detector never decides a verdict; it only names a cause
            continue
    return (expect.hint if expect is not None else None) or check.hint


def judge(check, expected, got):
    """None if `got` (the learner's run of `check`) passes, else the failure's lines."""
    inputs, exp_out, got_out = expected["in"], expected["out"], got["out"]
    for expect in check.expects:
        line = expect.difference(exp_out.get(expect.key), got_out.get(expect.key), inputs)
        if line:
            return _lines(check, line, _hint(check, expect, inputs, expected, got))
    if check.no_warnings and got.get("warnings"):
        line = f"it gave a warning: {got['warnings'][0]}"
        return _lines(check, line, _hint(check, None, inputs, expected, got))
    return None


def _lines(check, line, hint):
    out = [f"check: {check.title}", line]
    if hint:
        out.append(f"hint: {hint}")
    return out


# ---- numbers in messages ----------------------------------------------------------------------

def fmt(value):
    """A number or a small array, short and exact enough to compare by eye."""
    a = np.asarray(value)
    if a.ndim == 0:
        v = a[()]
        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        return f"{float(v):.6g}" if a.dtype.kind in "fc" else str(v)
    text = np.array2string(a, precision=6, separator=", ", threshold=12, max_line_width=10 ** 6)
    return " ".join(text.split())                    # one line, whatever the shape


def describe(value):
    """What a returned value is, for a message: its type and shape, or the number."""
    if value is None:
        return "None"
    if isinstance(value, Opaque):
        return value.text
    a = np.asarray(value)
    if a.ndim == 0:
        return fmt(a)
    return f"an array of shape {a.shape}"


class Opaque:
    """A returned value that is not numbers (kept as its repr)."""

    def __init__(self, text):
        self.text = text


# ---- the wire format between the processes (no pickle) -----------------------------------------

def encode(value):
    """A JSON-able form of an output value: numbers as .npy bytes (base64), bools, strings."""
    if value is None:
        return {"none": True}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, (bool, np.bool_)):
        return {"bool": bool(value)}
    try:
        a = np.asarray(value)
        if a.dtype.kind not in "biufc":
            raise TypeError
    except Exception:
        text = f"{type(value).__name__} {_short(repr(value))}"
        return {"opaque": text}
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return {"npy": base64.b64encode(buf.getvalue()).decode("ascii")}


def decode(item):
    if "none" in item:
        return None
    if "str" in item:
        return item["str"]
    if "bool" in item:
        return item["bool"]
    if "opaque" in item:
        return Opaque(item["opaque"])
    a = np.load(io.BytesIO(base64.b64decode(item["npy"])), allow_pickle=False)
    return a[()] if a.ndim == 0 else a


def _short(text, n=80):
    return text if len(text) <= n else text[:n - 3] + "..."
