"""Writes the seed corpus of the `npy` fuzz target (fuzz/corpus/npy/).

Small valid .npy files of the dtypes the reader takes, widens or refuses, in C
and Fortran order, little- and big-endian, 0-d and empty, in format versions
1.0, 2.0 and 3.0. Needs NumPy:

    python3 -m venv /tmp/fz && /tmp/fz/bin/pip install numpy
    /tmp/fz/bin/python fuzz/make_npy_corpus.py
"""

import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "npy"


def save(name, arr, version=None):
    with open(OUT / (name + ".npy"), "wb") as f:
        if version is None:
            np.save(f, arr)
        else:
            np.lib.format.write_array(f, arr, version=version)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    save("f8_1d", np.array([1.5, -0.0, np.nan, np.inf]))
    save("f8_2d_fortran", np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    save("f8_big_endian", np.array([1.0, 2.0, 3.0], dtype=">f8"))
    save("f4_3d", np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    save("f2", np.array([0.5, 65504.0, -np.inf], dtype=np.float16))
    save("i4_0d", np.array(-7, dtype=np.int32))
    save("i8_empty", np.zeros((0, 3), dtype=np.int64))
    save("i1", np.array([-128, 0, 127], dtype=np.int8))
    save("u2_big_endian", np.array([1, 65535], dtype=">u2"))
    save("u4", np.array([0, 4294967295], dtype=np.uint32))
    save("u8_refused", np.array([1, 2], dtype=np.uint64))
    save("bool_2d", np.array([[True, False], [False, True]]))
    save("c16", np.array([1 + 2j, np.nan - 1j]))
    save("c8_fortran", np.asfortranarray(np.array([[1 + 1j, 2], [3, 4j]], dtype=np.complex64)))
    save("S3", np.array([b"ab", b"", b"xyz"]))
    save("S2_fortran", np.asfortranarray(np.array([[b"a", b"bb"], [b"c", b"dd"]])))
    save("U_refused", np.array(["text"]))
    save("record_refused", np.zeros(2, dtype=[("x", "<f8"), ("y", "<i4")]))
    save("f8_v2", np.array([1.0, 2.0]), version=(2, 0))
    save("f8_v3", np.array([3.0]), version=(3, 0))


if __name__ == "__main__":
    main()
