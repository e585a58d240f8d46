"""Question 2(c): a one-hidden-layer network, forward and backward pass.

    h     = sigmoid(x W1 + b1)        hidden layer, (N, H)
    y_hat = softmax(h W2 + b2)        output probabilities, (N, Dy)
    J     = - sum_n log y_hat[n, label_n]   cross-entropy summed over the N examples

The backward pass reuses the forward names: delta2 = dJ/dtheta2 = y_hat - y,
delta1 = dJ/dtheta1 = (delta2 W2^T) * sigma'(theta1).
"""
import sys

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from q1_softmax import softmax
from q2_gradcheck import gradcheck_naive
from q2_sigmoid import sigmoid, sigmoid_grad
from utils.arg_checks import as_array, check_dimensions


def param_count(dimensions):
    """Number of parameters of the network: (Dx + 1) H + (H + 1) Dy."""
    Dx, H, Dy = dimensions
    return (Dx + 1) * H + (H + 1) * Dy


def unpack_params(params, dimensions):
    """Split the flat parameter vector into views W1 (Dx, H), b1 (1, H), W2 (H, Dy), b2 (1, Dy)."""
    Dx, H, Dy = dimensions
    expected = param_count(dimensions)
    params = as_array("forward_backward_prop", "params", params)
    if params.ndim != 1 or params.size != expected:
        raise ValueError(
            f"params must be a flat vector of (Dx+1)*H + (H+1)*Dy = {expected} values for "
            f"dimensions {list(dimensions)}; got shape {params.shape}")
    ofs = 0
    out = []
    for shape in [(Dx, H), (1, H), (H, Dy), (1, Dy)]:
        size = shape[0] * shape[1]
        out.append(params[ofs:ofs + size].reshape(shape))  # views, in the order W1 b1 W2 b2
        ofs += size
    return out


def forward_backward_prop(data, labels, params, dimensions):
    """Cost and gradient of the two-layer sigmoid/softmax network.

    Parameters
    ----------
    data : ndarray, shape (N, Dx)
        One example per row.
    labels : ndarray, shape (N, Dy)
        One-hot rows: exactly one 1 per row, the rest 0.
    params : ndarray, shape ((Dx + 1) H + (H + 1) Dy,)
        W1 (Dx, H), b1 (1, H), W2 (H, Dy), b2 (1, Dy), flattened in that order.
    dimensions : sequence of 3 ints
        [Dx, H, Dy].

    Returns
    -------
    cost : float
        Cross-entropy summed over the N examples.
    grad : ndarray, shape like `params`
        dJ/dparams, flattened in the same order.

    Raises
    ------
    ValueError
        If a shape does not match `dimensions` or a row of `labels` is not one-hot (names the row).
    """
    Dx, H, Dy = check_dimensions("forward_backward_prop", dimensions)
    data = as_array("forward_backward_prop", "data", data)
    labels = as_array("forward_backward_prop", "labels", labels)
    if data.ndim != 2 or data.shape[1] != Dx:
        raise ValueError(f"data must have shape (N, {Dx}); got {data.shape}")
    if labels.shape != (data.shape[0], Dy):
        raise ValueError(f"labels must be one-hot of shape ({data.shape[0]}, {Dy}); got {labels.shape}")
    # the cost sums labels * log y_hat: a row that is not one-hot (two 1s, a 0.5, a NaN, all 0)
    # would give a wrong number, not an error
    not_one_hot = ~(((labels == 0) | (labels == 1)).all(axis=1) & (labels.sum(axis=1) == 1))   # (N,)
    if not_one_hot.any():
        n = int(np.flatnonzero(not_one_hot)[0])
        raise ValueError(f"labels must be one-hot (each row one 1, the rest 0); row {n} is "
                         f"{np.array2string(labels[n], threshold=12)}")
    W1, b1, W2, b2 = unpack_params(params, dimensions)

    # forward
    theta1 = data @ W1 + b1           # (N, Dx) @ (Dx, H) -> (N, H)
    h = sigmoid(theta1)               # (N, H)
    theta2 = h @ W2 + b2              # (N, H) @ (H, Dy) -> (N, Dy)
    y_hat = softmax(theta2)           # (N, Dy)
    # log-softmax computed directly, so a probability that underflows to 0 cannot give log(0)
    shifted = theta2 - theta2.max(axis=1, keepdims=True)
    log_y_hat = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    cost = -np.sum(labels * log_y_hat)

    # backward
    delta2 = y_hat - labels           # dJ/dtheta2, (N, Dy)
    gradW2 = h.T @ delta2             # (H, N) @ (N, Dy) -> (H, Dy)
    gradb2 = delta2.sum(axis=0, keepdims=True)            # (1, Dy)
    delta1 = (delta2 @ W2.T) * sigmoid_grad(h)            # (N, Dy) @ (Dy, H) -> (N, H)
    gradW1 = data.T @ delta1          # (Dx, N) @ (N, H) -> (Dx, H)
    gradb1 = delta1.sum(axis=0, keepdims=True)            # (1, H)

    grad = np.concatenate([gradW1.ravel(), gradb1.ravel(), gradW2.ravel(), gradb2.ravel()])
    return cost, grad


def _self_test():
    N = 20
    dimensions = [10, 5, 10]
    data = np.random.randn(N, dimensions[0])
    labels = np.zeros((N, dimensions[2]))
    labels[np.arange(N), np.random.randint(0, dimensions[2], N)] = 1   # one-hot rows
    n_params = param_count(dimensions)
    print(f"parameters for dimensions {dimensions}: (Dx+1)*H + (H+1)*Dy = {n_params}")
    params = np.random.randn(n_params)
    assert gradcheck_naive(lambda p: forward_backward_prop(data, labels, p, dimensions), params), \
        "gradient check of forward_backward_prop failed"
    print("q2_neural: gradient check passed")


if __name__ == "__main__":
    np.random.seed(0)
    try:
        _self_test()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
