"""The states of random generators as JSON, for the checkpoints: one table of kinds.

`KINDS` names each kind of generator a run may pass to ``sgd``, how its state is read and
put back, and how to make a new one to check a saved state on. Any other object with
``get_state()`` / ``set_state(state)`` (JSON-compatible values) is a record, saved under its
class name (the cost history is one); it may check a saved state with ``check_state(state)``.

`check_state` is what makes a saved state trustworthy: the state is put into a new
generator of its kind and read back, and must come back exactly as saved (some setters wrap
a value out of range silently: the round trip shows it), and a Mersenne Twister key may not
be all zeros (it would draw only zeros).
"""
import json
import math
import random
from typing import NamedTuple

import numpy as np

STORED_DTYPES = ("uint32", "uint64", "int64", "float64")   # arrays inside random states
_BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")


class StateError(ValueError):
    """A saved random state that no generator of its kind would give back."""


def json_default(obj):
    """JSON encoder hook: ndarrays (MT19937 keys) and NumPy scalars."""
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint")


def json_object_hook(d):
    """JSON decoder hook: the ndarrays of `json_default`, of the dtypes states use only (a
    dtype such as "U999999999" would allocate gigabytes)."""
    if "__ndarray__" in d:
        if d.get("dtype") not in STORED_DTYPES:
            raise StateError(f"an array of dtype {d.get('dtype')!r} in its metadata (states "
                             f"hold {', '.join(STORED_DTYPES)})")
        return np.array(d["__ndarray__"], dtype=d["dtype"])
    return d


def dumps(obj):
    """JSON text; floats are written with repr(), so they read back bit for bit."""
    return json.dumps(obj, default=json_default, sort_keys=True, allow_nan=True)


class Kind(NamedTuple):
    """How one kind of generator is saved and restored, and a new one to check a state on."""
    cls: type
    get: object             # gen -> JSON-compatible state
    set: object             # (gen, state) -> None
    blank: object           # saved state -> a new generator of the kind (None: a record)


def _new_generator(state):
    name = state["bit_generator"]
    if name not in _BIT_GENERATORS or not hasattr(np.random, name):
        raise StateError(f"unknown bit generator {name!r}")
    return np.random.Generator(getattr(np.random, name)())


def python_state(saved):
    """random.setstate's argument from its JSON form ([version, [keys..., index], gauss])."""
    return (saved[0], tuple(saved[1]), saved[2])


def _set_bit_generator(gen, state):
    gen.bit_generator.state = state


KINDS = {   # name (stored in the checkpoint) -> Kind
    "Generator": Kind(np.random.Generator, lambda g: g.bit_generator.state, _set_bit_generator,
                      _new_generator),
    "RandomState": Kind(np.random.RandomState, lambda g: g.get_state(legacy=False),
                        lambda g, s: g.set_state(s), lambda s: np.random.RandomState()),
    "random.Random": Kind(random.Random, lambda g: g.getstate(),
                          lambda g, s: g.setstate(python_state(s)), lambda s: random.Random()),
}
RECORD = Kind(object, lambda g: g.get_state(), lambda g, s: g.set_state(s), None)


def kind_of(gen):
    """(name, Kind) of a generator passed to ``sgd``; TypeError if it cannot be saved."""
    for name, kind in KINDS.items():
        if isinstance(gen, kind.cls):
            return name, kind
    if hasattr(gen, "get_state") and hasattr(gen, "set_state"):
        return type(gen).__name__, RECORD
    raise TypeError(f"sgd: cannot checkpoint a {type(gen).__name__}: pass numpy Generators, "
                    "RandomStates, random.Random objects or objects with get_state()/set_state()")


def is_optional(gen):
    """Whether `gen` is a record that a checkpoint may lack (``checkpoint_optional = True``,
    e.g. the cost history): saved like a generator, but not part of the run's configuration,
    so checkpoints written before it existed still resume."""
    return getattr(gen, "checkpoint_optional", False) is True


def check_state(name, state, generators=()):
    """Raise StateError (or the setter's ValueError / TypeError / KeyError) unless `state` is
    one a generator of kind `name` gives back exactly, and not all zeros. A record's state
    is checked by the ``check_state`` of the first of `generators` of its class, if any."""
    kind = KINDS.get(name)
    if kind is None:
        checks = [g.check_state for g in generators
                  if type(g).__name__ == name and hasattr(g, "check_state")]
        if checks:
            checks[0](state)
        return
    try:
        gen = kind.blank(state)
        kind.set(gen, state)
    except StateError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as err:
        raise StateError(f"the {name} state is malformed ({type(err).__name__}: {err})") from None
    if dumps(kind.get(gen)) != dumps(state):
        raise StateError(f"the {name} state does not read back as saved (a value out of "
                         "range, or of the wrong type)")
    keys = state[1] if name == "random.Random" else state["state"].get("key", ())
    if len(keys) >= 600 and not np.any(keys[:624]):
        raise StateError(f"the {name} state is all zeros (it would draw only zeros)")
    gauss = state[2] if name == "random.Random" else 0.0      # random.gauss's cached draw
    if not (gauss is None or type(gauss) is float and math.isfinite(gauss)):
        raise StateError(f"the {name} state caches {gauss!r} as its next normal draw")


def check_global_states(python_random, numpy_keys, numpy_random):
    """Check the saved states of Python's ``random`` (its JSON form) and of NumPy's global
    RandomState (keys (624,) uint32, and ``{pos, has_gauss, cached_gaussian}``); return the
    latter as ``np.random.set_state`` takes it."""
    npr = numpy_random if isinstance(numpy_random, dict) else {}
    pos, has_gauss, gauss = npr.get("pos"), npr.get("has_gauss"), npr.get("cached_gaussian")
    if not (type(pos) is int and 0 <= pos <= 624 and type(has_gauss) is int
            and has_gauss in (0, 1) and type(gauss) is float and math.isfinite(gauss)):
        raise StateError(f"NumPy random state has position {pos!r}, has_gauss {has_gauss!r} "
                         f"and cached value {gauss!r}, expected 0..624, 0 or 1 and a number")
    check_state("RandomState", {"bit_generator": "MT19937",
                                "state": {"key": numpy_keys, "pos": npr["pos"]},
                                "has_gauss": npr["has_gauss"], "gauss": npr["cached_gaussian"]})
    check_state("random.Random", python_random)
    return ("MT19937", numpy_keys, npr["pos"], npr["has_gauss"], npr["cached_gaussian"])
