// test_attention.cpp: MultiHeadAttention against hand-computed cases and a plain-loop reference,
// every mask, the returned weights, dropout, gradcheck, initialisation, names and errors.
#include "testing.hpp"

#include "nn/attention.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace ag;
using ag::testing::assign;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {

// An attention with identity projections and zero biases (D = 2, one head): output = softmax(x xᵀ / √2) x.
MultiHeadAttention identity_attention(Generator& gen) {
    MultiHeadAttention mha(2, 1, gen);
    assign(mha.in_proj_weight(), tensor({1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1}, Shape{6, 2}));
    assign(mha.out_proj().weight(), tensor({{1, 0}, {0, 1}}));
    return mha;
}

// The formulas of attention.hpp as plain loops in double, independent of every op:
// returns the output [B, T, D] and the per-head weights [B, H, T, S].
struct Reference {
    Tensor output;
    Tensor weights;
};
Reference attention_reference(MultiHeadAttention& mha, const Tensor& query, const Tensor& key, const Tensor& value,
                              const AttentionOptions& options) {
    const int64_t B = query.size(0), T = query.size(1), S = key.size(1), D = mha.embed_dim(), H = mha.num_heads();
    const int64_t Dh = D / H;
    const Tensor &w = mha.in_proj_weight(), &b = mha.in_proj_bias();
    // projection `which` (0 q, 1 k, 2 v) of row x[n, t]: x W[which·D + c]ᵀ + b[which·D + c]
    auto project = [&](const Tensor& x, int which, int64_t n, int64_t t, int64_t c) {
        double acc = b.defined() ? b.data()[which * D + c] : 0.0;
        for (int64_t e = 0; e < D; ++e) acc += double(x.at({n, t, e})) * w.at({which * D + c, e});
        return acc;
    };
    Tensor heads = zeros({B, T, D});  // attention output before out_proj, heads side by side
    Tensor weights = zeros({B, H, T, S});
    for (int64_t n = 0; n < B; ++n)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < T; ++i) {
                // scores of query i against every key, masked
                std::vector<double> s(S);
                for (int64_t j = 0; j < S; ++j) {
                    double dot = 0;
                    for (int64_t d = 0; d < Dh; ++d)
                        dot += project(query, 0, n, i, h * Dh + d) * project(key, 1, n, j, h * Dh + d);
                    s[j] = dot / std::sqrt(double(Dh));
                    if (options.attn_mask.defined()) {
                        const float m = options.attn_mask.at({i, j});
                        if (options.attn_mask_type == MaskType::Additive) s[j] += m;
                        else if (m != 0) s[j] = -INFINITY;
                    }
                    const Tensor& padding = options.key_padding_mask;
                    if (padding.defined() && padding.at({n, j}) != 0) s[j] = -INFINITY;
                    if (options.is_causal && j > i) s[j] = -INFINITY;
                }
                // softmax; a row with every key masked stays zero
                double top = -INFINITY, total = 0;
                for (double v : s) top = std::max(top, v);
                if (top == -INFINITY) continue;
                for (double& v : s) total += (v = std::exp(v - top));
                for (int64_t j = 0; j < S; ++j) {
                    weights.at({n, h, i, j}) = float(s[j] / total);
                    for (int64_t d = 0; d < Dh; ++d)
                        heads.at({n, i, h * Dh + d}) += float(s[j] / total * project(value, 2, n, j, h * Dh + d));
                }
            }
    // out_proj
    Tensor output = zeros({B, T, D});
    const Tensor &wo = mha.out_proj().weight(), &bo = mha.out_proj().bias();
    for (int64_t n = 0; n < B; ++n)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t c = 0; c < D; ++c) {
                double acc = bo.defined() ? bo.data()[c] : 0.0;
                for (int64_t e = 0; e < D; ++e) acc += double(heads.at({n, t, e})) * wo.at({c, e});
                output.at({n, t, c}) = float(acc);
            }
    return {output, weights};
}

// Biases that are not zero, so the reference also checks where they are added.
void randomise_biases(MultiHeadAttention& mha, uint64_t seed) {
    Generator gen(seed);
    if (mha.in_proj_bias().defined()) assign(mha.in_proj_bias(), randn(mha.in_proj_bias().shape(), gen));
    if (mha.out_proj().bias().defined()) assign(mha.out_proj().bias(), randn(mha.out_proj().bias().shape(), gen));
}

}  // namespace

TEST_CASE("MultiHeadAttention with identity projections (hand-computed)") {
    // x = ((1, 0), (0, 1)): q = k = v = x, scores = x xᵀ / √2 = ((a, 0), (0, a)) with a = 1/√2.
    // softmax((a, 0)) = (σ(a), 1 - σ(a)) = (0.669761, 0.330239), σ the logistic function
    Generator gen(0);
    MultiHeadAttention mha = identity_attention(gen);
    Tensor x = tensor({1, 0, 0, 1}, Shape{1, 2, 2});
    const float p = 1.0f / (1.0f + std::exp(-1.0f / std::sqrt(2.0f)));
    REQUIRE(p == doctest::Approx(0.669761));

    SUBCASE("no mask: each query leans towards itself") {
        AttentionOutput out = mha(x, {.need_weights = true});
        check_close(out.output, tensor({p, 1 - p, 1 - p, p}, Shape{1, 2, 2}));
        check_close(out.weights, tensor({p, 1 - p, 1 - p, p}, Shape{1, 2, 2}));
    }
    SUBCASE("causal: query 0 sees key 0 only") {
        check_close(mha(x, {.is_causal = true}).output, tensor({1, 0, 1 - p, p}, Shape{1, 2, 2}));
    }
    SUBCASE("a Boolean attn_mask forbidding key 1 to query 0 is the causal mask") {
        AttentionOptions options{.attn_mask = tensor({{0, 1}, {0, 0}})};
        check_close(mha(x, options).output, tensor({1, 0, 1 - p, p}, Shape{1, 2, 2}));
    }
    SUBCASE("an Additive attn_mask: -inf forbids, a bias shifts") {
        // query 1's scores (0, a) + (a, 0) = (a, a): equal weights (0.5, 0.5)
        AttentionOptions options{.attn_mask = tensor({{0, -INFINITY}, {1.0f / std::sqrt(2.0f), 0}}),
                                 .attn_mask_type = MaskType::Additive};
        check_close(mha(x, options).output, tensor({1, 0, 0.5f, 0.5f}, Shape{1, 2, 2}));
    }
    SUBCASE("a padding key is ignored by every query") {
        check_close(mha(x, {.key_padding_mask = tensor({{0, 1}})}).output, tensor({1, 0, 1, 0}, Shape{1, 2, 2}));
    }
    SUBCASE("every key padding: zero weights and zero output, not NaN") {
        AttentionOutput out = mha(x, {.key_padding_mask = tensor({{1, 1}}), .need_weights = true});
        check_close(out.output, zeros({1, 2, 2}), 0.0f, 0.0f);
        check_close(out.weights, zeros({1, 2, 2}), 0.0f, 0.0f);
    }
}

TEST_CASE("MultiHeadAttention matches a plain-loop reference (B=2, T=3, S=4, D=4, H=2)") {
    Generator gen(1);
    MultiHeadAttention mha(4, 2, gen);
    randomise_biases(mha, 2);
    Tensor query = randn({2, 3, 4}, gen), key = randn({2, 4, 4}, gen), value = randn({2, 4, 4}, gen);

    std::vector<AttentionOptions> cases(5);
    cases[1].key_padding_mask = tensor({{0, 0, 1, 0}, {1, 0, 0, 1}});
    cases[2].is_causal = true;  // T = 3 < S = 4: query i sees keys 0..i
    cases[3].attn_mask = tensor({{0, 1, 0, 0}, {1, 1, 1, 1}, {0, 0, 0, 1}});  // query 1 sees nothing
    cases[4].attn_mask = tensor({{0.5f, -1, 0, 2}, {0, 0, -INFINITY, 0}, {1, 1, 1, -3}});
    cases[4].attn_mask_type = MaskType::Additive;
    cases[4].key_padding_mask = cases[1].key_padding_mask;
    for (size_t c = 0; c < cases.size(); ++c) {
        CAPTURE(c);
        AttentionOptions options = cases[c];
        options.need_weights = true;
        options.average_weights = false;
        AttentionOutput out = mha.forward(query, key, value, options);
        Reference expected = attention_reference(mha, query, key, value, options);
        check_close(out.output, expected.output, 1e-5f, 1e-5f);
        check_close(out.weights, expected.weights, 1e-5f, 1e-6f);
    }

    SUBCASE("self-attention: the fused projection equals three separate ones") {
        Tensor x = randn({2, 3, 4}, gen);
        Reference expected = attention_reference(mha, x, x, x, {.is_causal = true});
        check_close(mha(x, {.is_causal = true}).output, expected.output, 1e-5f, 1e-5f);
        check_close(mha.forward(x, clone_data(x), clone_data(x), {.is_causal = true}).output, expected.output, 1e-5f,
                    1e-5f);
    }
    SUBCASE("without bias") {
        MultiHeadAttention plain(4, 2, gen, 0.0f, false);
        CHECK_FALSE(plain.in_proj_bias().defined());
        CHECK_FALSE(plain.out_proj().bias().defined());
        Reference expected = attention_reference(plain, query, key, value, cases[1]);
        check_close(plain.forward(query, key, value, cases[1]).output, expected.output, 1e-5f, 1e-5f);
    }
}

TEST_CASE("MultiHeadAttention returns weights per head or averaged") {
    Generator gen(3);
    MultiHeadAttention mha(4, 2, gen);
    Tensor x = randn({2, 3, 4}, gen);
    CHECK_FALSE(mha(x).weights.defined());  // not asked for
    Tensor per_head = mha(x, {.need_weights = true, .average_weights = false}).weights;
    Tensor averaged = mha(x, {.need_weights = true}).weights;
    CHECK(per_head.shape() == Shape{2, 2, 3, 3});
    CHECK(averaged.shape() == Shape{2, 3, 3});
    check_close(averaged, mean(per_head, {1}), 0.0f, 0.0f);
    // each query's weights are a distribution over the keys
    check_close(sum(per_head, {3}), ones({2, 2, 3}), 1e-6f, 1e-6f);
    // causal: nothing above the diagonal
    Tensor causal = mha(x, {.is_causal = true, .need_weights = true}).weights;
    for (int64_t n = 0; n < 2; ++n)
        for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = i + 1; j < 3; ++j) CHECK(causal.at({n, i, j}) == 0.0f);
}

TEST_CASE("MultiHeadAttention dropout: only in training, from its generator") {
    Generator gen(4);
    MultiHeadAttention mha(4, 2, gen, 0.5f);
    Tensor x = randn({2, 3, 4}, gen);
    const uint64_t offset = gen.offset();

    // training: the weights are dropped (zeros, or scaled by 2) and new masks are drawn each call
    Tensor dropped = mha(x, {.need_weights = true, .average_weights = false}).weights;
    CHECK(gen.offset() > offset);
    int64_t zero_count = 0;
    for (float w : dropped.to_vector()) zero_count += w == 0.0f;
    CHECK(zero_count > 0);
    CHECK(mha(x).output.to_vector() != mha(x).output.to_vector());

    // evaluation: deterministic, nothing drawn, and rows sum to 1 again
    mha.eval();
    const uint64_t eval_offset = gen.offset();
    Tensor first = mha(x).output;
    CHECK(first.to_vector() == mha(x).output.to_vector());
    CHECK(gen.offset() == eval_offset);
    check_close(sum(mha(x, {.need_weights = true, .average_weights = false}).weights, {3}), ones({2, 2, 3}), 1e-6f,
                1e-6f);
}

TEST_CASE("MultiHeadAttention gradcheck (B=2, T=3, D=4, H=2)") {
    Generator gen(5);
    MultiHeadAttention mha(4, 2, gen);
    randomise_biases(mha, 6);
    std::vector<Tensor> params = mha.parameters();

    SUBCASE("self-attention with a key padding mask") {
        std::vector<Tensor> inputs = {param({2, 3, 4}, 7)};
        inputs.insert(inputs.end(), params.begin(), params.end());
        AttentionOptions options{.key_padding_mask = tensor({{0, 0, 1}, {0, 1, 0}})};
        CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return mha(in[0], options).output; }, inputs);
    }
    SUBCASE("self-attention, causal, weights as an output too") {
        std::vector<Tensor> inputs = {param({2, 3, 4}, 8)};
        inputs.insert(inputs.end(), params.begin(), params.end());
        CHECK_GRADCHECK(
            [&](const std::vector<Tensor>& in) {
                AttentionOutput out = mha(in[0], {.is_causal = true, .need_weights = true});
                return concat({reshape(out.output, {-1}), reshape(out.weights, {-1})}, 0);
            },
            inputs);
    }
    SUBCASE("cross-attention: T = 3 queries over S = 2 keys, additive mask") {
        std::vector<Tensor> inputs = {param({2, 3, 4}, 9), param({2, 2, 4}, 10), param({2, 2, 4}, 11)};
        inputs.insert(inputs.end(), params.begin(), params.end());
        AttentionOptions options{.attn_mask = tensor({{0, 0.5f}, {-1, 0}, {0, 0}}),
                                 .attn_mask_type = MaskType::Additive};
        CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return mha.forward(in[0], in[1], in[2], options).output; },
                        inputs);
    }
}

TEST_CASE("MultiHeadAttention parameters: PyTorch's names, shapes and initialisation") {
    Generator gen(6);
    MultiHeadAttention mha(64, 4, gen);
    std::vector<NamedTensor> named = mha.named_parameters();
    REQUIRE(named.size() == 4);
    CHECK(named[0].name == "in_proj_weight");
    CHECK(named[0].tensor.shape() == Shape{192, 64});
    CHECK(named[1].name == "in_proj_bias");
    CHECK(named[1].tensor.shape() == Shape{192});
    CHECK(named[2].name == "out_proj.weight");
    CHECK(named[2].tensor.shape() == Shape{64, 64});
    CHECK(named[3].name == "out_proj.bias");
    CHECK(mha.num_parameters() == 4 * 64 * 64 + 4 * 64);

    // uniform tensors fill their range: [-bound, bound) with extremes within 3% of it
    auto check_uniform = [](const Tensor& t, float bound) {
        std::vector<float> v = t.to_vector();
        const float lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
        CHECK(lo >= -bound);
        CHECK(hi < bound);
        CHECK(lo < -0.97f * bound);
        CHECK(hi > 0.97f * bound);
    };
    check_uniform(mha.in_proj_weight(), std::sqrt(6.0f / (64 + 192)));  // xavier over [3D, D]
    check_uniform(mha.out_proj().weight(), 1.0f / 8.0f);              // Linear's, 1/√D
    check_close(mha.in_proj_bias(), zeros({192}), 0.0f, 0.0f);
    check_close(mha.out_proj().bias(), zeros({64}), 0.0f, 0.0f);

    MultiHeadAttention plain(8, 2, gen, 0.0f, false);
    CHECK(plain.named_parameters().size() == 2);
    CHECK(plain.named_parameters()[1].name == "out_proj.weight");
}

TEST_CASE("MultiHeadAttention errors") {
    Generator gen(0);
    std::string message = error_of([&] { MultiHeadAttention(6, 4, gen); });
    CHECK(message.find("[MultiheadAttention] embed_dim 6 must be positive and divisible by num_heads 4") == 0);
    CHECK(error_of([&] { MultiHeadAttention(4, 2, gen, 1.5f); }).find("[MultiheadAttention] dropout") == 0);

    MultiHeadAttention mha(4, 2, gen);
    Tensor x = zeros({2, 3, 4});
    message = error_of([&] { mha(zeros({3, 4})); });
    CHECK(message.find("[MultiheadAttention] query must have shape (B, T, 4), got (3, 4)") == 0);
    message = error_of([&] { mha(zeros({2, 3, 5})); });
    CHECK(message.find("got (2, 3, 5)") != std::string::npos);
    message = error_of([&] { mha.forward(x, zeros({2, 5, 4}), zeros({2, 6, 4})); });
    CHECK(message.find("[MultiheadAttention] key and value must have the same shape (B, S, D) = (2, S, 4)") == 0);
    CHECK(message.find("got key (2, 5, 4) and value (2, 6, 4)") != std::string::npos);
    message = error_of([&] { mha.forward(x, zeros({1, 5, 4}), zeros({1, 5, 4})); });
    CHECK(message.find("got key (1, 5, 4)") != std::string::npos);
    message = error_of([&] { mha(x, {.key_padding_mask = zeros({3, 2})}); });
    CHECK(message.find("[MultiheadAttention] key_padding_mask must have shape (B, S) = (2, 3), got (3, 2)") == 0);
    message = error_of([&] { mha.forward(x, zeros({2, 5, 4}), zeros({2, 5, 4}), {.attn_mask = zeros({3, 3})}); });
    CHECK(message.find("[MultiheadAttention] attn_mask must have shape (T, S) = (3, 5), got (3, 3)") == 0);
    CHECK(error_of([&] { mha(Tensor()); }).find("[MultiheadAttention]") == 0);
    const std::string needs = "[MultiheadAttention] zero_padding_queries needs self-attention (query, key and value "
                              "the same tensor) and a key_padding_mask";
    CHECK(error_of([&] { mha(x, {.zero_padding_queries = true}); }) == needs);
    CHECK(error_of([&] { mha.forward(x, zeros({2, 3, 4}), zeros({2, 3, 4}),
                                     {.key_padding_mask = zeros({2, 3}), .zero_padding_queries = true}); }) == needs);
}

TEST_CASE("MultiHeadAttention zero_padding_queries: 0 at padding positions; the rest, and every gradient, to the bit") {
    // Padding at the end of sequence 0, in the middle and at the end of sequence 1, none in 2.
    // The loss reads the real positions only (as masked pooling does), so the padding outputs get
    // no gradient: then the real outputs and all gradients must be those of the default forward,
    // bit for bit, in training (dropout, the same masks from equal generators) and in evaluation.
    // The composed path (need_weights) must zero the same rows and agree within rounding (in
    // evaluation: in training it draws its dropout masks in another order).
    const int64_t B = 3, T = 7, D = 8;
    Tensor padding = zeros({B, T});
    for (int64_t t : {5, 6}) padding.data()[0 * T + t] = 1.0f;
    for (int64_t t : {2, 6}) padding.data()[1 * T + t] = 1.0f;
    Tensor x = param({B, T, D}, 51);
    Tensor loss_weights = param({B, T, D}, 52).detach() * (1.0f - reshape(padding, {B, T, 1}));
    for (bool training : {true, false}) {
        CAPTURE(training);
        auto run = [&](bool zero_padding, bool need_weights) {
            Generator gen(53);
            MultiHeadAttention mha(D, 2, gen, 0.25f);
            randomise_biases(mha, 54);
            if (!training) mha.eval();
            x.zero_grad();
            Tensor out = mha(x, {.key_padding_mask = padding, .need_weights = need_weights,
                                 .zero_padding_queries = zero_padding}).output;
            sum(out * loss_weights).backward();
            std::vector<Tensor> result{clone_data(out), clone_data(x.grad())};
            for (const Tensor& p : mha.parameters()) result.push_back(clone_data(p.grad()));
            return result;
        };
        const std::vector<Tensor> full = run(false, false), zeroed = run(true, false), composed = run(true, true);
        for (int64_t n = 0; n < B * T; ++n) {
            const bool pad = padding.data()[n] != 0.0f;
            CAPTURE(n);
            for (int64_t c = 0; c < D; ++c) {
                CHECK(zeroed[0].data()[n * D + c] == (pad ? 0.0f : full[0].data()[n * D + c]));
                if (!training)
                    CHECK(composed[0].data()[n * D + c] == doctest::Approx(zeroed[0].data()[n * D + c]).epsilon(1e-5));
            }
        }
        for (size_t g = 1; g < full.size(); ++g) {  // x, in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias
            CAPTURE(g);
            CHECK(std::equal(zeroed[g].data(), zeroed[g].data() + zeroed[g].numel(), full[g].data()));
            if (!training) check_close(composed[g], zeroed[g], 1e-5f, 1e-5f);
        }
    }
}
