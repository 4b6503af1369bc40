// npy.hpp: one tensor to and from NumPy's .npy format, so numpy.load / numpy.save can check it.
//
// Version 1.0, byte by byte (integers little-endian):
//
//   \x93NUMPY  01 00  [HLEN: u16]  {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n
//   └── magic ┘ └ver┘               └── a Python dict literal, padded with spaces ──────────────┘
//   then the raw float32 data, row-major, starting at a multiple of 64 bytes.
//
// Version 2.0 differs only in a u32 HLEN (12-byte preamble); load_npy reads both.
#pragma once

#include "core/tensor.hpp"

#include <string>

namespace ag {

/// Writes `t` to `path` as a version 1.0 .npy of dtype '<f4', atomically (see atomic_file.hpp).
void save_npy(const std::string& path, const Tensor& t);

/// Reads a .npy of version 1.0 or 2.0, dtype '<f4', C order; throws ag::Error on anything else.
Tensor load_npy(const std::string& path);

}  // namespace ag
