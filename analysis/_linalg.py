"""Matrix products for the skinny shapes of the E-step and the XPD information.

OpenBLAS runs a GEMM on several threads once m * n * k exceeds 65536 * 4 (its
``GEMM_MULTITHREAD_THRESHOLD``), and its threads busy-wait for each other. On a shared 2-core
machine, where another process often holds a core, a threaded call can then stall for a
scheduler time slice: hundreds of (members x items) @ (items x nodes) products per
calibration went from about 1 s to 5-6 s in measurements. Splitting the products into row
blocks below the threshold keeps every call on the single-thread path; the flops are the
same and the results identical.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_SINGLE_THREAD_MNK = 1 << 17  # half of OpenBLAS's threshold, for margin


def matmul(a: FloatArray, b: FloatArray) -> FloatArray:
    """``a @ b`` for 2-D arrays, computed in row blocks of ``a``."""
    m, k = a.shape
    n = b.shape[1]
    rows = max(1, _SINGLE_THREAD_MNK // max(1, k * n))
    if m <= rows:
        return a @ b
    out = np.empty((m, n), dtype=np.result_type(a, b))
    for start in range(0, m, rows):
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


def crossprod(a: FloatArray, b: FloatArray) -> FloatArray:
    """``a.T @ b`` for 2-D arrays with many rows, accumulated over row blocks."""
    m, k = a.shape
    n = b.shape[1]
    rows = max(1, _SINGLE_THREAD_MNK // max(1, k * n))
    if m <= rows:
        return a.T @ b
    out = np.zeros((k, n), dtype=np.result_type(a, b))
    for start in range(0, m, rows):
        out += a[start : start + rows].T @ b[start : start + rows]
    return out
