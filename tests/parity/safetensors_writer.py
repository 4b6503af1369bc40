"""write_safetensors: the fixture generators' writer of core/safetensors.hpp's format.

The `safetensors` package is not in Debian, so the generators (generate_nn.py, generate_optim.py,
tests/examples/generate_softplus.py) write the files by hand with this one function.
"""
import json
import struct

import torch


def write_safetensors(path, tensors, metadata):
    """The format of core/safetensors.hpp: u64 header length, JSON header padded with spaces to a
    multiple of 8, then the float32 data in header order."""
    header = {"__metadata__": metadata}
    data = b""
    for name, t in tensors.items():
        raw = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
