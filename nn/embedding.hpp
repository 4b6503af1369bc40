// embedding.hpp: a table of learned vectors looked up by integer ids (torch.nn.Embedding).
//
//   ids: [...] integral floats in [0, V)    weight: [V, D]    out: [..., D]
//   out[..., :] = weight[ids[...], :]       dweight[v] = Σ over positions with id v of dout
// The padding row (padding_idx) gets no gradient: it stays what it was, zeros from initialisation.
//
// Initialisation (PyTorch's): weight ~ N(0, 1), then the padding row set to zero.
#pragma once

#include "nn/module.hpp"

#include "core/random.hpp"

#include <optional>

namespace ag {

/// Looks up rows of a [V, D] table.
class Embedding : public UnaryModule {
public:
    /// A table of `num_embeddings` rows of `embedding_dim`, drawn from `gen`. A negative padding_idx
    /// counts from the end, as in PyTorch, and is stored normalised to [0, V).
    Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen,
              std::optional<int64_t> padding_idx = std::nullopt);

    /// ids [...] -> [..., D].
    Tensor forward(const Tensor& ids) override;
    /// Names "weight".
    void visit(Visitor& v) override;

    /// The table: [V, D].
    const Tensor& weight() const { return weight_; }
    /// The row that gets no gradient, in [0, V); or none.
    std::optional<int64_t> padding_idx() const { return padding_idx_; }
    /// V: the number of rows.
    int64_t num_embeddings() const { return weight_.size(0); }
    /// D: the size of each row.
    int64_t embedding_dim() const { return weight_.size(1); }

private:
    Tensor weight_;
    std::optional<int64_t> padding_idx_;
};

}  // namespace ag
