// embedding_kernel.cpp: the embedding gather and scatter-add with SIMD row copies and adds,
// written once for any xsimd arch and compiled once per arch (ops/meson.build). Contracts:
// ops/embedding.hpp; the results are bit-identical to the references in ops/embedding.cpp.
//
// Shapes: ids [N] (integral floats, validated by the op), weight, dweight [V, D], out, dout [N, D].
//   forward   out[n, :] = weight[ids[n], :]
//   backward  dweight = 0;  dweight[ids[n], :] += dout[n, :] for n in order, except padding_idx
//             (on a range of rows [v0, v1): threads take disjoint ranges, each scanning every id)
// Each row is D contiguous floats: whole batches of W (16 / 8 / 4), then the D mod W tail.
// The adds happen in the reference's order (rows n = 0, 1, ...), so the sums are the same bits.
#include "ops/embedding_kernel.hpp"

#include "core/simd.hpp"

namespace ag {

namespace {

// dst[0 .. D) = src[0 .. D)
template <class Arch>
void copy_row(float* dst, const float* src, int64_t D) {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    int64_t d = 0;
    for (; d + W <= D; d += W) B::load_unaligned(src + d).store_unaligned(dst + d);
    for (; d < D; ++d) dst[d] = src[d];
}

// dst[0 .. D) += src[0 .. D)
template <class Arch>
void add_row(float* dst, const float* src, int64_t D) {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    int64_t d = 0;
    for (; d + W <= D; d += W) (B::load_unaligned(dst + d) + B::load_unaligned(src + d)).store_unaligned(dst + d);
    for (; d < D; ++d) dst[d] += src[d];
}

// p[0 .. n) = 0
template <class Arch>
void zero(float* p, int64_t n) {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    int64_t i = 0;
    for (; i + W <= n; i += W) B(0.0f).store_unaligned(p + i);
    for (; i < n; ++i) p[i] = 0.0f;
}

}  // namespace

template <class Arch>
void EmbeddingForwardKernel::operator()(Arch, float* out, const float* ids, const float* weight, int64_t N,
                                        int64_t D) const {
    // gather
    for (int64_t n = 0; n < N; ++n) copy_row<Arch>(out + n * D, weight + static_cast<int64_t>(ids[n]) * D, D);
}

template <class Arch>
void EmbeddingBackwardKernel::operator()(Arch, float* dweight, const float* dout, const float* ids, int64_t N,
                                         int64_t D, int64_t padding_idx, int64_t v0, int64_t v1) const {
    // zero: rows no id points at get no gradient
    zero<Arch>(dweight + v0 * D, (v1 - v0) * D);
    // scatter-add: += not =, so an id used several times accumulates every dout row
    for (int64_t n = 0; n < N; ++n) {
        const auto v = static_cast<int64_t>(ids[n]);
        if (v < v0 || v >= v1 || v == padding_idx) continue;  // another range's; the padding row stays 0
        add_row<Arch>(dweight + v * D, dout + n * D, D);
    }
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void EmbeddingForwardKernel::operator()(KernelArch, float*, const float*, const float*, int64_t,
                                                 int64_t) const;
template void EmbeddingBackwardKernel::operator()(KernelArch, float*, const float*, const float*, int64_t, int64_t,
                                                  int64_t, int64_t, int64_t) const;

}  // namespace ag
