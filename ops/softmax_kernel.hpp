// softmax_kernel.hpp: the SIMD softmax and log_softmax kernels, one copy per instruction set
// (ops/softmax_kernel.cpp). Same contracts as the references in softmax.hpp, which run at the
// scalar level: R rows of C contiguous columns, -inf entries masked, fully masked rows zero.
#pragma once

#include <cstdint>

namespace ag {

/// out[r, :] = softmax(x[r, :]) (softmax_forward_reference's contract).
struct SoftmaxForwardKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const;
};
/// dx[r, i] = out[r, i] (dout[r, i] - Σ_j dout[r, j] out[r, j]).
struct SoftmaxBackwardKernel {
    template <class Arch>
    void operator()(Arch, float* dx, const float* out, const float* dout, int64_t rows, int64_t cols) const;
};
/// out[r, :] = log_softmax(x[r, :]) (log_softmax_forward_reference's contract).
struct LogSoftmaxForwardKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const;
};
/// dx[r, i] = dout[r, i] - e^out[r, i] Σ_j dout[r, j]; zero for a fully masked row.
struct LogSoftmaxBackwardKernel {
    template <class Arch>
    void operator()(Arch, float* dx, const float* out, const float* dout, int64_t rows, int64_t cols) const;
};

}  // namespace ag
