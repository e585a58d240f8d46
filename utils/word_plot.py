"""q3_word_vectors.png: words projected to 2-D by an SVD, with a marker and a readable label each.

Each word is a marker at its projected point; its label takes the first free place around it,
on no other label and no marker (`spread_labels`, a simple greedy placement in pixels), with
a thin line back to its marker when it had to move away.
"""
import numpy as np

LABEL_PAD = 2.0        # pixels kept free around a label
MARKER_HALF = 4.0      # half the side of the square a marker keeps free, in pixels


def project_2d(X):
    """(n, 2): the rows of `X` (n, D), centred, on their two principal directions (SVD)."""
    X = X - X.mean(axis=0)                              # centred
    _, _, Vt = np.linalg.svd(X, full_matrices=False)     # X = U S Vt; rows of Vt: directions
    return X @ Vt[:2].T                                 # (n, D) @ (D, 2) -> (n, 2)


def _free(centres, half, boxes, markers, bounds):
    """For candidate centres (k, 2) of a label of half size `half` (2,): inside `bounds`, on no
    placed label `boxes` (m, 4) and on no marker (n, 2)? A bool array (k,)."""
    low, high = centres - half, centres + half                               # (k, 2) each
    inside = (low >= bounds[:2]).all(axis=1) & (high <= bounds[2:]).all(axis=1)

    def hits(lo, hi):        # (j, 2) boxes -> (k,): the candidate overlaps one of them
        return ((np.minimum(high[:, None], hi[None]) - np.maximum(low[:, None], lo[None]))
                > 0.01).all(axis=-1).any(axis=1)
    return inside & ~hits(boxes[:, :2], boxes[:, 2:]) & ~hits(markers - MARKER_HALF,
                                                               markers + MARKER_HALF)


def spread_labels(anchors, half, bounds, gap=3.0, rings=60):
    """Centres (n, 2) for n labels, in pixels, where no two overlap and none covers a marker.

    Each label in turn takes the first free place around its marker: just above it, then
    below, right, left and at the corners, then the same a `gap` further out, ring after
    ring (if none of `rings` rings is free, it stays above its marker).

    Parameters
    ----------
    anchors : ndarray, shape (n, 2)
        The markers' points.
    half : ndarray, shape (n, 2)
        Half the width and height of each label (padding included).
    bounds : (x0, y0, x1, y1)
        The area the labels stay in.

    Returns
    -------
    centres : ndarray, shape (n, 2)
    """
    bounds = np.asarray(bounds, dtype=float)
    ways = np.array([[0, 1], [0, -1], [1, 0], [-1, 0], [1, 1], [-1, 1], [1, -1], [-1, -1]])
    centres = np.empty((len(anchors), 2))
    boxes = np.empty((0, 4))
    for i, (anchor, h) in enumerate(zip(anchors, half)):
        for ring in range(rings):
            reach = h + MARKER_HALF + LABEL_PAD + ring * gap          # (2,) centre to marker
            options = anchor + ways * reach                           # (8, 2)
            free = _free(options, h, boxes, anchors, bounds)
            if free.any():
                centres[i] = options[np.argmax(free)]
                break
        else:
            centres[i] = anchor + (0, h[1] + MARKER_HALF)
        boxes = np.vstack([boxes, np.concatenate([centres[i] - h, centres[i] + h])])
    return centres


def plot_word_vectors(path, tokens, vectors, words, title):
    """Save the 2-D SVD projection of the centred vectors of `words` (those in `tokens`).

    Parameters
    ----------
    path : str
    tokens : dict of str -> int
    vectors : ndarray, shape (V, D)
        Row ``tokens[w]`` is the vector of word w.
    words : list of str
    title : str

    Returns
    -------
    shown : list of str
        The words plotted, in the order of `words`.
    boxes : ndarray, shape (n, 4)
        Where their labels are, in pixels: ``x0, y0, x1, y1`` (padding included).
    markers : ndarray, shape (n, 2)
        Where their markers are, in pixels.
    """
    from utils.plotting import plt, save_figure      # matplotlib only when a plot is drawn

    shown = [w for w in words if w in tokens]
    if len(shown) < 2:
        raise ValueError(f"plot_word_vectors: only {len(shown)} of the words to plot are in "
                         "the vocabulary")
    coord = project_2d(vectors[[tokens[w] for w in shown]])   # (n, 2)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(coord[:, 0], coord[:, 1], s=16, color="tab:green", zorder=3)
    pad = 0.15 * (np.ptp(coord, axis=0) + 1e-12)
    ax.set_xlim(coord[:, 0].min() - pad[0], coord[:, 0].max() + pad[0])
    ax.set_ylim(coord[:, 1].min() - pad[1], coord[:, 1].max() + pad[1])
    texts = [ax.text(x, y, w, ha="center", va="center", zorder=4,
                     bbox=dict(facecolor="green", alpha=0.1, edgecolor="none", pad=1.0))
             for (x, y), w in zip(coord, shown)]
    renderer = fig.canvas.get_renderer()
    half = np.array([[b.width / 2, b.height / 2] for b in
                     (t.get_window_extent(renderer) for t in texts)]) + LABEL_PAD
    anchors = ax.transData.transform(coord)                   # data -> pixels
    box = ax.get_window_extent(renderer)
    centres = spread_labels(anchors, half, (box.x0, box.y0, box.x1, box.y1))
    to_data = ax.transData.inverted()
    for text, point, centre, h in zip(texts, anchors, centres, half):
        text.set_position(to_data.transform(centre))
        if centre[0] != point[0] or centre[1] < point[1]:     # not just above: a line to it
            edge = np.clip(point, centre - h, centre + h)      # the box's point nearest the marker
            ax.plot(*to_data.transform([point, edge]).T, color="grey", linewidth=0.7, zorder=2)
    ax.set_xlabel("first principal direction")
    ax.set_ylabel("second principal direction")
    ax.set_title(title)
    save_figure(fig, path, dpi=100)
    return shown, np.hstack([centres - half, centres + half]), anchors
