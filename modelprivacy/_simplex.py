"""Probability-vector helpers shared by postprocessors, classification attackers and metrics.

A classification answer is a row of probabilities ``(n, K)``, or for a binary
API the class-1 probabilities ``(n,)``.
"""

from __future__ import annotations

import numpy as np

from ._validation import _as_float_array, check_matrix

__all__ = ["MP_CLIP", "ART_CLIP", "softmax", "safe_normalise", "two_columns", "top1_labels", "as_soft_labels"]

#: clipping used by the Model Privacy code before taking logs
MP_CLIP = 1e-10
#: clipping used by ART's ReverseSigmoid for the logit only
ART_CLIP = 1e-9


def softmax(Z):
    """Row-wise softmax of logits ``Z`` (n, K), stabilised by the row maximum."""
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def safe_normalise(Q):
    """Divide rows by their sums (keepdims); all-zero rows become uniform."""
    s = Q.sum(axis=1, keepdims=True)
    zero = s[:, 0] <= 0
    if np.any(zero):
        Q = Q.copy()
        Q[zero] = 1.0
        s = Q.sum(axis=1, keepdims=True)
    return Q / s


def two_columns(p):
    """Binary class-1 probabilities ``(n,)`` as two-class rows ``[1 - p, p]``."""
    return np.column_stack([1.0 - p, p])


def top1_labels(P):
    """Top-1 labels: ``argmax`` of rows, or ``p > 1/2`` for binary ``(n,)`` input."""
    P = np.asarray(P, dtype=float)
    if P.ndim == 1:
        return (P > 0.5).astype(int)
    return np.argmax(P, axis=1)


def as_soft_labels(P, name="P", *, n_rows=None, n_classes=None):
    """Return answers as an ``(n, K)`` array of rows summing to 1.

    1-D input is read as class-1 probabilities of a binary API. Entries must
    be finite and in [0, 1]; rows are divided by their sums (all-zero rows,
    e.g. from a high-confidence cutoff, become uniform).
    """
    arr = _as_float_array(P, name)
    if arr.ndim == 1:
        if np.any(arr < -1e-9) or np.any(arr > 1 + 1e-9):
            raise ValueError(f"{name} must contain probabilities in [0, 1].")
        arr = two_columns(np.clip(arr, 0.0, 1.0))
    else:
        arr = check_matrix(arr, name)
        if np.any(arr < -1e-9) or np.any(arr > 1 + 1e-9):
            raise ValueError(f"{name} must contain probabilities in [0, 1].")
        arr = np.clip(arr, 0.0, 1.0)
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows (one per query), got {arr.shape[0]}.")
    if n_classes is not None and arr.shape[1] != n_classes:
        raise ValueError(f"{name} must have {n_classes} columns (classes), got {arr.shape[1]}.")
    if arr.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 classes, got {arr.shape[1]}.")
    return safe_normalise(arr)
