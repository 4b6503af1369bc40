// simd_row.hpp: what the kernel files share: the horizontal max of a batch, which xsimd 8.1
// lacks, the max of a row, and partial loads and stores for the tail of a row. Included by kernel
// files only.
//
// A row kernel walks a row of C floats in whole batches of W lanes (W = 16 / 8 / 4 for
// avx512 / avx2 / sse2), then finishes the C mod W leftover floats one at a time with the same
// math on float. Reductions (max, sum) keep W partial results in one batch and fold its lanes
// once per row: `xsimd::hadd` for a sum, `reduce_max` below for a max.
//
// The tail of a row can also go through one batch: load_partial fills a batch with the n < W
// leftover floats (the other lanes 0), and store_partial writes back only those n. The unary,
// binary and reduction kernels do this so that their math, shared with the reference kernels in
// a header, is only ever instantiated on batches (see the NOTE in ops/unary_kernel.cpp).
//
// NOTE: everything here is templated on the xsimd arch (see the ODR trap in core/simd.hpp), and
// each arch's code touches only its own registers: an avx512 file must not call the avx2
// instantiation, which would then exist in two objects compiled with different flags.
#pragma once

#include "core/simd.hpp"

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace ag {

/// max over the lanes of `b` (xsimd 8.1 has no reduce_max). NaN lanes may or may not win.
template <class Arch>
float reduce_max(xsimd::batch<float, Arch> b) {
    // fold to 4 lanes, halving the width each step
    __m128 q;
    if constexpr (std::is_same_v<Arch, Avx512Arch>) {
        const __m512 r = b;
        const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(r), _mm512_extractf32x8_ps(r, 1));
        q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    } else if constexpr (std::is_same_v<Arch, Avx2Arch>) {
        const __m256 h = b;
        q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    } else {
        static_assert(std::is_same_v<Arch, Sse2Arch>, "reduce_max: an arch without a fold");
        q = b;
    }
    // 4 lanes to 1: [a b c d] max [c d c d], then lane 0 max lane 1
    q = _mm_max_ps(q, _mm_movehl_ps(q, q));
    q = _mm_max_ss(q, _mm_shuffle_ps(q, q, 1));
    return _mm_cvtss_f32(q);
}

/// max_j x_j of one row of C floats (-inf for C = 0): whole batches, then the tail.
template <class Arch>
float row_max(const float* x, int64_t cols) {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    B acc(-INFINITY);
    int64_t c = 0;
    for (; c + W <= cols; c += W) acc = xsimd::max(acc, B::load_unaligned(x + c));
    float max = reduce_max(acc);
    for (; c < cols; ++c) max = x[c] > max ? x[c] : max;
    return max;
}

/// A batch holding p[0 .. n) in its first n lanes and 0 in the others (n < W).
template <class Arch>
xsimd::batch<float, Arch> load_partial(const float* p, int64_t n) {
    alignas(64) float lanes[xsimd::batch<float, Arch>::size] = {};
    for (int64_t i = 0; i < n; ++i) lanes[i] = p[i];
    return xsimd::batch<float, Arch>::load_aligned(lanes);
}

/// p[0 .. n) = the first n lanes of `b` (n < W); the memory after p[n - 1] is not touched.
template <class Arch>
void store_partial(float* p, xsimd::batch<float, Arch> b, int64_t n) {
    alignas(64) float lanes[xsimd::batch<float, Arch>::size];
    b.store_aligned(lanes);
    for (int64_t i = 0; i < n; ++i) p[i] = lanes[i];
}

}  // namespace ag
