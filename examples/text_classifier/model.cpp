// model.cpp: the text classifier's layers (formulas and shapes in model.hpp).
#include "model.hpp"

#include "core/error.hpp"
#include "ops/binary.hpp"
#include "ops/matmul.hpp"
#include "ops/shape_ops.hpp"
#include "ops/unary.hpp"

#include <cmath>
#include <fmt/format.h>

namespace textclf {

void validate(const ModelConfig& c) {
    ag::check(c.vocab_size >= 2, "model", "vocab size must be >= 2 (<pad> and <unk>), got {}", c.vocab_size);
    ag::check(c.d_model >= 1, "model", "d_model must be >= 1, got {}", c.d_model);
    ag::check(c.heads >= 1 && c.d_model % c.heads == 0, "model", "heads {} must be >= 1 and divide d_model {}",
              c.heads, c.d_model);
    ag::check(c.layers >= 1, "model", "layers must be >= 1, got {}", c.layers);
    ag::check(c.ff_dim >= 0, "model", "ff_dim must be >= 0, got {}", c.ff_dim);
    ag::check(c.max_len >= 1, "model", "max_len must be >= 1, got {}", c.max_len);
    ag::check(c.num_classes >= 2, "model", "a classifier needs >= 2 classes, got {}", c.num_classes);
    ag::check(std::isfinite(c.dropout) && c.dropout >= 0.0f && c.dropout < 1.0f, "model",
              "dropout must be in [0, 1), got {}", c.dropout);
}

Block::Block(const ModelConfig& c, ag::Generator& gen)
    : attention_(c.d_model, c.heads, gen, c.dropout), dropout_(c.dropout, gen), norm_(c.d_model) {
    if (c.ff_dim > 0) {
        ff1_.emplace(c.d_model, c.ff_dim, gen);
        ff2_.emplace(c.ff_dim, c.d_model, gen);
        norm2_.emplace(c.d_model);
    }
}

ag::Tensor Block::forward(const ag::Tensor& x, const ag::Tensor& padding, ag::Tensor* weights) {
    // attention over the real tokens only; the residual keeps each token's own embedding. The
    // padding positions' outputs are 0, not computed: the masked pooling never reads them
    ag::AttentionOptions options;
    options.key_padding_mask = padding;
    options.zero_padding_queries = true;
    options.need_weights = weights != nullptr;
    ag::AttentionOutput a = attention_(x, options);
    if (weights) *weights = a.weights;
    ag::Tensor h = norm_(x + dropout_(a.output));
    if (!ff1_) return h;
    // feed-forward: the same two-layer MLP on every token
    return (*norm2_)(h + dropout_((*ff2_)(ag::relu((*ff1_)(h)))));
}

void Block::visit(ag::Visitor& v) {
    v.module("attention", attention_);
    // NOTE: dropout has no parameters, but it must be visited all the same: train()/eval() reach
    // a module only through visit(), and an unvisited Dropout would keep dropping in evaluation
    v.module("dropout", dropout_);
    v.module("norm", norm_);
    if (ff1_) {
        v.module("ff1", *ff1_);
        v.module("ff2", *ff2_);
        v.module("norm2", *norm2_);
    }
}

TextClassifier::TextClassifier(const ModelConfig& config, ag::Generator& gen)
    : config_((validate(config), config)),
      token_embedding_(config.vocab_size, config.d_model, gen, 0),
      position_embedding_(config.max_len, config.d_model, gen),
      classifier_(config.d_model, config.num_classes, gen) {
    // NOTE: members are drawn in initialisation order (embeddings, classifier), then the blocks
    // here: changing this order changes every initial weight of a seed
    layers_.reserve(static_cast<size_t>(config.layers));
    for (int64_t i = 0; i < config.layers; ++i) {
        layers_.emplace_back(config, gen);
        layer_names_.push_back(fmt::format("layers.{}", i));
    }
}

ag::Tensor TextClassifier::forward(const ModelInput& input, ag::Tensor* attention) {
    const int64_t B = input.ids.size(0), T = input.ids.size(1), C = config_.d_model;
    ag::check(T >= 1 && T <= config_.max_len, "TextClassifier", "sequence length {} not in [1, {}]", T,
              config_.max_len);

    // embed: tokens plus positions [T, C], broadcast over the batch
    const ag::Tensor& positions = position_embedding_.weight();
    ag::Tensor x = token_embedding_(input.ids) + (T == config_.max_len ? positions : ag::narrow(positions, 0, 0, T));

    // the blocks; only the last one's attention is reported
    for (size_t i = 0; i < layers_.size(); ++i)
        x = layers_[i].forward(x, input.padding, i + 1 == layers_.size() ? attention : nullptr);

    // masked mean pool as one batched product: [B, 1, T] @ [B, T, C] -> [B, 1, C]
    ag::Tensor pooled = ag::reshape(ag::matmul(ag::reshape(input.pool, {B, 1, T}), x), {B, C});
    return classifier_(pooled);
}

void TextClassifier::visit(ag::Visitor& v) {
    v.module("token_embedding", token_embedding_);
    v.module("position_embedding", position_embedding_);
    for (size_t i = 0; i < layers_.size(); ++i) v.module(layer_names_[i], layers_[i]);
    v.module("classifier", classifier_);
}

}  // namespace textclf
