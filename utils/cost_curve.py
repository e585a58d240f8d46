"""The training cost: each iteration's, kept in the checkpoints; the progress line; q3_cost.png.

`CostHistory` wraps the objective that ``sgd`` calls once per iteration and
records each minibatch cost. It has ``get_state`` / ``set_state``, so passed in
``sgd(..., generators=[..., history])`` it is saved in every checkpoint and
restored on resume: the curve of a resumed run is the curve of an
uninterrupted one. Its memory is bounded whatever the number of iterations: it
keeps at most `MAX_POINTS` points, one per iteration until they are full, then
the sums of 2, 4, 8 ... iterations (two neighbours are added when it fills up:
an uninterrupted run and a resumed one add the same numbers in the same order,
so they keep the same sums bit for bit). The default run (40,000 iterations)
keeps every cost. `plot_cost_curve` draws the raw costs (or the means of each
point) faintly, the smoothed cost that ``sgd`` prints on top, and a mark at
each step halving.
"""
import base64
import binascii

import numpy as np

MAX_POINTS = 1 << 16          # 512 KB of float64; about 0.7 M characters in a checkpoint


class CostHistory:
    """``f(x) -> (cost, grad)`` that also records ``cost`` (the objective's, unchanged).

    It is a record, not a random generator (``checkpoint_optional``): a checkpoint
    written before the history existed still resumes, with the costs before it unknown
    (`start_at`).

    Parameters
    ----------
    f : callable
        The objective ``sgd`` minimises; called once per iteration.
    start : int
        Iterations already done whose costs are unknown.
    max_points : int
        Points kept, a power of two (`MAX_POINTS`).

    Attributes
    ----------
    n : int
        Iterations recorded (the next one is ``n + 1``).
    block : int
        Iterations summed in one point, a power of two (1 until ``n`` exceeds `max_points`).
    """

    checkpoint_optional = True

    def __init__(self, f, start=0, max_points=MAX_POINTS):
        if max_points < 2 or max_points & (max_points - 1):
            raise ValueError(f"CostHistory: max_points must be a power of two >= 2, got "
                             f"{max_points}")
        self.f = f
        self.sums = np.zeros(max_points)     # sums[k]: cost of iterations k*block+1 .. (k+1)*block
        self.shift = 0                       # block = 2 ** shift
        self.n = 0
        self.start_at(start)

    @property
    def block(self):
        return 1 << self.shift

    def __call__(self, x):
        cost, grad = self.f(x)
        try:
            self.sums[self.n >> self.shift] += cost
        except IndexError:                      # full: neighbours summed, then this one added
            self._merge()
            self.sums[self.n >> self.shift] += cost
        self.n += 1
        return cost, grad

    def _merge(self):
        half = self.sums.size // 2
        self.sums[:half] = self.sums[0::2] + self.sums[1::2]
        self.sums[half:] = 0.0
        self.shift += 1

    def _points(self):
        return -(-self.n >> self.shift)                         # ceil(n / block)

    def start_at(self, iteration):
        """Forget the costs; the next one recorded is that of iteration ``iteration + 1``, the
        earlier ones unknown (NaN, as is a point that holds some of them)."""
        self.sums[:] = 0.0
        self.shift, self.n = 0, int(iteration)
        while self._points() > self.sums.size:
            self.shift += 1
        self.sums[:self._points()] = np.nan

    def points(self):
        """``(last, mean)``: for each point, its last iteration and the mean cost of its
        iterations (the cost itself while ``block`` is 1); shapes (m,)."""
        m = self._points()
        first = np.arange(m) * self.block                       # iterations before each point
        last = np.minimum(first + self.block, self.n)
        return last, self.sums[:m] / (last - first)

    def get_state(self):
        """JSON-compatible: n, block and the points as base64 float64 (bit for bit)."""
        done = self.sums[:self._points()]
        return {"n": self.n, "block": self.block,
                "costs": base64.b64encode(done.tobytes()).decode("ascii")}

    def check_state(self, state):
        """ValueError unless `state` is one `get_state` could have written (a checkpoint's,
        checked before the checkpoint is trusted). Checkpoints of earlier versions hold no
        "block" (1), and may hold more than `max_points`: `set_state` sums them."""
        n, block, costs = state.get("n"), state.get("block", 1), state.get("costs")
        if not (type(n) is int and n >= 0 and type(block) is int and 0 < block <= 1 << 62
                and block & (block - 1) == 0 and isinstance(costs, str)):
            raise ValueError(f"the cost history has n={n!r}, block={block!r} and costs of "
                             f"type {type(costs).__name__}")
        try:
            raw = base64.b64decode(costs, validate=True)
        except (binascii.Error, ValueError) as err:
            raise ValueError(f"the cost history is not base64 ({err})") from None
        if len(raw) != 8 * -(-n // block):                      # ceil(n / block) points
            raise ValueError(f"the cost history holds {len(raw)} bytes for {n} iterations "
                             f"in points of {block}")
        if np.isinf(np.frombuffer(raw, dtype=np.float64)).any():
            raise ValueError("the cost history holds an infinite cost")

    def set_state(self, state):
        self.check_state(state)
        sums = np.frombuffer(base64.b64decode(state["costs"]), dtype=np.float64)
        shift = int(state.get("block", 1)).bit_length() - 1
        while sums.size > self.sums.size:                      # an older, longer history
            sums = np.add.reduceat(sums, np.arange(0, sums.size, 2))
            shift += 1
        self.sums[:] = 0.0
        self.sums[:sums.size] = sums
        self.shift, self.n = shift, int(state["n"])


def print_speed_progress(iteration, smoothed_cost, info):
    """A progress line with speed and time left.

    ``iter  1000/40000  cost 12.3457  3,210 it/s  ETA 12.2 s``; `info` (from ``sgd``):
    ``start_iteration``, ``iterations``, ``elapsed`` (seconds) and ``step``.
    """
    done = iteration - info["start_iteration"]
    rate = done / info["elapsed"] if info["elapsed"] > 0 else float("inf")
    eta = (info["iterations"] - iteration) / rate if rate > 0 else float("inf")
    width = len(str(info["iterations"]))
    print(f"iter {iteration:>{width}}/{info['iterations']}  cost {smoothed_cost:.4f}  "
          f"{rate:,.0f} it/s  ETA {eta:.1f} s", flush=True)


def smoothed(costs, every, keep=0.95, new=0.05):
    """The smoothed cost as ``sgd`` computes it: at every `every`-th iteration
    ``expcost = keep * expcost + new * cost`` (the first one: ``cost``).

    Parameters
    ----------
    costs : ndarray, shape (n,)
        Cost of iterations 1 .. n.

    Returns
    -------
    iterations : ndarray of int, shape (n // every,)
    expcost : ndarray, shape (n // every,)
    """
    at = np.arange(every, costs.size + 1, every)                      # (m,) iterations
    expcost = np.full(at.size, np.nan)   # NaN before the first known cost (an old checkpoint)
    value = None
    for j, c in enumerate(costs[at - 1]):      # a recurrence: m = n / every steps, at plot time
        if value is None and np.isnan(c):
            continue
        value = float(c) if value is None else keep * value + new * float(c)
        expcost[j] = value
    return at, expcost


def smoothed_means(last, means, every, keep=0.95):
    """The same exponential average on means of `block` iterations: each point weighs as
    ``block / every`` updates of the recurrence would (an approximation of sgd's)."""
    weights = 1.0 - keep ** (np.diff(last, prepend=0) / every)   # (m,)
    expcost = np.full(means.size, np.nan)
    value = None
    for j, (c, w) in enumerate(zip(means, weights)):
        if np.isnan(c):
            continue
        value = float(c) if value is None else (1.0 - w) * value + w * float(c)
        expcost[j] = value
    return expcost


def plot_cost_curve(path, history, smooth_every, anneal_every, final=None,
                    title="q3_run.py: training cost"):
    """Save the cost curve of a `CostHistory` as a PNG (atomically).

    Parameters
    ----------
    path : str
    history : CostHistory
    smooth_every, anneal_every : int
        ``sgd``'s smoothing period and the period of the step halvings.
    final : float or None
        The final smoothed cost sgd printed, written at the curve's end.
    """
    from utils.plotting import plt, save_figure      # matplotlib only when a plot is drawn
    last, means = history.points()
    if history.block == 1:
        at, expcost = smoothed(means, smooth_every)
        raw, label = "minibatch cost", "smoothed cost (as printed)"
    else:
        at, expcost = last, smoothed_means(last, means, smooth_every)
        raw = f"mean cost of {history.block:,} iterations"
        label = "smoothed cost (from those means)"
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(last - (history.block - 1) / 2, means, color="tab:blue", alpha=0.15, linewidth=0.5,
            label=raw)
    ax.plot(at, expcost, color="tab:blue", linewidth=1.5, label=label)
    for k, it in enumerate(range(anneal_every, history.n, anneal_every)):
        ax.axvline(it, color="tab:red", linestyle="--", linewidth=1,
                   label="step halved" if k == 0 else None)
    if np.isfinite(expcost).any():
        end = final if final is not None else expcost[-1]
        ax.annotate(f"{end:.4f}", (at[-1], expcost[-1]), textcoords="offset points",
                    xytext=(-40, 12))
        low, high = np.nanpercentile(means, [0.5, 99.5])
        ax.set_ylim(max(0.0, low - 0.5), high + 0.5)     # a few outliers would flatten the curve
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (mean over the minibatch's windows)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
