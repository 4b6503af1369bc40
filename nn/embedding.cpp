// embedding.cpp: the module around ops/embedding (formulas in embedding.hpp).
#include "nn/embedding.hpp"

#include "core/error.hpp"
#include "ops/embedding.hpp"

#include <algorithm>

namespace ag {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen,
                     std::optional<int64_t> padding_idx) {
    check(num_embeddings > 0 && embedding_dim > 0, "Embedding",
          "num_embeddings and embedding_dim must be positive, got {} and {}", num_embeddings, embedding_dim);
    if (padding_idx) {
        check(*padding_idx >= -num_embeddings && *padding_idx < num_embeddings, "Embedding",
              "padding_idx {} out of range for {} embeddings", *padding_idx, num_embeddings);
        padding_idx_ = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
    }
    // N(0, 1), with the padding row zeroed: it then stays zero, as it never gets a gradient
    weight_ = randn({num_embeddings, embedding_dim}, gen);
    if (padding_idx_) std::fill_n(weight_.data() + *padding_idx_ * embedding_dim, embedding_dim, 0.0f);
    weight_.requires_grad_();
}

Tensor Embedding::forward(const Tensor& ids) {
    check(ids.defined(), "Embedding", "ids is an undefined tensor");
    return embedding(ids, weight_, padding_idx_);
}

void Embedding::visit(Visitor& v) { v.parameter("weight", weight_); }

}  // namespace ag
