"""Vector arithmetic the layers share."""

from __future__ import annotations

import numpy as np


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1, in the matrix's own dtype (zero and non-finite rows become zero: they agree with
    nothing)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True) if matrix.size else np.ones((len(matrix), 1))
    ok = np.isfinite(norms) & (norms > 1e-9)
    return np.where(ok, matrix / np.where(ok, norms, 1.0), 0.0).astype(matrix.dtype, copy=False)
