// attention.cpp: multi-head attention composed from public ops (formulas in attention.hpp).
//
// Every step is an op that records its own backward (matmul, narrow, reshape, permute,
// masked_fill, softmax, dropout, mean), so this file has no backward of its own. Speed comes later
// (a fused kernel would keep the [B, H, T, S] scores out of memory); this is the reference.
#include "nn/attention.hpp"

#include "core/error.hpp"
#include "ops/binary.hpp"
#include "ops/dropout.hpp"
#include "ops/linear.hpp"
#include "ops/matmul.hpp"
#include "ops/reduce.hpp"
#include "ops/shape_ops.hpp"
#include "ops/softmax.hpp"
#include "ops/where.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

namespace ag {

namespace {

// The name PyTorch users know, in every error message.
constexpr std::string_view kOp = "MultiheadAttention";

// x W[first : first + D]ᵀ + b[first : first + D]: one of the three input projections.
Tensor project(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t first, int64_t D) {
    return linear(x, narrow(weight, 0, first, D), bias.defined() ? narrow(bias, 0, first, D) : Tensor());
}

// [B, L, D] -> [B, L, H, Dh] -> [B, H, L, Dh]: each head's slice of D becomes its own matrix.
Tensor split_heads(const Tensor& x, int64_t H) {
    const int64_t B = x.size(0), L = x.size(1), D = x.size(2);
    return permute(reshape(x, {B, L, H, D / H}), {0, 2, 1, 3});
}

// The rows n = b·T + t of a [B, T, ·] tensor where padding [B, T] is 0 (the real tokens), ascending.
std::vector<int64_t> real_positions(const Tensor& padding) {
    std::vector<int64_t> rows;
    for (int64_t n = 0; n < padding.numel(); ++n)
        if (padding.data()[n] == 0.0f) rows.push_back(n);
    return rows;
}

// [B, H, L, Dh] -> [B, L, H, Dh] -> [B, L, D]: the heads side by side again.
Tensor merge_heads(const Tensor& x) {
    const int64_t B = x.size(0), H = x.size(1), L = x.size(2), Dh = x.size(3);
    return reshape(permute(x, {0, 2, 1, 3}), {B, L, H * Dh});
}

// [T, S] with 1 where key j comes after query i (j > i): what a causal model may not see.
Tensor causal_mask(int64_t T, int64_t S) {
    Tensor mask = zeros({T, S});
    for (int64_t i = 0; i < T; ++i)
        for (int64_t j = i + 1; j < S; ++j) mask.data()[i * S + j] = 1.0f;
    return mask;
}

// embed_dim, once checked: the members are built from it, so it is checked before the first of them.
int64_t checked_embed_dim(int64_t embed_dim, int64_t num_heads) {
    check(embed_dim > 0 && num_heads > 0 && embed_dim % num_heads == 0, kOp,
          "embed_dim {} must be positive and divisible by num_heads {}", embed_dim, num_heads);
    return embed_dim;
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int64_t embed_dim, int64_t num_heads, Generator& gen, float dropout, bool bias)
    : embed_dim_(embed_dim),
      num_heads_(num_heads),
      dropout_(dropout),
      gen_(&gen),
      out_proj_(checked_embed_dim(embed_dim, num_heads), embed_dim, gen, bias) {
    check(dropout >= 0.0f && dropout <= 1.0f, kOp, "dropout probability must be in [0, 1], got {}", dropout);
    // NOTE: the order of draws is PyTorch's: out_proj is built (and drawn, as any Linear) first,
    // then in_proj_weight; both biases are then zero
    // xavier_uniform over [3D, D]: fan_in = D, fan_out = 3D, bound √(6 / (fan_in + fan_out))
    const float bound = std::sqrt(6.0f / static_cast<float>(embed_dim + 3 * embed_dim));
    in_proj_weight_ = uniform({3 * embed_dim, embed_dim}, -bound, bound, gen);
    in_proj_weight_.requires_grad_();
    if (bias) {
        in_proj_bias_ = zeros({3 * embed_dim});
        in_proj_bias_.requires_grad_();
        std::fill_n(out_proj_.bias().data(), embed_dim, 0.0f);
    }
}

AttentionOutput MultiHeadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                            const AttentionOptions& options) {
    const int64_t D = embed_dim_, H = num_heads_, Dh = D / H;

    // validate: query [B, T, D], key and value [B, S, D], masks [B, S] and [T, S]
    check(query.defined() && key.defined() && value.defined(), kOp, "query, key or value is an undefined tensor");
    check(query.ndim() == 3 && query.size(2) == D, kOp, "query must have shape (B, T, {}), got {}", D, query.shape());
    const int64_t B = query.size(0), T = query.size(1);
    check(key.ndim() == 3 && key.size(0) == B && key.size(2) == D && value.shape() == key.shape(), kOp,
          "key and value must have the same shape (B, S, D) = ({}, S, {}), got key {} and value {}", B, D, key.shape(),
          value.shape());
    const int64_t S = key.size(1);
    const Tensor& padding = options.key_padding_mask;
    if (padding.defined())
        check(padding.shape() == Shape{B, S}, kOp, "key_padding_mask must have shape (B, S) = {}, got {}", Shape{B, S},
              padding.shape());
    const Tensor& attn_mask = options.attn_mask;
    if (attn_mask.defined())
        check(attn_mask.shape() == Shape{T, S}, kOp, "attn_mask must have shape (T, S) = {}, got {}", Shape{T, S},
              attn_mask.shape());

    // fast path: project, then the fused op (heads read in place, no [B, H, T, S] copies)
    const bool self = query.impl() == key.impl() && key.impl() == value.impl();
    const bool zero_padding = options.zero_padding_queries;
    check(!zero_padding || (self && padding.defined()), kOp,
          "zero_padding_queries needs self-attention (query, key and value the same tensor) and a key_padding_mask");
    if (!options.need_weights) {
        const AttentionMasks masks{padding.defined() ? padding.detach() : Tensor(),
                                   attn_mask,
                                   options.attn_mask_type,
                                   options.is_causal,
                                   training() ? dropout_ : 0.0f,
                                   gen_,
                                   zero_padding};
        // zero_padding: the projections over the real tokens only (qkv's and the output's padding
        // rows are 0), and the fused op skips the padding queries
        if (zero_padding) {
            const std::vector<int64_t> rows = real_positions(padding);
            Tensor o = self_attention(linear_rows(query, in_proj_weight_, in_proj_bias_, rows), H, masks);
            return {linear_rows(o, out_proj_.weight(), out_proj_.bias(), rows), Tensor()};
        }
        Tensor o = self ? self_attention(linear(query, in_proj_weight_, in_proj_bias_), H, masks)  // [B, T, 3D] -> [B, T, D]
                        : attention(project(query, in_proj_weight_, in_proj_bias_, 0, D),
                                    project(key, in_proj_weight_, in_proj_bias_, D, D),
                                    project(value, in_proj_weight_, in_proj_bias_, 2 * D, D), H, masks);
        return {out_proj_.forward(o), Tensor()};
    }

    // composed path (it also gives the weights): project; one product for self-attention, split in three
    Tensor q, k, v;
    if (self) {
        Tensor qkv = linear(query, in_proj_weight_, in_proj_bias_);  // [B, T, 3D]
        q = narrow(qkv, 2, 0, D), k = narrow(qkv, 2, D, D), v = narrow(qkv, 2, 2 * D, D);
    } else {
        q = project(query, in_proj_weight_, in_proj_bias_, 0, D);
        k = project(key, in_proj_weight_, in_proj_bias_, D, D);
        v = project(value, in_proj_weight_, in_proj_bias_, 2 * D, D);
    }

    // split heads and score: (q / √Dh) kᵀ, scaling q [T, Dh] rather than the scores [T, S]
    q = split_heads(q, H) * (1.0f / std::sqrt(static_cast<float>(Dh)));  // [B, H, T, Dh]
    k = split_heads(k, H);                                               // [B, H, S, Dh]
    v = split_heads(v, H);                                               // [B, H, S, Dh]
    Tensor scores = matmul(q, transpose(k, 2, 3));                       // [B, H, T, S]

    // mask: [T, S] and [B, 1, 1, S] broadcast over the scores
    if (attn_mask.defined())
        scores = options.attn_mask_type == MaskType::Boolean ? masked_fill(scores, attn_mask, -INFINITY)
                                                             : scores + attn_mask;
    if (padding.defined()) scores = masked_fill(scores, reshape(padding.detach(), {B, 1, 1, S}), -INFINITY);
    if (options.is_causal) scores = masked_fill(scores, causal_mask(T, S), -INFINITY);

    // normalise over the keys, drop, and mix the values
    Tensor weights = softmax(scores);                           // [B, H, T, S]
    weights = dropout(weights, dropout_, training(), *gen_);
    Tensor output = out_proj_.forward(merge_heads(matmul(weights, v)));  // [B, T, D]
    if (zero_padding) output = masked_fill(output, reshape(padding.detach(), {B, T, 1}), 0.0f);
    return {output, options.average_weights ? mean(weights, {1}) : weights};
}

void MultiHeadAttention::visit(Visitor& v) {
    v.parameter("in_proj_weight", in_proj_weight_);
    if (in_proj_bias_.defined()) v.parameter("in_proj_bias", in_proj_bias_);
    v.module("out_proj", out_proj_);
}

}  // namespace ag
