// dropout_kernel.hpp: the SIMD dropout kernel, one copy per instruction set
// (ops/dropout_kernel.cpp). Same contract as dropout_forward_reference (dropout.hpp), and the
// same bits: element i keeps x[i] / (1 - p) when uniform01(philox4x32(seed, first + i / 4)[i % 4])
// >= p, else 0. The backward is the same map applied to dout.
#pragma once

#include <cstdint>

namespace ag {

/// out[i] = m_i ? x[i] / (1 - p) : 0 for i < n (and the m_i as bits into mask, if not null),
/// bit-identical to dropout_forward_reference.
struct DropoutKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t n, float p, uint64_t seed, uint64_t first,
                    uint8_t* mask) const;
};

/// out[i] = m_i ? x[i] / (1 - p) : 0 with the m_i read from mask's bits, bit-identical to
/// dropout_apply_mask_reference.
struct DropoutMaskKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t n, float p, const uint8_t* mask) const;
};

}  // namespace ag
