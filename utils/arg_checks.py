"""Argument checks of ``q3_sgd.sgd`` and of the checkpoint writer: each names the argument.

A bool is not a count, and a float is not one even when it is whole (``iterations=2.0``): the
course's loop would run ``range(2.0)`` and fail late, or a bool would pass as 0 or 1 silently.
"""
import math
import numbers

import numpy as np


def positive_number(value):
    """True for a finite real number > 0 that is not a bool."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def check_count(who, name, value, low):
    """ValueError unless `value` is an integer >= `low` (bools and floats are not counts)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{who}: {name} must be an integer >= {low}, got {value!r}")


def check_callable(who, name, value, optional=False):
    """TypeError unless `value` is callable (or None when `optional`)."""
    if not (callable(value) or (optional and value is None)):
        raise TypeError(f"{who}: {name} must be a function, got {type(value).__name__} "
                        f"{value!r:.40}")


def check_sgd_args(f, x0, step, iterations, postprocessing, progress, keep, counts):
    """Refuse, before any iteration, ``sgd`` arguments that would fail late or silently.

    Parameters
    ----------
    f, postprocessing, progress : the functions sgd calls (postprocessing, progress: or None)
    x0, step, iterations, keep : sgd's
    counts : dict of name -> value
        The periods (``save_every``, ``PRINT_EVERY`` ...): integers >= 1.

    Raises
    ------
    TypeError
        `f`, `postprocessing` or `progress` is not a function, or x0 is not real numbers.
    ValueError
        Naming the argument: `step` not a positive finite number, `iterations` < 0 or not an
        integer, a period < 1 or not an integer, `keep` neither None nor an integer >= 1.
    """
    check_callable("sgd", "f", f)
    check_callable("sgd", "postprocessing", postprocessing, optional=True)
    check_callable("sgd", "progress", progress, optional=True)
    dtype = np.asarray(x0).dtype
    if dtype.kind not in "biuf":
        raise TypeError(f"sgd: x0 must be a number or an array of real numbers, got dtype "
                        f"{dtype}")
    if not positive_number(step):
        raise ValueError(f"sgd: step must be a positive finite number, got {step!r}")
    check_count("sgd", "iterations", iterations, 0)
    for name, value in counts.items():
        check_count("sgd", name, value, 1)
    if keep is not None:
        check_count("sgd", "keep", keep, 1)


def as_x(value, shape):
    """What postprocessing returned, as sgd's x: C-ordered float64 (the sparse update uses a
    flat view of x) of x's `shape`; ValueError if it has another shape (the next update would
    broadcast it silently), TypeError if it is not real numbers."""
    if np.shape(value) != shape:
        raise ValueError(f"sgd: postprocessing returned shape {np.shape(value)}, but x has "
                         f"shape {shape}: it must return an array of x's shape")
    if np.asarray(value).dtype.kind not in "biuf":
        raise TypeError(f"sgd: postprocessing returned dtype {np.asarray(value).dtype}, not "
                        "real numbers")
    return np.asarray(value, dtype=np.float64, order="C")      # (0-d stays 0-d)
