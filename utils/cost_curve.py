"""The training cost of every iteration, kept in the checkpoints, and its plot (q3_cost.png).

`CostHistory` wraps the objective that ``sgd`` calls once per iteration and
records each minibatch cost. It has ``get_state`` / ``set_state``, so passed in
``sgd(..., generators=[..., history])`` it is saved in every checkpoint and
restored on resume: the curve of a resumed run is the curve of an
uninterrupted one. `plot_cost_curve` draws the raw costs faintly, the smoothed
cost that ``sgd`` prints (``expcost``) on top, and a mark at each step halving.
"""
import base64

import numpy as np



class CostHistory:
    """``f(x) -> (cost, grad)`` that also records ``cost`` (the objective's, unchanged).

    It is a record, not a random generator (``checkpoint_optional``): a checkpoint
    written before the history existed still resumes, with the costs before it unknown.

    Parameters
    ----------
    f : callable
        The objective ``sgd`` minimises; called once per iteration.
    iterations : int
        Iterations of the whole run (the length of `costs`).
    start : int
        The iteration the run resumes from (a checkpoint with a history sets it again).

    Attributes
    ----------
    costs : ndarray of float64, shape (iterations,)
        ``costs[i]`` is the cost of iteration i + 1; NaN where not run yet.
    n : int
        Iterations recorded (the next one is ``n + 1``).
    """

    checkpoint_optional = True

    def __init__(self, f, iterations, start=0):
        self.f = f
        self.costs = np.full(iterations, np.nan)
        self.n = start

    def __call__(self, x):
        cost, grad = self.f(x)
        if self.n < self.costs.size:
            self.costs[self.n] = cost
        self.n += 1
        return cost, grad

    def get_state(self):
        """JSON-compatible: the recorded costs as base64 float64 (bit for bit, ~11 bytes each)."""
        done = self.costs[:min(self.n, self.costs.size)]
        return {"n": self.n, "costs": base64.b64encode(done.tobytes()).decode("ascii")}

    def set_state(self, state):
        costs = np.frombuffer(base64.b64decode(state["costs"]), dtype=np.float64)
        if costs.size > self.costs.size:                 # a checkpoint of a longer run
            self.costs = np.empty(costs.size)
        self.costs[:] = np.nan
        self.costs[:costs.size] = costs
        self.n = int(state["n"])


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


def plot_cost_curve(path, costs, smooth_every, anneal_every, title="q3_run.py: training cost"):
    """Save the cost curve as a PNG (atomically).

    Parameters
    ----------
    path : str
    costs : ndarray, shape (n,)
        Cost of iterations 1 .. n (`CostHistory.costs[:n]`).
    smooth_every, anneal_every : int
        ``sgd``'s smoothing period and the period of the step halvings.
    """
    from utils.plotting import plt, save_figure      # matplotlib only when a plot is drawn
    n = costs.size
    at, expcost = smoothed(costs, smooth_every)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(np.arange(1, n + 1), costs, color="tab:blue", alpha=0.15, linewidth=0.5,
            label="minibatch cost")
    ax.plot(at, expcost, color="tab:blue", linewidth=1.5, label="smoothed cost (as printed)")
    for k, it in enumerate(range(anneal_every, n, anneal_every)):
        ax.axvline(it, color="tab:red", linestyle="--", linewidth=1,
                   label="step halved" if k == 0 else None)
    if np.isfinite(expcost).any():
        ax.annotate(f"{expcost[-1]:.4f}", (at[-1], expcost[-1]), textcoords="offset points",
                    xytext=(-40, 12))
        low, high = np.nanpercentile(costs, [0.5, 99.5])
        ax.set_ylim(max(0.0, low - 0.5), high + 0.5)     # a few outliers would flatten the curve
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (mean over the minibatch's windows)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
