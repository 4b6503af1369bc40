// attention.hpp: multi-head scaled dot-product attention (torch.nn.MultiheadAttention, batch_first).
//
// Dimension letters: B batch, T query length, S key/value length, D embed_dim, H heads, Dh = D / H.
//
//   query: [B, T, D]   key, value: [B, S, D]   (self-attention: the same tensor for all three)
//   in_proj_weight: [3D, D] = [W_q; W_k; W_v]   in_proj_bias: [3D] = [b_q; b_k; b_v]
//   out_proj: Linear(D, D)
//
//   q = query W_qᵀ + b_q      k = key W_kᵀ + b_k      v = value W_vᵀ + b_v         [B, *, D]
//   split heads: [B, T, D] -> [B, T, H, Dh] -> [B, H, T, Dh]              (likewise k, v with S)
//   scores = q kᵀ / √Dh                                                           [B, H, T, S]
//   scores[b, h, i, j] = -inf where attn_mask[i, j] (Boolean), or += attn_mask[i, j] (Additive)
//                        -inf where key_padding_mask[b, j] != 0 (a padding key)
//                        -inf where j > i                                 (is_causal)
//   P = softmax(scores) over S; a query with every key masked gets all-zero weights (not NaN)
//   P = dropout(P)                                                        (training only)
//   o = P v: [B, H, T, Dh] -> merge heads -> [B, T, D]
//   output = o W_oᵀ + b_o                                                         [B, T, D]
// The scores-to-output part runs as one fused op, ops/attention.hpp (self_attention or attention),
// which reads the heads in place and keeps only P for backward. With need_weights the same
// formulas run composed from ops (reshape, permute, matmul, masked_fill, softmax, dropout), which
// also yields the weights: the step-by-step version to read, and the fused op's test oracle.
// Self-attention (query, key and value the same tensor) takes one [B, T, D] @ [D, 3D] product,
// which the fused op reads packed as [B, T, 3D]: nothing is split or copied.
//
// Parameter names and layouts are PyTorch's, so state dicts convert one-to-one:
//   in_proj_weight [3D, D], in_proj_bias [3D], out_proj.weight [D, D], out_proj.bias [D]
// Initialisation (PyTorch's): in_proj_weight ~ xavier_uniform over the [3D, D] matrix, i.e.
// U(-a, a) with a = √(6 / (D + 3D)); in_proj_bias = 0; out_proj.weight ~ U(-1/√D, 1/√D) (as
// Linear's); out_proj.bias = 0. Without bias, neither bias exists.
//
// Differences from PyTorch, on purpose:
//   - inputs are batch first ([B, T, D], PyTorch's batch_first=True); kdim/vdim, add_bias_kv and
//     add_zero_attn are not supported;
//   - masks are float tensors: key_padding_mask is non-zero at padding keys; attn_mask says
//     whether it is Boolean (non-zero = not allowed, PyTorch's bool mask) or Additive;
//   - is_causal applies the causal mask itself (PyTorch only takes it as a hint about attn_mask);
//     with T != S it masks j > i (the top-left alignment of PyTorch's scaled_dot_product_attention);
//   - a fully masked query row gives zero weights and a zero attention output (PyTorch: NaN).
// As in PyTorch, the returned weights are the ones multiplied with v: after dropout in training.
//
// zero_padding_queries (self-attention with a key_padding_mask): the outputs at padding positions
// are 0 instead of computed, as PyTorch's TransformerEncoder returns them on its nested-tensor
// fast path. A model whose loss never reads them (masked mean pooling, a masked token loss)
// loses nothing, and their rows are left out of both projections (linear_rows, ops/linear.hpp)
// and of the fused op's products (ops/attention.hpp): at the benchmark config's 16 padding
// positions of 64, a quarter of the forward products. The
// other positions' outputs, and every gradient when the padding outputs get none, are unchanged:
// a real query never sees a padding key's projections, which are the ones left out.
#pragma once

#include "nn/linear.hpp"
#include "ops/attention.hpp"
#include "nn/module.hpp"

#include "core/random.hpp"

namespace ag {

/// The optional inputs of MultiHeadAttention::forward.
struct AttentionOptions {
    Tensor key_padding_mask{};              ///< [B, S], non-zero at padding keys; or undefined
    Tensor attn_mask{};                     ///< [T, S]; or undefined
    MaskType attn_mask_type = MaskType::Boolean;  ///< how attn_mask is read
    bool is_causal = false;                 ///< mask every key j > query i
    bool need_weights = false;              ///< also return the attention weights
    bool average_weights = true;            ///< weights averaged over heads [B, T, S], else [B, H, T, S]
    bool zero_padding_queries = false;      ///< self-attention: output 0 at padding positions, not computed (above)
};

/// What MultiHeadAttention::forward returns.
struct AttentionOutput {
    Tensor output;   ///< [B, T, D]
    Tensor weights;  ///< [B, T, S] or [B, H, T, S] if need_weights, else undefined
};

/// Multi-head attention with PyTorch's parameters; see the formulas above.
class MultiHeadAttention : public Module {
public:
    /// D = embed_dim, split into num_heads heads; parameters drawn from `gen`, which also draws
    /// the attention-dropout masks (kept by pointer: it must outlive the module).
    MultiHeadAttention(int64_t embed_dim, int64_t num_heads, Generator& gen, float dropout = 0.0f, bool bias = true);

    /// Attention of query [B, T, D] over key and value [B, S, D].
    AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                            const AttentionOptions& options = {});
    /// Self-attention: forward(x, x, x, options).
    AttentionOutput operator()(const Tensor& x, const AttentionOptions& options = {}) {
        return forward(x, x, x, options);
    }
    /// Names "in_proj_weight", "in_proj_bias" and the child "out_proj" (no biases without bias).
    void visit(Visitor& v) override;

    /// D.
    int64_t embed_dim() const { return embed_dim_; }
    /// H.
    int64_t num_heads() const { return num_heads_; }
    /// [W_q; W_k; W_v]: [3D, D].
    const Tensor& in_proj_weight() const { return in_proj_weight_; }
    /// [b_q; b_k; b_v]: [3D], or undefined without bias.
    const Tensor& in_proj_bias() const { return in_proj_bias_; }
    /// The output projection, Linear(D, D).
    Linear& out_proj() { return out_proj_; }

private:
    int64_t embed_dim_;
    int64_t num_heads_;
    float dropout_;
    Generator* gen_;
    Tensor in_proj_weight_;
    Tensor in_proj_bias_;
    Linear out_proj_;
};

}  // namespace ag
