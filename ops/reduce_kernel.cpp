// reduce_kernel.cpp: sums over the trailing axes (rows) or the leading axes (columns) of x seen
// as R rows of C contiguous columns, written once for any xsimd arch and compiled once per arch
// (ops/meson.build). W = floats per batch (16 / 8 / 4).
//
//   rows     out[r] = Σ_c x[r, c]     sum over the last axis, or over all (R = 1)
//   columns  out[c] = Σ_r x[r, c]     sum over leading axes (e.g. a bias gradient over a batch)
// Rows: kAccumulators batches of partial sums advance together, so consecutive adds do not wait
// for each other (an add's latency is several cycles, and one accumulator would serialise the
// whole row); then the leftover whole batches, the C mod W tail through one batch padded with
// zeros, and one horizontal sum. The order differs from the reference's left-to-right sum, and is
// usually more accurate: each partial sum holds about C / (4 W) terms.
// Columns: out starts at 0 and adds rows 0, 1, 2, ... in order, a batch of columns at a time:
// the reference's order for every column, so the same bits.
#include "ops/reduce_kernel.hpp"

#include "core/simd.hpp"
#include "ops/simd_row.hpp"

namespace ag {

namespace {

constexpr int kAccumulators = 4;

}  // namespace

template <class Arch>
void SumRowsKernel::operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size, step = kAccumulators * W;
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = x + r * cols;
        // kAccumulators independent partial sums
        B acc[kAccumulators];
        for (B& a : acc) a = B(0.0f);
        int64_t c = 0;
        for (; c + step <= cols; c += step)
            for (int k = 0; k < kAccumulators; ++k) acc[k] += B::load_unaligned(row + c + k * W);
        // the leftover whole batches, then the tail through one batch (zeros add nothing)
        for (; c + W <= cols; c += W) acc[0] += B::load_unaligned(row + c);
        if (c < cols) acc[1] += load_partial<Arch>(row + c, cols - c);
        // fold the partial sums into one batch, then its lanes
        for (int k = 1; k < kAccumulators; ++k) acc[0] += acc[k];
        out[r] = xsimd::hadd(acc[0]);
    }
}

template <class Arch>
void SumColumnsKernel::operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    // out = 0, then out += row r for r = 0, 1, ...: x is read once, in order, while out stays in cache
    for (int64_t c = 0; c < cols; ++c) out[c] = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = x + r * cols;
        int64_t c = 0;
        for (; c + W <= cols; c += W)
            (B::load_unaligned(out + c) + B::load_unaligned(row + c)).store_unaligned(out + c);
        if (c < cols) {
            const int64_t n = cols - c;
            store_partial(out + c, load_partial<Arch>(out + c, n) + load_partial<Arch>(row + c, n), n);
        }
    }
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void SumRowsKernel::operator()(KernelArch, float*, const float*, int64_t, int64_t) const;
template void SumColumnsKernel::operator()(KernelArch, float*, const float*, int64_t, int64_t) const;

}  // namespace ag
