"""The one way the scripts draw: matplotlib with the file-only Agg backend, chosen here once.

The plots are written to PNG files, never shown, so no window system is needed. The backend is
chosen before ``matplotlib.pyplot`` is imported, whatever ``MPLBACKEND`` or a matplotlibrc
says, and `check_plotting` draws and renders a small figure at start-up: a matplotlib that
cannot work here (a broken install, a configuration folder it cannot use) stops a command before
its training, never after it.
"""
import io
import os
import sys

if "matplotlib" not in sys.modules:
    # matplotlib refuses to import at all when MPLBACKEND names a backend it does not know; the
    # backend is Agg whatever the environment says, so the setting is replaced, not read
    os.environ["MPLBACKEND"] = "Agg"
import matplotlib  # noqa: E402

matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from utils.files import atomic_write  # noqa: E402


def save_figure(fig, path, dpi=100):
    """Write `fig` as a PNG, atomically (``utils.files.atomic_write``), and close it."""
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
    finally:
        plt.close(fig)


def check_plotting():
    """Draw and render a tiny figure in memory; raises if matplotlib cannot plot here."""
    fig, ax = plt.subplots(figsize=(1, 1))
    try:
        ax.plot([0, 1], [0, 1], "o-")
        ax.text(0.5, 0.5, "é")
        fig.savefig(io.BytesIO(), format="png", dpi=10)
    finally:
        plt.close(fig)
