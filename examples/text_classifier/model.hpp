// model.hpp: the text classifier: embeddings -> attention blocks -> masked mean pool -> Linear.
//
// Dimension letters: B batch, T tokens (padded), C d_model, H heads, K classes, V vocabulary.
//
//   ids [B, T] (0 = <pad>)      padding [B, T] (1 at padding)      pool [B, T] (1/len at tokens, else 0)
//   x = token_embedding[ids] + position_embedding[0..T)                        [B, T, C]
//   per layer:   a = MultiHeadAttention(x, key_padding_mask = padding)         [B, T, C]
//                x = LayerNorm(x + Dropout(a))
//                (with ff_dim > 0)  x = LayerNorm2(x + Dropout(W2 relu(W1 x + b1) + b2))
//   pooled = pool[b] @ x[b]: the mean over each text's real tokens (one batched matmul)   [B, C]
//   logits = classifier(pooled)                                                   [B, K]
// The loss (cross-entropy) is applied by the trainer. With one layer and no feed-forward block
// this is exactly the benchmark config of ANCHORS.md and bench/torch_twin.py.
// Parameter names follow the twin's: token_embedding.weight, layers.0.attention.in_proj_weight, ...
#pragma once

#include "nn/attention.hpp"
#include "nn/dropout.hpp"
#include "nn/embedding.hpp"
#include "nn/layer_norm.hpp"
#include "nn/linear.hpp"
#include "nn/module.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace textclf {

/// The shape of a model: everything needed to rebuild it before loading its weights.
struct ModelConfig {
    int64_t vocab_size = 8000;  ///< V: rows of the token embedding (the vocabulary's actual size)
    int64_t d_model = 128;      ///< C
    int64_t heads = 4;          ///< H; must divide C
    int64_t layers = 1;         ///< attention blocks
    int64_t ff_dim = 0;         ///< hidden size of the feed-forward block; 0 = no feed-forward block
    int64_t max_len = 64;       ///< longest text in tokens (rows of the position embedding)
    int64_t num_classes = 4;    ///< K
    float dropout = 0.1f;       ///< attention and residual dropout
};

/// Throws ag::Error naming the field and value if `config` cannot make a model.
void validate(const ModelConfig& config);

/// One attention block: attention, dropout, residual, LayerNorm; optionally a feed-forward block.
class Block : public ag::Module {
public:
    /// Draws its parameters, and later its dropout masks, from `gen`.
    Block(const ModelConfig& config, ag::Generator& gen);
    /// x [B, T, C] -> [B, T, C]; `weights`, when not null, receives the head-averaged attention [B, T, T].
    ag::Tensor forward(const ag::Tensor& x, const ag::Tensor& padding, ag::Tensor* weights);
    /// Names attention, dropout, norm, and ff1, ff2, norm2 when there is a feed-forward block.
    void visit(ag::Visitor& v) override;

private:
    ag::MultiHeadAttention attention_;
    ag::Dropout dropout_;
    ag::LayerNorm norm_;
    std::optional<ag::Linear> ff1_, ff2_;
    std::optional<ag::LayerNorm> norm2_;
};

/// A batch ready for the model (see batcher.hpp, which builds it).
struct ModelInput {
    ag::Tensor ids;      ///< [B, T] token ids as floats, 0 at padding
    ag::Tensor padding;  ///< [B, T] 1 at padding, 0 at tokens
    ag::Tensor pool;     ///< [B, T] 1 / (tokens of the text) at tokens, 0 at padding
};

/// The classifier of the file header.
class TextClassifier : public ag::Module {
public:
    /// Draws the initial weights from `gen` and keeps it for the dropout masks (it must outlive the model).
    TextClassifier(const ModelConfig& config, ag::Generator& gen);

    /// Logits [B, K]. `attention`, when not null, receives the last layer's head-averaged weights [B, T, T].
    ag::Tensor forward(const ModelInput& input, ag::Tensor* attention = nullptr);
    /// Names token_embedding, position_embedding, layers.<i>, classifier.
    void visit(ag::Visitor& v) override;
    /// The shape it was built with.
    const ModelConfig& config() const { return config_; }

private:
    ModelConfig config_;
    ag::Embedding token_embedding_;
    ag::Embedding position_embedding_;
    std::vector<Block> layers_;
    std::vector<std::string> layer_names_;  // "layers.0", ...: visit() hands out string_views
    ag::Linear classifier_;
};

}  // namespace textclf
