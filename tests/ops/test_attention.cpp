// test_attention.cpp: the fused attention op (ops/attention.hpp) against hand-computed values,
// against the same formulas composed from ops (forward, gradients and dropout masks), gradcheck,
// masking, thread-count independence and its errors.
#include "testing.hpp"

#include <cmath>
#include <cstring>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {

// The formulas of ops/attention.hpp composed from ops, head by head as nn/attention.cpp's
// need_weights path does: the oracle for the fused op.
Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t H, const AttentionMasks& m) {
    const int64_t B = q.size(0), T = q.size(1), S = k.size(1), D = q.size(2), Dh = D / H;
    auto split = [&](const Tensor& x, int64_t L) { return permute(reshape(x, {B, L, H, Dh}), {0, 2, 1, 3}); };
    Tensor scores = matmul(split(q, T), transpose(split(k, S), 2, 3)) * (1.0f / std::sqrt(float(Dh)));
    if (m.attn_mask.defined())
        scores = m.attn_mask_type == MaskType::Boolean ? masked_fill(scores, m.attn_mask, -INFINITY) : scores + m.attn_mask;
    if (m.key_padding_mask.defined()) scores = masked_fill(scores, reshape(m.key_padding_mask, {B, 1, 1, S}), -INFINITY);
    if (m.is_causal) {
        Tensor causal = zeros({T, S});
        for (int64_t i = 0; i < T; ++i)
            for (int64_t j = i + 1; j < S; ++j) causal.data()[i * S + j] = 1.0f;
        scores = masked_fill(scores, causal, -INFINITY);
    }
    Tensor weights = softmax(scores);
    if (m.dropout > 0.0f) weights = dropout(weights, m.dropout, true, *m.gen);
    return reshape(permute(matmul(weights, split(v, S)), {0, 2, 1, 3}), {B, T, D});
}

// A [B, S] padding mask with the last `pad[b]` keys of row b padded.
Tensor padding_mask(int64_t B, int64_t S, std::vector<int64_t> pad) {
    Tensor m = zeros({B, S});
    for (int64_t b = 0; b < B; ++b)
        for (int64_t j = S - pad[b]; j < S; ++j) m.data()[b * S + j] = 1.0f;
    return m;
}

// Forward and the gradients of a weighted sum, for comparing two implementations.
std::vector<Tensor> value_and_grads(const std::function<Tensor()>& f, const std::vector<Tensor>& inputs) {
    for (const Tensor& x : inputs) x.zero_grad();
    Tensor out = f();
    Tensor w = param(out.shape(), 77);
    sum(out * w.detach()).backward();
    std::vector<Tensor> result{out.detach()};
    for (const Tensor& x : inputs) result.push_back(clone_data(x.grad()));
    return result;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

}  // namespace

TEST_CASE("attention: hand-computed values with and without masks") {
    // B = 1, T = S = 2, D = 1, one head (scale 1/√1 = 1): q = [1, 0], k = [1, 2], v = [10, 20]
    Tensor q = tensor({1.0f, 0.0f}, {1, 2, 1}), k = tensor({1.0f, 2.0f}, {1, 2, 1}), v = tensor({10.0f, 20.0f}, {1, 2, 1});
    // row 0: scores [1, 2] -> softmax [1/(1+e), e/(1+e)] = [0.26894, 0.73106] -> 10·0.26894 + 20·0.73106
    // row 1: scores [0, 0] -> [0.5, 0.5] -> 15
    check_close(attention(q, k, v, 1), tensor({17.310586f, 15.0f}, {1, 2, 1}));
    // key 1 padded: both rows see only v = 10
    AttentionMasks pad;
    pad.key_padding_mask = tensor({0.0f, 1.0f}, {1, 2});
    check_close(attention(q, k, v, 1, pad), tensor({10.0f, 10.0f}, {1, 2, 1}));
    // causal: row 0 sees key 0 only (10); row 1 both keys (15)
    AttentionMasks causal;
    causal.is_causal = true;
    check_close(attention(q, k, v, 1, causal), tensor({10.0f, 15.0f}, {1, 2, 1}));
    // additive mask +ln 3 on key 0 of row 1: weights [3/4, 1/4] -> 12.5
    AttentionMasks additive;
    additive.attn_mask = tensor({0.0f, 0.0f, std::log(3.0f), 0.0f}, {2, 2});
    additive.attn_mask_type = MaskType::Additive;
    check_close(attention(q, k, v, 1, additive), tensor({17.310586f, 12.5f}, {1, 2, 1}), 1e-5f, 1e-5f);
}

TEST_CASE("attention: matches the composed ops, forward and gradients, on awkward shapes and masks") {
    struct Case { int64_t B, T, S, D, H; };
    for (Case c : {Case{1, 1, 1, 4, 1}, Case{2, 7, 5, 12, 3}, Case{3, 9, 9, 8, 2}, Case{2, 17, 33, 6, 6}}) {
        INFO("B T S D H = ", c.B, " ", c.T, " ", c.S, " ", c.D, " ", c.H);
        Tensor q = param({c.B, c.T, c.D}, 1), k = param({c.B, c.S, c.D}, 2), v = param({c.B, c.S, c.D}, 3);
        std::vector<AttentionMasks> variants(6);
        variants[1].key_padding_mask = padding_mask(c.B, c.S, std::vector<int64_t>(c.B, c.S / 2));
        variants[2].is_causal = true;
        variants[3].attn_mask = tensor(param({c.T, c.S}, 4).detach().to_vector(), {c.T, c.S});
        variants[3].attn_mask_type = MaskType::Additive;
        Tensor boolean = zeros({c.T, c.S});
        for (int64_t i = 0; i < c.T * c.S; i += 3) boolean.data()[i] = 1.0f;
        variants[4].attn_mask = boolean;
        variants[4].key_padding_mask = padding_mask(c.B, c.S, std::vector<int64_t>(c.B, 1));
        // padding that is not at the end of the row: key 0 and the middle key (none is skipped)
        Tensor inner = zeros({c.B, c.S});
        for (int64_t b = 0; b < c.B; ++b) inner.data()[b * c.S] = inner.data()[b * c.S + c.S / 2] = 1.0f;
        if (c.S > 2) variants[5].key_padding_mask = inner;
        for (size_t i = 0; i < variants.size(); ++i) {
            CAPTURE(i);
            const AttentionMasks& m = variants[i];
            auto fused = value_and_grads([&] { return attention(q, k, v, c.H, m); }, {q, k, v});
            auto composed = value_and_grads([&] { return composed_attention(q, k, v, c.H, m); }, {q, k, v});
            for (size_t j = 0; j < fused.size(); ++j) check_close(fused[j], composed[j], 1e-4f, 1e-5f);
        }
    }
}

TEST_CASE("attention: self_attention on packed qkv equals attention on its three slices") {
    const int64_t B = 2, T = 7, D = 12, H = 3;
    Tensor qkv = param({B, T, 3 * D}, 5);
    AttentionMasks m;
    m.key_padding_mask = padding_mask(B, T, {2, 0});
    auto packed = value_and_grads([&] { return self_attention(qkv, H, m); }, {qkv});
    auto split = value_and_grads(
        [&] { return attention(narrow(qkv, 2, 0, D), narrow(qkv, 2, D, D), narrow(qkv, 2, 2 * D, D), H, m); }, {qkv});
    check_close(packed[0], split[0], 1e-5f, 1e-6f);
    check_close(packed[1], split[1], 1e-5f, 1e-6f);
}

TEST_CASE("attention: dropout draws the composed dropout's mask when T·S is a multiple of 4") {
    const int64_t B = 2, T = 4, S = 6, D = 8, H = 2;
    Tensor q = param({B, T, D}, 6), k = param({B, S, D}, 7), v = param({B, S, D}, 8);
    Generator g1(31), g2(31);
    AttentionMasks m1, m2;
    m1.dropout = m2.dropout = 0.4f;
    m1.gen = &g1, m2.gen = &g2;
    m1.key_padding_mask = m2.key_padding_mask = padding_mask(B, S, {1, 3});
    auto fused = value_and_grads([&] { return attention(q, k, v, H, m1); }, {q, k, v});
    auto composed = value_and_grads([&] { return composed_attention(q, k, v, H, m2); }, {q, k, v});
    for (size_t j = 0; j < fused.size(); ++j) check_close(fused[j], composed[j], 1e-4f, 1e-5f);
    CHECK(g1.offset() == g2.offset());
    // and something was dropped: without dropout the output differs
    CHECK_FALSE(allclose(fused[0], attention(q, k, v, H, {}).detach(), 1e-3f, 1e-3f));
}

TEST_CASE("attention: leaving trailing padding keys out of the products changes no bit") {
    // The op skips the padding keys at the end of each row (their weights are exactly 0). The same
    // keys masked through attn_mask are not skipped: both must give the same bits, with dropout too.
    const int64_t B = 3, T = 9, S = 11, D = 8, H = 2, padded = 4;
    Tensor q = param({B, T, D}, 40), k = param({B, S, D}, 41), v = param({B, S, D}, 42);
    Generator g1(5), g2(5);
    AttentionMasks by_padding, by_attn_mask;
    by_padding.key_padding_mask = padding_mask(B, S, std::vector<int64_t>(B, padded));
    Tensor columns = zeros({T, S});
    for (int64_t i = 0; i < T; ++i)
        for (int64_t j = S - padded; j < S; ++j) columns.data()[i * S + j] = 1.0f;
    by_attn_mask.attn_mask = columns;
    by_padding.dropout = by_attn_mask.dropout = 0.25f;
    by_padding.gen = &g1, by_attn_mask.gen = &g2;
    auto skipped = value_and_grads([&] { return attention(q, k, v, H, by_padding); }, {q, k, v});
    auto full = value_and_grads([&] { return attention(q, k, v, H, by_attn_mask); }, {q, k, v});
    for (size_t j = 0; j < skipped.size(); ++j) CHECK(bitwise_equal(skipped[j], full[j]));
    // the padding keys get exactly zero gradients
    for (int64_t b = 0; b < B; ++b)
        for (int64_t j = S - padded; j < S; ++j)
            for (int64_t d = 0; d < D; ++d) {
                CHECK(skipped[2].at({b, j, d}) == 0.0f);
                CHECK(skipped[3].at({b, j, d}) == 0.0f);
            }
}

TEST_CASE("attention: leaving the zero rows at the end of dO out of backward changes no bit") {
    // Backward skips the query rows at the end of a head whose dO is exactly zero (a padding query
    // when the loss ignores it). The oracle is the same problem with one more query row whose dO is
    // not zero, so that nothing is skipped, and whose keys are all masked: its weights are 0, so it
    // adds exact zeros to dk and dv. Both runs must give the same bits for the first T rows.
    // (B = H = 1 keeps the dropout mask of the first T rows the same with T + 1 rows.)
    struct Case {
        int64_t B, H;
        float p;
    };
    for (Case c : {Case{1, 1, 0.25f}, Case{2, 2, 0.0f}}) {
        CAPTURE(c.H);
        const int64_t T = 7, S = 9, D = 4, zero_rows = 3;
        Tensor q = param({c.B, T + 1, D}, 50), k = param({c.B, S, D}, 51), v = param({c.B, S, D}, 52);
        Tensor mask = zeros({T + 1, S});
        for (int64_t j = 0; j < S; ++j) mask.data()[T * S + j] = 1.0f;  // the extra row sees no key
        Tensor dout = param({c.B, T + 1, D}, 53).detach();
        for (int64_t b = 0; b < c.B; ++b)
            for (int64_t i = T - zero_rows; i < T; ++i)
                for (int64_t d = 0; d < D; ++d) dout.data()[(b * (T + 1) + i) * D + d] = 0.0f;

        auto run = [&](int64_t rows) {  // the first `rows` queries: T (skipped) or T + 1 (oracle)
            Tensor qr = clone_data(narrow(q, 1, 0, rows)), kr = clone_data(k), vr = clone_data(v);
            for (Tensor* x : {&qr, &kr, &vr}) x->requires_grad_();
            Generator gen(9);
            AttentionMasks m;
            m.attn_mask = clone_data(narrow(mask, 0, 0, rows));
            m.dropout = c.p, m.gen = &gen;
            Tensor out = attention(qr, kr, vr, c.H, m);
            out.backward(clone_data(narrow(dout, 1, 0, rows)));
            return std::vector<Tensor>{narrow(out.detach(), 1, 0, T), narrow(qr.grad(), 1, 0, T), kr.grad(),
                                       vr.grad()};
        };
        auto skipped = run(T), full = run(T + 1);
        for (size_t j = 0; j < skipped.size(); ++j) CHECK(bitwise_equal(clone_data(skipped[j]), clone_data(full[j])));
        // the skipped queries' gradients are zeros
        for (int64_t b = 0; b < c.B; ++b)
            for (int64_t i = T - zero_rows; i < T; ++i)
                for (int64_t d = 0; d < D; ++d) CHECK(skipped[1].at({b, i, d}) == 0.0f);
    }
}

TEST_CASE("self_attention: zero_padding_queries gives 0 and no gradient at padding queries; the rest keep their bits") {
    // Padding at the end of sequence 0, in the middle and at the end of 1, none in 2. The oracle
    // is the default op with dO zeroed at the padding queries: the flag must give its outputs at
    // the real queries and its gradients bit for bit, with 0 at the padding queries, even though
    // its dO there is not zero (it must be ignored). With and without dropout.
    const int64_t B = 3, T = 9, D = 8, H = 2;
    Tensor pad = zeros({B, T});
    for (int64_t t : {6, 7, 8}) pad.data()[0 * T + t] = 1.0f;
    for (int64_t t : {3, 8}) pad.data()[1 * T + t] = 1.0f;
    Tensor qkv = param({B, T, 3 * D}, 60);
    Tensor dout = param({B, T, D}, 61).detach(), dout_real = clone_data(dout);
    for (int64_t n = 0; n < B * T; ++n)
        if (pad.data()[n] != 0.0f) std::fill_n(dout_real.data() + n * D, D, 0.0f);
    for (float p : {0.0f, 0.3f}) {
        CAPTURE(p);
        auto run = [&](bool zero_padding) {
            qkv.zero_grad();
            Generator gen(62);
            AttentionMasks m;
            m.key_padding_mask = pad;
            m.dropout = p, m.gen = &gen;
            m.zero_padding_queries = zero_padding;
            Tensor out = self_attention(qkv, H, m);
            out.backward(zero_padding ? dout : dout_real);
            return std::vector<Tensor>{out.detach(), clone_data(qkv.grad())};
        };
        const std::vector<Tensor> plain = run(false), zeroed = run(true);
        int64_t bad = 0;
        for (int64_t n = 0; n < B * T; ++n)
            for (int64_t c = 0; c < D; ++c)
                bad += zeroed[0].data()[n * D + c] != (pad.data()[n] != 0.0f ? 0.0f : plain[0].data()[n * D + c]);
        CHECK(bad == 0);
        CHECK(bitwise_equal(zeroed[1], plain[1]));
        for (int64_t n = 0; n < B * T; ++n)  // a padding query's q gets no gradient
            if (pad.data()[n] != 0.0f)
                for (int64_t c = 0; c < D; ++c) CHECK(zeroed[1].data()[n * 3 * D + c] == 0.0f);
    }
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& x) {
            AttentionMasks m;
            m.key_padding_mask = pad;
            m.zero_padding_queries = true;
            return self_attention(x[0], H, m);
        },
        {param({B, T, 3 * D}, 63)});
}

TEST_CASE("attention: gradcheck with masks and dropout") {
    const int64_t B = 2, T = 3, S = 5, D = 4, H = 2;
    Tensor q = param({B, T, D}, 9), k = param({B, S, D}, 10), v = param({B, S, D}, 11);
    Tensor pad = padding_mask(B, S, {1, 2});
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& x) {
            AttentionMasks m;
            m.key_padding_mask = pad;
            return attention(x[0], x[1], x[2], H, m);
        },
        {q, k, v});
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& x) {
            AttentionMasks m;
            m.is_causal = true;
            Generator gen(3);  // the same mask on every call
            m.dropout = 0.3f, m.gen = &gen;
            return attention(x[0], x[1], x[2], H, m);
        },
        {q, k, v});
    Tensor qkv = param({B, T, 3 * D}, 12);
    CHECK_GRADCHECK([&](const std::vector<Tensor>& x) { return self_attention(x[0], 1); }, {qkv});
}

TEST_CASE("attention: a query with every key masked gives zeros and zero gradients, never NaN") {
    Tensor q = param({1, 2, 4}, 13), k = param({1, 3, 4}, 14), v = param({1, 3, 4}, 15);
    AttentionMasks m;
    m.key_padding_mask = ones({1, 3});
    Tensor out = attention(q, k, v, 2, m);
    sum(out).backward();
    for (const Tensor& t : {out.detach(), q.grad(), k.grad(), v.grad()})
        for (float x : t.to_vector()) CHECK(x == 0.0f);
}

TEST_CASE("attention: the same bits with 1, 2 and 3 threads") {
    const int64_t B = 4, T = 33, D = 64, H = 4;
    Tensor qkv = param({B, T, 3 * D}, 16);
    std::vector<std::vector<Tensor>> runs;
    const int before = num_threads();
    for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        Generator gen(8);
        AttentionMasks m;
        m.key_padding_mask = padding_mask(B, T, {0, 5, 16, 32});
        m.dropout = 0.1f, m.gen = &gen;
        runs.push_back(value_and_grads([&] { return self_attention(qkv, H, m); }, {qkv}));
    }
    set_num_threads(before);
    for (size_t r = 1; r < runs.size(); ++r)
        for (size_t j = 0; j < runs[0].size(); ++j) CHECK(bitwise_equal(runs[0][j], runs[r][j]));
}

TEST_CASE("attention: errors name the op and the offending shapes or values") {
    Tensor q = zeros({2, 3, 4}), k = zeros({2, 5, 4});
    CHECK(error_of([&] { attention(q, k, k, 3); }) == "[attention] D 4 must be divisible by num_heads 3");
    CHECK(error_of([&] { attention(q, k, zeros({2, 4, 4}), 2); }) ==
          "[attention] k and v must have the same shape (B, S, D) = (2, S, 4), got k (2, 5, 4) and v (2, 4, 4)");
    CHECK(error_of([&] { attention(zeros({3, 4}), k, k, 2); }) == "[attention] q must have shape (B, T, D), got (3, 4)");
    AttentionMasks bad_pad;
    bad_pad.key_padding_mask = zeros({2, 3});
    CHECK(error_of([&] { attention(q, k, k, 2, bad_pad); }) ==
          "[attention] key_padding_mask must have shape (B, S) = (2, 5), got (2, 3)");
    AttentionMasks bad_mask;
    bad_mask.attn_mask = zeros({5, 3});
    CHECK(error_of([&] { attention(q, k, k, 2, bad_mask); }) ==
          "[attention] attn_mask must have shape (T, S) = (3, 5), got (5, 3)");
    AttentionMasks no_gen;
    no_gen.dropout = 0.5f;
    CHECK(error_of([&] { attention(q, k, k, 2, no_gen); }) == "[attention] dropout 0.5 needs a generator, got none");
    Generator gen(1);
    AttentionMasks bad_p;
    bad_p.dropout = NAN, bad_p.gen = &gen;
    CHECK(error_of([&] { attention(q, k, k, 2, bad_p); }) == "[attention] dropout probability must be in [0, 1], got nan");
    CHECK(error_of([&] { self_attention(zeros({2, 3, 10}), 2); }) ==
          "[self_attention] qkv must have shape (B, T, 3D), got (2, 3, 10)");
    CHECK(error_of([&] { self_attention(zeros({0, 3, 12}), 2); }) == "[self_attention] empty input: qkv (0, 3, 12)");
    AttentionMasks zero_padding;
    zero_padding.zero_padding_queries = true;
    CHECK(error_of([&] { self_attention(zeros({2, 3, 12}), 2, zero_padding); }) ==
          "[self_attention] zero_padding_queries needs a key_padding_mask");
    zero_padding.key_padding_mask = zeros({2, 5});
    CHECK(error_of([&] { attention(q, k, k, 2, zero_padding); }) ==
          "[attention] zero_padding_queries is for self_attention, where the key padding mask marks the queries too");
}
