// attention.hpp: scaled dot-product attention of H heads, fused into one op (forward and backward).
//
// Dimension letters: B batch, T query length, S key length, H heads, Dh head size, D = H · Dh.
// The heads sit side by side along the last axis, as a projection produces them: head h of a row
// is its columns [h·Dh, (h+1)·Dh). Nothing is permuted or copied to split them.
//
//   q: [B, T, D]   k, v: [B, S, D]                   (self_attention: qkv [B, T, 3D] = [q | k | v])
//   for each batch b and head h, with Q, K, V that head's [T, Dh], [S, Dh], [S, Dh] slices:
//     scores = Q Kᵀ / √Dh                                            [T, S]
//     scores[i, j] = -inf   where key_padding_mask[b, j] != 0, where j > i (is_causal), or where
//                           attn_mask[i, j] != 0 (Boolean); scores[i, j] += attn_mask[i, j] (Additive)
//     P  = softmax(scores) over j    (a row with every key masked is all zeros, not NaN)
//     P' = dropout(P, p)             (training only; its mask is kept for backward, as bits)
//     O  = P' V                                                        [T, Dh] -> out[b, :, h·Dh ...]
//   backward, given dO:
//     dV = P'ᵀ dO      dP' = dO Vᵀ      dP = dropout_backward(dP')
//     dS = P ∘ (dP - rowsum(dP ∘ P))   (softmax backward)
//     dQ = dS K / √Dh  dK = dSᵀ Q / √Dh
// It computes what ops composed would (split heads, matmul, masked_fill, softmax, dropout,
// matmul, merge heads; see nn/attention.cpp, which keeps that composition for need_weights) in
// one pass per (b, h): no head is ever permuted or copied, and the only [B, H, T, S] data kept
// for backward are P and the dropout mask (1 bit per weight), from which backward rebuilds P'.
//
// zero_padding_queries (self_attention with a key_padding_mask): the queries at padding positions
// (the mask marks them too: they are the keys') get output 0 and no gradient, and cost nothing:
// their rows of P are 0 and are left out of every product. The other outputs keep their bits.
// (MultiHeadAttention's zero_padding_queries, nn/attention.hpp, is the user-facing side.)
//
// The dropout mask of head (b, h) is the dropout op's (ops/dropout.hpp) for the [T, S] block with
// first = the reserved counter + (b·H + h) · ⌈T·S / 4⌉; when T·S is a multiple of 4 that is exactly
// the mask dropout() draws for the whole [B, H, T, S] tensor from the same generator state.
#pragma once

#include "core/random.hpp"
#include "core/tensor.hpp"

#include <cstdint>

namespace ag {

/// How an attention mask over [T, S] is read.
enum class MaskType {
    Boolean,   ///< non-zero = the query may not attend to that key (PyTorch's bool mask)
    Additive,  ///< added to the scores (0 = allowed, -inf = forbidden, or any bias)
};

/// The masks and dropout of an attention call; every field is optional.
struct AttentionMasks {
    Tensor key_padding_mask{};                    ///< [B, S], non-zero at padding keys; or undefined
    Tensor attn_mask{};                           ///< [T, S]; or undefined
    MaskType attn_mask_type = MaskType::Boolean;  ///< how attn_mask is read
    bool is_causal = false;                       ///< mask every key j > query i
    float dropout = 0.0f;                         ///< probability of dropping a weight, in [0, 1]
    Generator* gen = nullptr;                     ///< draws the dropout masks (needed if dropout > 0)
    bool zero_padding_queries = false;            ///< self_attention: output 0 at padding queries (above)
};

/// Attention of q [B, T, D] over k, v [B, S, D], with num_heads heads of D / num_heads columns.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                 const AttentionMasks& masks = {});
/// Self-attention on one packed projection qkv [B, T, 3D] = [q | k | v]; out [B, T, D].
Tensor self_attention(const Tensor& qkv, int64_t num_heads, const AttentionMasks& masks = {});

}  // namespace ag
