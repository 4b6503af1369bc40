// attention.cpp: fused multi-head scaled dot-product attention; the formulas are in attention.hpp.
//
// Every (batch, head) pair is an independent problem on strided slices of q, k, v:
//   Q = q[b, :, h·Dh : (h+1)·Dh]   a [T, Dh] matrix whose rows are ld_q floats apart
// gemm takes a leading dimension for each operand, so it reads a head in place: for q [B, T, D]
// the head's first element is q + b·T·D + h·Dh and its rows are D apart; for the packed
// qkv [B, T, 3D] they are 3D apart. The outputs (out, and dq, dk, dv in backward) are written the
// same way, so each (b, h) writes its own rectangle and the pairs run in parallel without locks.
//
// Memory per (b, h): the scores [T, S], P' = dropout(P) [T, S] and, in backward, dP' and dS
// [T, S] live in the thread's scratch space (L1 or L2). Forward to backward keeps P [B, H, T, S]
// and the dropout mask, 1 bit per weight (dropout.hpp): backward rebuilds each head's P' from
// the two, which costs less than writing P' out and reading it back (2 MB each way in the
// benchmark config, measured 2-3% of a training step) and needs no second pass of Philox.
//
// Padding keys at the end of a row (right padding) are left out of all six products: their
// weights are exactly 0, so the products over the live keys give the same bits, and the
// benchmark config (16 of 64 keys padding) does a quarter fewer flops. Backward likewise leaves
// out the queries at the end whose dO rows are all zero (see live_queries). With
// zero_padding_queries, forward leaves out the padding queries at the end of a row the same way
// (and zeroes the P rows of those in the middle, so that backward gets nothing from them).
//
// The heads are worked on one after the other, and each asks the caches for the next one's data
// while it computes (prefetch_head): the products are small, so a miss costs them a lot.
#include "ops/attention.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/dropout.hpp"
#include "ops/gemm.hpp"
#include "ops/nonzero.hpp"
#include "ops/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace ag {

namespace {

// Asks the caches for `floats` floats from p on, ahead of their use (for writing if `write`).
void prefetch(const float* p, int64_t floats, bool write) {
    for (int64_t i = 0; i < floats; i += 16) {  // one request per 64-byte line
        if (write) __builtin_prefetch(p + i, 1, 2);
        else __builtin_prefetch(p + i, 0, 2);
    }
}

// A [B, L, *] buffer holding H heads side by side: head h of batch b starts at
// data + b·L·row_stride + col + h·Dh, and its L rows are row_stride floats apart.
template <class T>
struct Heads {
    T* data;
    int64_t row_stride;  // floats from one row (position) to the next
    int64_t col;         // first column of head 0 (q, k, v sit at 0, D, 2D of a packed qkv)
    int64_t length;      // L: T for queries, S for keys and values
    T* at(int64_t b, int64_t h, int64_t Dh) const { return data + b * length * row_stride + col + h * Dh; }
};

// Asks the caches for the head (b, h) of `x`, ahead of its use. NOTE: a head is `length` pieces
// of Dh floats, row_stride apart (128 bytes every 512 or 1536 in the benchmark config): a stride
// the hardware prefetchers do not follow. Fetched when the head is reached, each piece was a miss
// that the products waited for (measured: asking one head ahead took a fifth off backward).
template <class T>
void prefetch_head(const Heads<T>& x, int64_t b, int64_t h, int64_t Dh) {
    for (int64_t r = 0; r < x.length; ++r) prefetch(x.at(b, h, Dh) + r * x.row_stride, Dh, !std::is_const_v<T>);
}

// Heads per chunk of the parallel loops: a run of consecutive heads per thread, so that the head
// each one prefetches is its own next one (with one head per chunk, the threads took turns and
// each prefetched the other's head: attention backward ran no faster on 2 threads than on 1),
// and about 8 chunks per thread, so that they finish together. Every head is computed alone,
// so the grain does not change a bit.
int64_t head_grain(int64_t heads) { return std::max<int64_t>(1, heads / (8 * num_threads())); }

// The sizes and options shared by forward and backward.
struct Problem {
    int64_t B, T, S, H, Dh;
    float scale;                // 1 / √Dh
    const float* padding;       // [B, S] or null
    const float* attn_mask;     // [T, S] or null
    MaskType attn_mask_type;
    bool is_causal;
    float p;                    // dropout probability; 0 = no dropout
    uint64_t seed, first;       // the dropout mask's Philox key and first counter
    int64_t blocks_per_head;    // ⌈T·S / 4⌉ counters per (b, h)
    int64_t mask_bytes;         // ⌈T·S / 8⌉ bytes of dropout mask per (b, h)
    bool zero_padding_queries;  // self-attention: the padding queries' outputs are 0
};

// Sets the masked scores of the first T rows of batch b's [·, S] block to -inf (or adds the
// additive mask). Only the first `live` columns were computed (see live_keys): the others are
// padding keys, set to -inf here, and the masks are applied to the live ones.
void apply_masks(float* scores, int64_t T, int64_t b, int64_t live, const Problem& pr) {
    const int64_t S = pr.S;
    for (int64_t i = 0; i < T; ++i) std::fill(scores + i * S + live, scores + (i + 1) * S, -INFINITY);
    if (pr.attn_mask) {
        for (int64_t i = 0; i < T; ++i)
            for (int64_t j = 0; j < live; ++j) {
                float& score = scores[i * S + j];
                const float mask = pr.attn_mask[i * S + j];
                if (pr.attn_mask_type == MaskType::Additive) score += mask;
                else if (mask != 0.0f) score = -INFINITY;
            }
    }
    if (pr.padding) {
        // the padding keys are the same for every query row: find them once
        const float* pad = pr.padding + b * S;
        for (int64_t j = 0; j < live; ++j)
            if (pad[j] != 0.0f)
                for (int64_t i = 0; i < T; ++i) scores[i * S + j] = -INFINITY;
    }
    if (pr.is_causal)
        for (int64_t i = 0; i < T; ++i)
            for (int64_t j = i + 1; j < live; ++j) scores[i * S + j] = -INFINITY;
}

// dst = dropout(src) for the first n weights of head bh's [T, S] block (n = T·S, or the rows
// computed), and their mask into `mask` (the head's mask_bytes). p == 1 drops everything: zeros,
// and the mask stays all 0.
void drop(float* dst, uint8_t* mask, const float* src, int64_t n, int64_t bh, const Problem& pr) {
    if (pr.p >= 1.0f) std::fill_n(dst, n, 0.0f);
    else
        dropout_forward(dst, src, n, pr.p, pr.seed, pr.first + static_cast<uint64_t>(bh * pr.blocks_per_head), mask);
}

// The keys of batch b that a query may attend to all lie in [0, live): every key from `live` on is
// padding. Right-padded batches (the usual case) skip those columns in every product: their
// weights are exactly 0, so they would only add zeros.
int64_t live_keys(int64_t b, const Problem& pr) {
    if (!pr.padding) return pr.S;
    const float* pad = pr.padding + b * pr.S;
    int64_t live = pr.S;
    while (live > 0 && pad[live - 1] != 0.0f) --live;
    return live;
}

// The query rows of a head whose gradient dO can be nonzero all lie in [0, rows): rows from
// `rows` on are exactly zero in dO (the rows of padding queries, when the loss ignores them, as
// masked pooling does). Such a row contributes nothing to backward: its dP' = dO Vᵀ and dS rows
// are 0, so its dQ row is 0 and it adds only zeros to dK and dV. Backward leaves these rows out of
// its products, which then give the same bits (adding a zero product never changes a sum).
int64_t live_queries(const float* dO, int64_t row_stride, int64_t T, int64_t Dh) {
    int64_t rows = T;
    while (rows > 0 && !any_nonzero(dO + (rows - 1) * row_stride, Dh)) --rows;  // (NaN is not zero: kept)
    return rows;
}

// Zeros rows [first, rows) of a head's [rows, Dh] rectangle (the gradients of padding keys).
void zero_rows(float* head, int64_t row_stride, int64_t first, int64_t rows, int64_t Dh) {
    for (int64_t r = first; r < rows; ++r) std::fill_n(head + r * row_stride, Dh, 0.0f);
}

// Forward of one (b, h): P[b, h] = softmax(masked scores), P' = dropout(P[b, h]) in scratch with
// its mask kept in mask[b, h] (when there is dropout), out's head = P' V. Only the first `live`
// keys enter the products; with zero_padding_queries only the first `live` queries too (the
// others are padding: self-attention), the out rows of the others are 0, and so are the P rows
// of the padding queries among the first `live`.
void forward_head(int64_t b, int64_t h, int64_t live, const Problem& pr, const Heads<const float>& q,
                  const Heads<const float>& k, const Heads<const float>& v, float* P, uint8_t* mask,
                  const Heads<float>& out) {
    const int64_t T = pr.T, S = pr.S, Dh = pr.Dh, bh = b * pr.H + h;
    const int64_t rows = pr.zero_padding_queries ? live : T;  // the query rows computed
    float* scores = thread_scratch(3, static_cast<size_t>(T * S));
    float* Pbh = P + bh * T * S;
    // scores = Q Kᵀ / √Dh for the live keys, masked (-inf for the rest); P = softmax over the keys
    gemm(false, true, rows, live, Dh, pr.scale, q.at(b, h, Dh), q.row_stride, k.at(b, h, Dh), k.row_stride, 0.0f,
         scores, S);
    apply_masks(scores, rows, b, live, pr);
    softmax_forward(Pbh, scores, rows, S);  // (P's rows from `rows` on are never read: backward leaves them out too)
    const float* pad = pr.zero_padding_queries ? pr.padding + b * S : nullptr;
    if (pad)  // the padding queries among the live ones: no weights, so an output row of 0, and no gradient
        for (int64_t i = 0; i < rows; ++i)
            if (pad[i] != 0.0f) std::fill_n(Pbh + i * S, S, 0.0f);
    // O = P' V, written into the head's columns of out
    const float* weights = Pbh;
    if (pr.p > 0.0f) {
        float* dropped = thread_scratch(5, static_cast<size_t>(T * S));
        drop(dropped, mask + bh * pr.mask_bytes, Pbh, rows * S, bh, pr);
        weights = dropped;
    }
    float* o = out.at(b, h, Dh);
    gemm(false, false, rows, Dh, live, 1.0f, weights, S, v.at(b, h, Dh), v.row_stride, 0.0f, o, out.row_stride);
    zero_rows(o, out.row_stride, rows, T, Dh);
}

// Backward of one (b, h): writes the head's rectangles of dq, dk, dv.
void backward_head(int64_t b, int64_t h, int64_t live, const Problem& pr, const Heads<const float>& q,
                   const Heads<const float>& k, const Heads<const float>& v, const float* P, const uint8_t* mask,
                   const Heads<const float>& dout, const Heads<float>& dq, const Heads<float>& dk,
                   const Heads<float>& dv) {
    const int64_t T = pr.T, S = pr.S, Dh = pr.Dh, bh = b * pr.H + h;
    const float* Pbh = P + bh * T * S;
    float* dS = thread_scratch(3, static_cast<size_t>(T * S));
    float* dweights = thread_scratch(4, static_cast<size_t>(T * S));  // dP', then dP
    const float* dO = dout.at(b, h, Dh);
    // the rows of dO that can be nonzero (see live_queries): the others are left out of every product
    // (with zero_padding_queries, the padding queries at the end get no gradient, whatever dO holds)
    const int64_t rows = live_queries(dO, dout.row_stride, pr.zero_padding_queries ? live : T, Dh);
    // P' of those rows, rebuilt from P and forward's mask: forward's bits (dropout_apply_mask)
    const float* Pd = Pbh;
    if (pr.p > 0.0f) {
        float* rebuilt = thread_scratch(5, static_cast<size_t>(T * S));
        dropout_apply_mask(rebuilt, Pbh, rows * S, pr.p, mask + bh * pr.mask_bytes);
        Pd = rebuilt;
    }
    // dV = P'ᵀ dO; the padding keys' rows get 0
    gemm(true, false, live, Dh, rows, 1.0f, Pd, S, dO, dout.row_stride, 0.0f, dv.at(b, h, Dh), dv.row_stride);
    zero_rows(dv.at(b, h, Dh), dv.row_stride, live, S, Dh);
    // dP' = dO Vᵀ (0 for the padding keys), then back through dropout: dP = dP' · m / (1 - p)
    gemm(false, true, rows, live, Dh, 1.0f, dO, dout.row_stride, v.at(b, h, Dh), v.row_stride, 0.0f, dweights, S);
    if (live < S)
        for (int64_t i = 0; i < rows; ++i) std::fill(dweights + i * S + live, dweights + (i + 1) * S, 0.0f);
    if (pr.p > 0.0f)  // the dropout op's backward map with forward's mask: dP = m · dP' / (1 - p)
        dropout_apply_mask(dweights, dweights, rows * S, pr.p, mask + bh * pr.mask_bytes);
    // dS = softmax backward (zero at masked keys, where P = 0)
    softmax_backward(dS, Pbh, dweights, rows, S);
    // dQ = dS K / √Dh,  dK = dSᵀ Q / √Dh (the padding keys' rows get 0, and so do the dQ rows of
    // the queries left out)
    gemm(false, false, rows, Dh, live, pr.scale, dS, S, k.at(b, h, Dh), k.row_stride, 0.0f, dq.at(b, h, Dh),
         dq.row_stride);
    zero_rows(dq.at(b, h, Dh), dq.row_stride, rows, T, Dh);
    gemm(true, false, live, Dh, rows, pr.scale, dS, S, q.at(b, h, Dh), q.row_stride, 0.0f, dk.at(b, h, Dh),
         dk.row_stride);
    zero_rows(dk.at(b, h, Dh), dk.row_stride, live, S, Dh);
}

// Validates the masks and dropout against B, T, S and fills the Problem (drawing the dropout
// counters from the generator).
Problem make_problem(const char* op, int64_t B, int64_t T, int64_t S, int64_t D, int64_t H,
                     const AttentionMasks& masks) {
    const Tensor& padding = masks.key_padding_mask;
    if (padding.defined())
        check(padding.shape() == Shape{B, S}, op, "key_padding_mask must have shape (B, S) = {}, got {}", Shape{B, S},
              padding.shape());
    const Tensor& attn_mask = masks.attn_mask;
    if (attn_mask.defined())
        check(attn_mask.shape() == Shape{T, S}, op, "attn_mask must have shape (T, S) = {}, got {}", Shape{T, S},
              attn_mask.shape());
    // NOTE: NaN fails both comparisons, so it is rejected too
    check(masks.dropout >= 0.0f && masks.dropout <= 1.0f, op, "dropout probability must be in [0, 1], got {}",
          masks.dropout);
    check(masks.dropout == 0.0f || masks.gen != nullptr, op, "dropout {} needs a generator, got none",
          masks.dropout);
    check(!masks.zero_padding_queries || padding.defined(), op, "zero_padding_queries needs a key_padding_mask");

    Problem pr{};
    pr.B = B, pr.T = T, pr.S = S, pr.H = H, pr.Dh = D / H;
    pr.scale = 1.0f / std::sqrt(static_cast<float>(pr.Dh));
    pr.padding = padding.defined() ? padding.data() : nullptr;
    pr.attn_mask = attn_mask.defined() ? attn_mask.data() : nullptr;
    pr.attn_mask_type = masks.attn_mask_type;
    pr.is_causal = masks.is_causal;
    pr.zero_padding_queries = masks.zero_padding_queries;
    pr.p = masks.dropout;
    pr.blocks_per_head = (T * S + 3) / 4;
    pr.mask_bytes = (T * S + 7) / 8;
    if (pr.p > 0.0f && pr.p < 1.0f) {
        pr.seed = masks.gen->seed();
        pr.first = masks.gen->reserve(static_cast<uint64_t>(B * H * pr.blocks_per_head));
    }
    return pr;
}

// Where the heads of q, k or v lie in the op's inputs (one packed tensor, or three).
struct Layout {
    size_t input;        // which input holds them
    int64_t row_stride;  // Heads::row_stride
    int64_t col;         // Heads::col
    int64_t length;      // Heads::length
};

template <class T>
Heads<T> heads(T* base, const Layout& l) {
    return {base, l.row_stride, l.col, l.length};
}

// The op behind attention() and self_attention(); the backward returns one gradient per input,
// laid out like it.
Tensor attention_op(const char* op, const std::vector<Tensor>& inputs, const Layout& lq, const Layout& lk,
                    const Layout& lv, Problem pr) {
    const int64_t B = pr.B, T = pr.T, H = pr.H, D = pr.H * pr.Dh;
    Tensor out = empty({B, T, D});
    Tensor P = empty({B, H, T, pr.S});
    // the dropout mask, 1 bit per weight, kept for backward (see the file header); all 0 for p == 1
    auto mask = pr.p > 0.0f ? std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(B * H * pr.mask_bytes))
                            : std::shared_ptr<std::vector<uint8_t>>();
    std::vector<int64_t> live(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) live[static_cast<size_t>(b)] = live_keys(b, pr);
    {
        const auto q = heads<const float>(inputs[lq.input].data(), lq);
        const auto k = heads<const float>(inputs[lk.input].data(), lk);
        const auto v = heads<const float>(inputs[lv.input].data(), lv);
        const Heads<float> o{out.data(), D, 0, T};
        uint8_t* m = mask ? mask->data() : nullptr;
        parallel_for(0, B * H, head_grain(B * H), [&](int64_t begin, int64_t end) {
            for (int64_t bh = begin; bh < end; ++bh) {
                if (bh + 1 < end) {  // the next head's inputs and output (see prefetch_head)
                    for (const auto* x : {&q, &k, &v}) prefetch_head(*x, (bh + 1) / H, (bh + 1) % H, pr.Dh);
                    prefetch_head(o, (bh + 1) / H, (bh + 1) % H, pr.Dh);
                }
                forward_head(bh / H, bh % H, live[static_cast<size_t>(bh / H)], pr, q, k, v, P.data(), m, o);
            }
        });
    }

    // backward needs P (masked entries are already 0), the dropout mask, the inputs and the live
    // key counts; not the attention masks
    pr.padding = pr.attn_mask = nullptr;
    record(out, op, inputs, [inputs, lq, lk, lv, pr, P, mask, live](const Tensor&, const Tensor& dout) -> Grads {
        // one gradient per input, shaped like it; every element is written by exactly one head
        Grads grads;
        for (const Tensor& x : inputs) grads.push_back(empty(x.shape()));
        const auto q = heads<const float>(inputs[lq.input].data(), lq);
        const auto k = heads<const float>(inputs[lk.input].data(), lk);
        const auto v = heads<const float>(inputs[lv.input].data(), lv);
        const auto dq = heads<float>(grads[lq.input].data(), lq);
        const auto dk = heads<float>(grads[lk.input].data(), lk);
        const auto dv = heads<float>(grads[lv.input].data(), lv);
        const Heads<const float> dO{dout.data(), pr.H * pr.Dh, 0, pr.T};
        const uint8_t* m = mask ? mask->data() : nullptr;
        parallel_for(0, pr.B * pr.H, head_grain(pr.B * pr.H), [&](int64_t begin, int64_t end) {
            for (int64_t bh = begin; bh < end; ++bh) {
                if (bh + 1 < end) {  // the next head's inputs, weights and gradients
                    const int64_t nb = (bh + 1) / pr.H, nh = (bh + 1) % pr.H, TS = pr.T * pr.S;
                    for (const auto* x : {&q, &k, &v, &dO}) prefetch_head(*x, nb, nh, pr.Dh);
                    for (const auto* x : {&dq, &dk, &dv}) prefetch_head(*x, nb, nh, pr.Dh);
                    prefetch(P.data() + (bh + 1) * TS, TS, false);
                }
                backward_head(bh / pr.H, bh % pr.H, live[static_cast<size_t>(bh / pr.H)], pr, q, k, v, P.data(), m,
                              dO, dq, dk, dv);
            }
        });
        return grads;
    });
    return out;
}

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads, const AttentionMasks& masks) {
    constexpr const char* op = "attention";
    check(q.defined() && k.defined() && v.defined(), op, "q, k or v is an undefined tensor");
    check(q.ndim() == 3, op, "q must have shape (B, T, D), got {}", q.shape());
    const int64_t B = q.size(0), T = q.size(1), D = q.size(2);
    check(num_heads > 0 && D % num_heads == 0, op, "D {} must be divisible by num_heads {}", D, num_heads);
    check(k.ndim() == 3 && k.size(0) == B && k.size(2) == D && v.shape() == k.shape(), op,
          "k and v must have the same shape (B, S, D) = ({}, S, {}), got k {} and v {}", B, D, k.shape(), v.shape());
    const int64_t S = k.size(1);
    check(T > 0 && S > 0 && B > 0, op, "empty input: q {}, k {}", q.shape(), k.shape());
    check(!masks.zero_padding_queries, op,
          "zero_padding_queries is for self_attention, where the key padding mask marks the queries too");
    Problem pr = make_problem(op, B, T, S, D, num_heads, masks);
    return attention_op(op, {q, k, v}, {0, D, 0, T}, {1, D, 0, S}, {2, D, 0, S}, pr);
}

Tensor self_attention(const Tensor& qkv, int64_t num_heads, const AttentionMasks& masks) {
    constexpr const char* op = "self_attention";
    check(qkv.defined(), op, "qkv is an undefined tensor");
    check(qkv.ndim() == 3 && qkv.size(2) % 3 == 0, op, "qkv must have shape (B, T, 3D), got {}", qkv.shape());
    const int64_t B = qkv.size(0), T = qkv.size(1), D = qkv.size(2) / 3;
    check(num_heads > 0 && D % num_heads == 0, op, "D {} must be divisible by num_heads {}", D, num_heads);
    check(T > 0 && B > 0 && D > 0, op, "empty input: qkv {}", qkv.shape());
    Problem pr = make_problem(op, B, T, T, D, num_heads, masks);
    return attention_op(op, {qkv}, {0, 3 * D, 0, T}, {0, 3 * D, D, T}, {0, 3 * D, 2 * D, T}, pr);
}

}  // namespace ag
