// dropout_kernel.hpp: the SIMD dropout kernel, one copy per instruction set
// (ops/dropout_kernel.cpp). Same contract as dropout_forward_reference (dropout.hpp), and the
// same bits: element i keeps x[i] / (1 - p) when uniform01(philox4x32(seed, first + i / 4)[i % 4])
// >= p, else 0. The backward is the same map applied to dout.
#pragma once

#include <cstdint>

namespace ag {

/// out[i] = m_i ? x[i] / (1 - p) : 0 for i < n, bit-identical to dropout_forward_reference.
struct DropoutKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t n, float p, uint64_t seed, uint64_t first) const;
};

}  // namespace ag
