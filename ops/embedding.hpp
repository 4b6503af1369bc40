// embedding.hpp: rows of a table looked up by integer ids.
//
//   out[..., :] = weight[ids[...], :]          ids [...] -> out [..., D], weight [V, D]
//   dweight[v, :] = Σ_{positions with id v} dout[position, :]   (scatter-add: repeats accumulate)
// The padding row (padding_idx) receives no gradient, as in torch.nn.functional.embedding.
#pragma once

#include "core/tensor.hpp"

#include <cstdint>
#include <optional>

namespace ag {

/// Looks up rows of `weight` [V, D] at `ids` (integral floats in [0, V)); out shape = ids.shape + (D,).
/// A negative padding_idx counts from the end, as in PyTorch.
Tensor embedding(const Tensor& ids, const Tensor& weight, std::optional<int64_t> padding_idx = std::nullopt);

// --- kernels (raw buffers, no validation: ids must be integral and in [0, V)) -------------------
// embedding_forward / _backward run the SIMD kernel of the active level (ops/embedding_kernel.cpp),
// or the reference at the scalar level (core/simd.hpp); both give the same bits.

/// embedding_forward_reference's result, at the active SIMD level.
void embedding_forward(float* out, const float* ids, const float* weight, int64_t N, int64_t D);
/// embedding_backward_reference's result, at the active SIMD level.
void embedding_backward(float* dweight, const float* dout, const float* ids, int64_t N, int64_t V, int64_t D,
                        int64_t padding_idx);


/// Gather: out[n, :] = weight[ids[n], :] for n < N.   out [N, D], ids [N], weight [V, D]
void embedding_forward_reference(float* out, const float* ids, const float* weight, int64_t N, int64_t D);
/// Scatter-add: dweight = 0, then dweight[ids[n], :] += dout[n, :] for n < N, skipping ids equal to
/// padding_idx (in [0, V), or -1 for none).   dweight [V, D], dout [N, D], ids [N]
void embedding_backward_reference(float* dweight, const float* dout, const float* ids, int64_t N, int64_t V, int64_t D,
                                  int64_t padding_idx);

}  // namespace ag
