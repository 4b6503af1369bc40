// layer_norm_kernel.hpp: the SIMD layer_norm kernels, one copy per instruction set
// (ops/layer_norm_kernel.cpp). Same contracts as the references in layer_norm.hpp, which run at
// the scalar level: R rows of C contiguous columns; weight and bias [C] may be null.
#pragma once

#include <cstdint>

namespace ag {

/// out[r, :] = x̂ * weight + bias, saving mean[r] and rstd[r] (layer_norm_forward_reference's contract).
struct LayerNormForwardKernel {
    template <class Arch>
    void operator()(Arch, float* out, float* mean, float* rstd, const float* x, const float* weight,
                    const float* bias, float eps, int64_t rows, int64_t cols) const;
};
/// dx from the saved mean and rstd; ADDS into dweight and dbias (layer_norm_backward_reference's contract).
struct LayerNormBackwardKernel {
    template <class Arch>
    void operator()(Arch, float* dx, float* dweight, float* dbias, const float* x, const float* mean,
                    const float* rstd, const float* weight, const float* dout, int64_t rows, int64_t cols) const;
};

}  // namespace ag
