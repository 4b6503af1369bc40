// dropout.cpp: inverted dropout whose mask is a pure function of (seed, counter).
//
//   forward   out[i] = m_i * x[i] / (1 - p)        m_i = [u_i >= p], so P(m_i = 1) = 1 - p
//   backward  dx[i]  = m_i * dout[i] / (1 - p)     (out is linear in x: the same map on dout)
//   shapes    x, out, dout, dx all the same; any shape, read as a flat list of n elements
//
// "Inverted": the kept elements are scaled up in training, so E[out] = x and evaluation is the
// identity, with no rescaling at inference.
//
// The mask. The op reserves ceil(n / 4) Philox blocks from the generator, starting at counter
// `first`; each block gives 4 words, one per element:
//
//   element i  ->  word i % 4 of philox4x32(seed, first + i / 4)  ->  u_i = uniform01(word)
//
//   elements   0 1 2 3 | 4 5 6 7 | 8 ...
//   counter    first   | first+1 | first+2 ...
//
// This is the mapping of Generator::fill_uniform, so u equals rand(x.shape(), gen) drawn from the
// same generator state. Each u_i depends only on (seed, first, i), not on the elements before it,
// so any split of the elements across threads or SIMD lanes draws the same mask, and the backward
// regenerates it from the two numbers (seed, first) instead of storing an n-element mask.
// An op that would rather keep the mask than draw it again asks dropout_forward for it as bits
// (n / 8 bytes) and applies it later with dropout_apply_mask, bit for bit the same map: fused
// attention does, so that backward can rebuild P' = dropout(P) from P (ops/attention.cpp).
#include "ops/dropout.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/dropout_kernel.hpp"

#include <algorithm>
#include <array>

namespace ag {

// --- kernels -----------------------------------------------------------------------------------

void dropout_forward_reference(float* out, const float* x, int64_t n, float p, uint64_t seed, uint64_t first,
                               uint8_t* mask) {
    const float keep_prob = 1.0f - p;
    if (mask) std::fill_n(mask, (n + 7) / 8, uint8_t{0});
    for (int64_t i = 0; i < n; i += 4) {
        // one Philox block: the random words of elements i .. i+3
        const std::array<uint32_t, 4> words = philox4x32(seed, first + static_cast<uint64_t>(i / 4));
        for (int64_t j = 0; j < 4 && i + j < n; ++j) {
            // keep with probability 1 - p
            // NOTE: a dropped element is written as 0, not x * 0 (NaN for an infinite x), and a
            // kept one is divided by 1 - p, not multiplied by 1 / (1 - p), which can differ in the
            // last bit; a SIMD kernel must do the same to match this one exactly
            const bool keep = uniform01(words[j]) >= p;
            out[i + j] = keep ? x[i + j] / keep_prob : 0.0f;
            if (mask && keep) mask[(i + j) / 8] |= static_cast<uint8_t>(1u << ((i + j) % 8));
        }
    }
}

void dropout_backward_reference(float* dx, const float* dout, int64_t n, float p, uint64_t seed, uint64_t first) {
    // d(x * m / (1 - p))/dx = m / (1 - p): the forward's own map, applied to dout, with the mask
    // regenerated from the same (seed, first)
    dropout_forward_reference(dx, dout, n, p, seed, first);
}

void dropout_apply_mask_reference(float* out, const float* x, int64_t n, float p, const uint8_t* mask) {
    const float keep_prob = 1.0f - p;
    for (int64_t i = 0; i < n; ++i) out[i] = (mask[i / 8] >> (i % 8)) & 1u ? x[i] / keep_prob : 0.0f;
}

void dropout_forward(float* out, const float* x, int64_t n, float p, uint64_t seed, uint64_t first, uint8_t* mask) {
    // threads take chunks of elements; a chunk starts at a multiple of 8, so its first element is
    // word 0 of Philox block first + i0 / 4, exactly as in one pass (the same bits on any thread
    // count), and bit 0 of mask byte i0 / 8
    static_assert(kChunkFloats % 8 == 0);
    parallel_for(0, n, kChunkFloats, [&](int64_t i0, int64_t i1) {
        simd_dispatch(DropoutKernel{}, dropout_forward_reference, out + i0, x + i0, i1 - i0, p, seed,
                      first + static_cast<uint64_t>(i0 / 4), mask ? mask + i0 / 8 : nullptr);
    });
}

void dropout_apply_mask(float* out, const float* x, int64_t n, float p, const uint8_t* mask) {
    parallel_for(0, n, kChunkFloats, [&](int64_t i0, int64_t i1) {
        simd_dispatch(DropoutMaskKernel{}, dropout_apply_mask_reference, out + i0, x + i0, i1 - i0, p, mask + i0 / 8);
    });
}

void dropout_backward(float* dx, const float* dout, int64_t n, float p, uint64_t seed, uint64_t first) {
    // the forward's map on dout, as in the reference
    dropout_forward(dx, dout, n, p, seed, first);
}

// --- the op ------------------------------------------------------------------------------------

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
    // validate (NOTE: NaN fails both comparisons, so it is rejected too)
    check(x.defined(), "dropout", "x is an undefined tensor");
    check(p >= 0.0f && p <= 1.0f, "dropout", "probability p must be in [0, 1], got {}", p);

    // identity: nothing is dropped, so the input itself is the output (no copy, no node)
    if (p == 0.0f || !training) return x;

    // p == 1 drops everything: zeros, without computing 1 / (1 - p) = 1 / 0
    // NOTE: no random numbers are needed, so the generator does not advance
    if (p == 1.0f) {
        Tensor out = zeros(x.shape());
        record(out, "dropout", {x}, [](const Tensor& out, const Tensor&) -> Grads { return {zeros(out.shape())}; });
        return out;
    }

    // reserve one Philox block per 4 elements, then mask and scale
    const int64_t n = x.numel();
    const uint64_t seed = gen.seed();
    const uint64_t first = gen.reserve(static_cast<uint64_t>((n + 3) / 4));
    Tensor out = empty(x.shape());
    dropout_forward(out.data(), x.data(), n, p, seed, first);

    // the backward keeps three numbers, not the mask: it draws the same mask again
    record(out, "dropout", {x}, [p, seed, first](const Tensor&, const Tensor& dout) -> Grads {
        Tensor dx = empty(dout.shape());
        dropout_backward(dx.data(), dout.data(), dout.numel(), p, seed, first);
        return {dx};
    });
    return out;
}

}  // namespace ag
