#!/usr/bin/python3
"""Writes the PyTorch fixture of tests/examples/test_softplus.cpp (the "Adding an op" tutorial).

Run with Debian's python3 (it has torch):  /usr/bin/python3 tests/examples/generate_softplus.py

x holds an even grid over [-30, 30], the places where a naive log(1 + e^x) breaks (|x| near 17,
20 where torch switches to y = x, 88 where e^x overflows) and seeded normal values; shape (4, 50)
so that it is not a whole number of SIMD batches per row. torch.nn.functional.softplus runs
forward, then backward with a seeded upstream gradient dout. The file, in the format of
core/safetensors.hpp (written by hand: the `safetensors` package is not installed here), holds
x, dout, output and grad.x. The C++ test needs neither Python nor torch.
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
from safetensors_writer import write_safetensors  # noqa: E402 (found through the path above)


def main():
    gen = torch.Generator().manual_seed(7)
    grid = torch.linspace(-30.0, 30.0, 121)
    edges = torch.tensor([-100.0, -88.5, -20.5, -20.0, -17.0, -1e-3, 0.0, 1e-3, 17.0, 19.9, 20.0, 20.1,
                          88.5, 100.0])
    normal = torch.randn(200 - grid.numel() - edges.numel(), generator=gen) * 3.0
    x = torch.cat([grid, edges, normal]).reshape(4, 50).requires_grad_()
    y = torch.nn.functional.softplus(x)
    dout = torch.randn(y.shape, generator=gen)
    y.backward(dout)
    write_safetensors(os.path.join(HERE, "fixtures", "softplus_torch.safetensors"),
                      {"x": x, "dout": dout, "output": y, "grad.x": x.grad},
                      {"op": "torch.nn.functional.softplus(x), beta 1, threshold 20", "torch": torch.__version__})


if __name__ == "__main__":
    main()
