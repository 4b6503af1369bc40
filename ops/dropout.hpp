// dropout.hpp: inverted dropout with a counter-based mask.
//
//   out = x * m / (1 - p),  m_i = [u_i >= p],  u_i uniform from Philox(seed, offset + i)
//   dx  = dout * m / (1 - p)      (the mask is regenerated from (seed, offset), not stored)
// Identity (the same tensor, no node) when p == 0 or not training; p == 1 gives zeros.
//
// The random number of element i (the contract every dropout kernel, scalar or SIMD, keeps):
//   u_i = uniform01(philox4x32(seed, first + i / 4)[i % 4])
// where `first` is the block counter the op reserved from the generator for this call.
#pragma once

#include "core/random.hpp"
#include "core/tensor.hpp"

#include <cstdint>

namespace ag {

/// Zeroes each element with probability p and scales the rest by 1 / (1 - p). p in [0, 1].
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

// --- kernels (raw buffers, no validation: 0 < p < 1) -------------------------------------------
// dropout_forward / _backward run the SIMD kernel of the active level (ops/dropout_kernel.cpp),
// or the reference at the scalar level (core/simd.hpp); both give the same bits.

/// dropout_forward_reference's result, at the active SIMD level.
void dropout_forward(float* out, const float* x, int64_t n, float p, uint64_t seed, uint64_t first,
                     uint8_t* mask = nullptr);
/// dropout_backward_reference's result, at the active SIMD level.
void dropout_backward(float* dx, const float* dout, int64_t n, float p, uint64_t seed, uint64_t first);
/// dropout_apply_mask_reference's result, at the active SIMD level.
void dropout_apply_mask(float* out, const float* x, int64_t n, float p, const uint8_t* mask);

/// out[i] = m_i ? x[i] / (1 - p) : 0 with m_i = u_i >= p, u_i as above, for i < n.
/// mask: null, or ⌈n / 8⌉ bytes that get the m_i as bits: m_i is bit i % 8 of mask[i / 8] (the
/// bits past n in the last byte are 0). 1 bit per element, for an op that keeps the mask rather
/// than drawing it again (attention: ops/attention.cpp).
void dropout_forward_reference(float* out, const float* x, int64_t n, float p, uint64_t seed, uint64_t first,
                               uint8_t* mask = nullptr);
/// dx[i] = m_i ? dout[i] / (1 - p) : 0, regenerating the forward's mask from (seed, first).
void dropout_backward_reference(float* dx, const float* dout, int64_t n, float p, uint64_t seed, uint64_t first);
/// out[i] = m_i ? x[i] / (1 - p) : 0 with m_i read from a mask dropout_forward wrote: the same map
/// with the same mask, so on the same x it gives dropout_forward's bits without a random number,
/// and on dout it is dropout's backward. out may be x.
void dropout_apply_mask_reference(float* out, const float* x, int64_t n, float p, const uint8_t* mask);

}  // namespace ag
