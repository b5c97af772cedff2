#!/usr/bin/python3
"""Writes the small .npy fixtures the Java NpyTest reads: every dtype, byte order and format version it supports,
and the variants it must refuse. Values are np.arange-based so the test can recompute them.
Run with Debian's interpreter: /usr/bin/python3 scripts/make_npy_fixtures.py"""
import io
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "test", "resources", "npy")
os.makedirs(OUT, exist_ok=True)
base = (np.arange(12, dtype=np.float64) - 5.5) * 0.75  # -4.125 .. 4.125 in steps of 0.75: exact in float32


def save(name, arr, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        if version is None:
            np.save(f, arr)
        else:
            npformat.write_array(f, arr, version=version)
    print("wrote", name, arr.dtype, arr.shape, "v" + str(version or "auto"))


save("f4_3x4.npy", base.astype("<f4").reshape(3, 4))
save("f8_3x4.npy", base.astype("<f8").reshape(3, 4))
save("f4_big_endian.npy", base.astype(">f4").reshape(3, 4))
save("i4_12.npy", np.arange(-6, 6, dtype="<i4"))
save("i8_2x6.npy", np.arange(-6, 6, dtype="<i8").reshape(2, 6))
save("f4_v2.npy", base.astype("<f4").reshape(2, 3, 2), version=(2, 0))
save("f4_v3.npy", base.astype("<f4").reshape(12), version=(3, 0))
save("f4_scalar.npy", np.float32(2.5).reshape(()))
save("fortran.npy", np.asfortranarray(base.astype("<f4").reshape(3, 4)))
save("bool.npy", np.array([True, False]))
save("i8_too_big.npy", np.array([1, 2**40], dtype="<i8"))
with open(os.path.join(OUT, "f4_3x4.npy"), "rb") as f:
    whole = f.read()
with open(os.path.join(OUT, "truncated.npy"), "wb") as f:
    f.write(whole[:-7])
print("wrote truncated.npy")
