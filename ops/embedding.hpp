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

}  // namespace ag
