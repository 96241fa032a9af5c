"""FSRS-6's memory state (stability, difficulty) after a review history, written here from
the published algorithm (the formulas of py-fsrs 6 / fsrs-rs 6), independently of the code
under test. fsrs-rs computes in single precision (f32), so every operation here is rounded to
f32 as it goes (``_f``), with ``exp``/``ln``/``pow`` the C library's single-precision
functions (what Rust's ``f32::exp``/``ln``/``powf`` call on Linux); the same arithmetic in
double precision (``precise=True``) is what py-fsrs computes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import struct
from collections.abc import Callable, Sequence

_libm = ctypes.CDLL(ctypes.util.find_library("m"))
for _name in ("expf", "logf"):
    getattr(_libm, _name).restype = ctypes.c_float
    getattr(_libm, _name).argtypes = [ctypes.c_float]
_libm.powf.restype = ctypes.c_float
_libm.powf.argtypes = [ctypes.c_float, ctypes.c_float]

S_MIN, S_MAX, D_MIN, D_MAX = 0.001, 36500.0, 1.0, 10.0


def _f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


class _Arith:
    def __init__(self, precise: bool) -> None:
        self.f: Callable[[float], float] = (lambda x: x) if precise else _f32
        self.exp: Callable[[float], float] = math.exp if precise else _libm.expf
        self.ln: Callable[[float], float] = math.log if precise else _libm.logf
        self.pow: Callable[[float, float], float] = (lambda a, b: a**b) if precise else _libm.powf


def memory_state(
    reviews: Sequence[tuple[int, int]], parameters: Sequence[float], *, precise: bool = False
) -> tuple[float, float]:
    """(stability, difficulty) after ``reviews`` (``(rating 1-4, days since the previous)``)."""
    a = _Arith(precise)
    f = a.f
    w = [f(x) for x in parameters]
    s_min, s_max = f(S_MIN), f(S_MAX)

    def clamp(x: float, lo: float, hi: float) -> float:
        return min(max(x, lo), hi)

    def init_d(rating: int) -> float:  # D0(G) = w4 - e^(w5 (G - 1)) + 1
        return f(f(w[4] - a.exp(f(w[5] * f(rating - 1)))) + 1.0)

    decay = f(-w[20])
    factor = f(a.exp(f(a.ln(f(0.9)) / decay)) - 1.0)  # 0.9^(1/decay) - 1

    first = reviews[0][0]
    s = clamp(w[first - 1], s_min, s_max)
    d = clamp(init_d(first), D_MIN, D_MAX)
    for rating, delta_t in reviews[1:]:
        g, t = float(rating), float(delta_t)
        last_s, last_d = clamp(s, s_min, s_max), clamp(d, D_MIN, D_MAX)
        r = a.pow(f(f(f(t / last_s) * factor) + 1.0), decay)  # (1 + factor t / S)^decay
        if t == 0:  # same day: short-term stability
            sinc = f(a.exp(f(w[17] * f(f(g - 3.0) + w[18]))) * a.pow(last_s, f(-w[19])))
            new_s = f(last_s * (max(sinc, 1.0) if g >= 2 else sinc))
        elif g == 1:  # a lapse
            long_term = f(
                f(f(w[11] * a.pow(last_d, f(-w[12]))) * f(a.pow(f(last_s + 1.0), w[13]) - 1.0))
                * a.exp(f(f(1.0 - r) * w[14]))
            )
            new_s = min(long_term, f(last_s / a.exp(f(w[17] * w[18]))))
        else:  # a success: S (1 + e^w8 (11 - D) S^-w9 (e^(w10 (1 - R)) - 1) penalty bonus)
            hard = w[15] if g == 2 else 1.0
            easy = w[16] if g == 4 else 1.0
            grow = f(
                f(f(a.exp(w[8]) * f(11.0 - last_d)) * a.pow(last_s, f(-w[9]))) * f(a.exp(f(f(1.0 - r) * w[10])) - 1.0)
            )
            new_s = f(last_s * f(f(f(grow * hard) * easy) + 1.0))
        delta_d = f(f(-w[6]) * f(g - 3.0))
        next_d = f(last_d + f(f(f(10.0 - last_d) * delta_d) / 9.0))  # linear damping
        next_d = f(f(w[7] * f(init_d(4) - next_d)) + next_d)  # mean reversion to D0(4)
        s, d = clamp(new_s, s_min, s_max), clamp(next_d, D_MIN, D_MAX)
    return s, d
