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


_LEAF = 48  # blocks this small go to LAPACK, whose internal products then stay single-thread


def inverse_spd(matrix: FloatArray) -> FloatArray:
    """Inverse of a symmetric positive definite matrix by recursive 2x2 blocking.

    With M = [[A, B], [B', C]], W = A^-1 B and the Schur complement S = C - B' W:
    M^-1 = [[A^-1 + W S^-1 W', -W S^-1], [-S^-1 W', S^-1]] (e.g. Golub & Van Loan, 2013,
    sec. 3.2.10). The products go through :func:`matmul`, so nothing waits on BLAS threads.
    Raises ``numpy.linalg.LinAlgError`` when a leaf block is singular.
    """
    n = matrix.shape[0]
    if n <= _LEAF:
        return np.linalg.inv(matrix)
    h = n // 2
    A, B, C = matrix[:h, :h], matrix[:h, h:], matrix[h:, h:]
    A_inv = inverse_spd(A)
    W = matmul(A_inv, B)
    S = C - matmul(B.T, W)
    S_inv = inverse_spd(0.5 * (S + S.T))
    WS = matmul(W, S_inv)
    out = np.empty_like(matrix, dtype=np.float64)
    out[:h, :h] = A_inv + matmul(WS, W.T)
    out[:h, h:] = -WS
    out[h:, :h] = -WS.T
    out[h:, h:] = S_inv
    return out
