#!/usr/bin/python3
"""Checks that Python reads what attograd writes: .safetensors (parsed here by hand, and with the
`safetensors` package when installed) and .npy (numpy.load). A development check, not a unit test:

    /usr/bin/python3 tests/parity/check_interop.py build/tests/interop_writer

The other direction (attograd reading files that Python wrote) is covered by the unit tests,
through the committed fixtures of generate_npy.py and generate_optim.py.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

SHAPES = [(), (5,), (0,), (2, 3), (2, 3, 4), (1, 2, 1, 3, 1, 2)]


def expected(shape):
    n = int(np.prod(shape, dtype=np.int64))
    return (0.25 * np.arange(n, dtype=np.float64) - 1.0).astype(np.float32).reshape(shape)


def name_of(shape):
    return "t" + "x".join(str(s) for s in shape)


def read_safetensors(path):
    """An independent reader of the format: u64 length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", entry
        begin, end = entry["data_offsets"]
        # torch.frombuffer reads the bytes as float32, as torch would from its own safetensors
        buf = bytearray(data[begin:end])
        t = torch.frombuffer(buf, dtype=torch.float32) if buf else torch.empty(0)
        tensors[name] = t.reshape(entry["shape"]).numpy()
    assert sum(e["data_offsets"][1] - e["data_offsets"][0] for e in header.values()) == len(data)
    return tensors, metadata, list(header.keys())


def main():
    writer = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([writer, tmp], check=True)

        tensors, metadata, order = read_safetensors(os.path.join(tmp, "attograd.safetensors"))
        assert metadata == {"format": "pt", "written_by": "attograd"}, metadata
        assert order == [name_of(s) for s in SHAPES], order
        for shape in SHAPES:
            got = tensors[name_of(shape)]
            assert got.shape == shape and np.array_equal(got, expected(shape)), (shape, got)
        print(f"safetensors: {len(tensors)} tensors read by hand with torch.frombuffer: OK")
        try:
            from safetensors.numpy import load_file
            loaded = load_file(os.path.join(tmp, "attograd.safetensors"))
            for shape in SHAPES:
                assert np.array_equal(loaded[name_of(shape)], expected(shape))
            print("safetensors: read by the safetensors package: OK")
        except ImportError:
            print("safetensors: package not installed; the hand reader above stands in for it")

        for shape in SHAPES:
            path = os.path.join(tmp, name_of(shape) + ".npy")
            got = np.load(path)
            assert got.dtype == np.float32 and got.shape == shape, (path, got.dtype, got.shape)
            assert np.array_equal(got, expected(shape)), path
            with open(path, "rb") as f:
                head = f.read(10)
            (hlen,) = struct.unpack("<H", head[8:10])
            assert head[:8] == b"\x93NUMPY\x01\x00" and (10 + hlen) % 64 == 0, head
        print(f"npy: {len(SHAPES)} files read by numpy.load {np.__version__}: OK")


if __name__ == "__main__":
    main()
