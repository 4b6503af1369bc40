#!/usr/bin/python3
"""Writes the .npy fixtures that tests/core/test_npy.cpp reads: files made by NumPy itself.

Run with Debian's python3 (it has numpy):  /usr/bin/python3 tests/parity/generate_npy.py
Every array holds 0.25 * i - 1 for i = 0, 1, ..., the formula the C++ test recomputes.
"""
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def values(shape, dtype=np.float32):
    n = int(np.prod(shape, dtype=np.int64))
    return (0.25 * np.arange(n, dtype=np.float64) - 1.0).astype(dtype).reshape(shape)


def main():
    os.makedirs(HERE, exist_ok=True)
    a = values((2, 3, 4))
    np.save(os.path.join(HERE, "numpy_v1.npy"), a)
    with open(os.path.join(HERE, "numpy_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, a, version=(2, 0))
    np.save(os.path.join(HERE, "numpy_scalar.npy"), values(()))
    np.save(os.path.join(HERE, "numpy_vector.npy"), values((5,)))
    # files load_npy must refuse, each for one reason
    np.save(os.path.join(HERE, "numpy_f64.npy"), values((2, 3), np.float64))
    np.save(os.path.join(HERE, "numpy_bigendian.npy"), values((2, 3), np.dtype(">f4")))
    np.save(os.path.join(HERE, "numpy_fortran.npy"), np.asfortranarray(values((2, 3))))


if __name__ == "__main__":
    main()
