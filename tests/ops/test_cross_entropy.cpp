// Tests for cross_entropy: hand-computed values, every option combination against PyTorch, ignored
// rows, flattened inputs, gradcheck on awkward sizes, error messages, and the SIMD kernels against
// the reference kernels at every SIMD level.
#include "simd_testing.hpp"
#include "thread_testing.hpp"
#include "testing.hpp"

#include <cmath>
#include <vector>

using namespace ag;
using ag::testing::no_nan;
using namespace ag::testing;

namespace {

// The fixed problem behind the PyTorch values: 4 rows of 5 classes. Targets [1, 0, 4, 3], or
// with row 1 ignored [1, -100, 4, 3].
Tensor fixed_logits() {
    return tensor({{1.5f, -0.5f, 0.25f, 2.0f, -1.0f},
                   {0.0f, 3.0f, -2.0f, 0.5f, 1.0f},
                   {-1.25f, 0.75f, 0.0f, -0.5f, 2.5f},
                   {2.0f, 2.0f, -3.0f, 1.0f, 0.0f}});
}
Tensor fixed_weight() { return tensor({0.5f, 2.0f, 1.0f, 1.5f, 0.25f}); }

CrossEntropyOptions options_of(Reduction reduction, bool weighted, float smoothing) {
    CrossEntropyOptions options;
    options.reduction = reduction;
    options.label_smoothing = smoothing;
    if (weighted) options.weight = fixed_weight();
    return options;
}

}  // namespace

TEST_CASE("cross_entropy of two classes by hand") {
    // logits [0, 0], target 0: p = [0.5, 0.5], loss = -log 0.5 = log 2 = 0.6931472;
    // dz = p - onehot = [-0.5, 0.5]
    Tensor z = tensor({{0.0f, 0.0f}});
    z.requires_grad_();
    Tensor loss = cross_entropy(z, tensor({0.0f}));
    CHECK(loss.item() == doctest::Approx(0.6931472f));
    loss.backward();
    check_close(z.grad(), tensor({{-0.5f, 0.5f}}));

    // logits [2, 0], target 1: -log(e^0 / (e^2 + e^0)) = log(1 + e^2) = 2.1269280;
    // mean of the two rows: (0.6931472 + 2.1269280) / 2 = 1.4100376
    Tensor two = tensor({{0.0f, 0.0f}, {2.0f, 0.0f}});
    CHECK(cross_entropy(two, tensor({0.0f, 1.0f})).item() == doctest::Approx(1.4100376f));
    CrossEntropyOptions sum;
    sum.reduction = Reduction::Sum;
    CHECK(cross_entropy(two, tensor({0.0f, 1.0f}), sum).item() == doctest::Approx(2.8200752f));

    // smoothing ε = 0.5 on [0, 0], target 0: (1 - ε) log 2 + (ε / 2)(log 2 + log 2) = log 2
    CrossEntropyOptions smooth;
    smooth.label_smoothing = 0.5f;
    CHECK(cross_entropy(z, tensor({0.0f}), smooth).item() == doctest::Approx(0.6931472f));
}

TEST_CASE("cross_entropy matches PyTorch for every combination of options") {
    // torch.nn.functional.cross_entropy(logits, targets, weight=w or None, reduction=r,
    // label_smoothing=ε) in float64 on fixed_logits(), printed to 7 significant digits.
    struct Case {
        Reduction reduction;
        bool weighted;
        float smoothing;
        bool ignore_row_1;
        std::vector<float> expected;
    };
    using enum Reduction;
    const std::vector<Case> cases = {
        {Mean, false, 0.0f, false, {2.148794f}},  {Mean, false, 0.0f, true, {1.784352f}},
        {Mean, false, 0.1f, false, {2.182544f}},  {Mean, false, 0.1f, true, {1.846019f}},
        {Mean, false, 1.0f, false, {2.486294f}},  {Mean, false, 1.0f, true, {2.401019f}},
        {Mean, true, 0.0f, false, {2.55743f}},    {Mean, true, 0.0f, true, {2.466138f}},
        {Mean, true, 0.1f, false, {2.531685f}},   {Mean, true, 0.1f, true, {2.416077f}},
        {Mean, true, 1.0f, false, {2.299984f}},   {Mean, true, 1.0f, true, {1.965522f}},
        {Sum, false, 0.0f, false, {8.595175f}},   {Sum, false, 0.0f, true, {5.353056f}},
        {Sum, false, 0.1f, false, {8.730175f}},   {Sum, false, 0.1f, true, {5.538056f}},
        {Sum, false, 1.0f, false, {9.945175f}},   {Sum, false, 1.0f, true, {7.203056f}},
        {Sum, true, 0.0f, false, {10.86908f}},    {Sum, true, 0.0f, true, {9.248018f}},
        {Sum, true, 0.1f, false, {10.75966f}},    {Sum, true, 0.1f, true, {9.060287f}},
        {Sum, true, 1.0f, false, {9.774933f}},    {Sum, true, 1.0f, true, {7.370709f}},
        {None, false, 0.0f, false, {3.148242f, 3.242119f, 0.28455f, 1.920264f}},
        {None, false, 0.0f, true, {3.148242f, 0.0f, 0.28455f, 1.920264f}},
        {None, false, 0.1f, false, {3.053242f, 3.192119f, 0.50455f, 1.980264f}},
        {None, false, 0.1f, true, {3.053242f, 0.0f, 0.50455f, 1.980264f}},
        {None, false, 1.0f, false, {2.198242f, 2.742119f, 2.48455f, 2.520264f}},
        {None, false, 1.0f, true, {2.198242f, 0.0f, 2.48455f, 2.520264f}},
        {None, true, 0.0f, false, {6.296484f, 1.621059f, 0.0711375f, 2.880396f}},
        {None, true, 0.0f, true, {6.296484f, 0.0f, 0.0711375f, 2.880396f}},
        {None, true, 0.1f, false, {5.889901f, 1.699376f, 0.3414015f, 2.828984f}},
        {None, true, 0.1f, true, {5.889901f, 0.0f, 0.3414015f, 2.828984f}},
        {None, true, 1.0f, false, {2.230654f, 2.404225f, 2.773777f, 2.366277f}},
        {None, true, 1.0f, true, {2.230654f, 0.0f, 2.773777f, 2.366277f}},
    };
    for (const Case& c : cases) {
        CAPTURE(static_cast<int>(c.reduction));
        CAPTURE(c.weighted);
        CAPTURE(c.smoothing);
        CAPTURE(c.ignore_row_1);
        Tensor targets = c.ignore_row_1 ? tensor({1.0f, -100.0f, 4.0f, 3.0f}) : tensor({1.0f, 0.0f, 4.0f, 3.0f});
        Tensor loss = cross_entropy(fixed_logits(), targets, options_of(c.reduction, c.weighted, c.smoothing));
        Shape shape = c.reduction == None ? Shape{4} : Shape{};
        check_close(loss, tensor(c.expected, shape), 1e-5f, 1e-6f);

        // and the backward of the same combination against central differences
        Tensor z = param(Shape{4, 5}, 7, 1.5f);
        CrossEntropyOptions options = options_of(c.reduction, c.weighted, c.smoothing);
        CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets, options); }, {z});
    }
}

TEST_CASE("cross_entropy gradient matches PyTorch") {
    // loss = F.cross_entropy(logits, targets, ...) in float64; loss.backward(dout); logits.grad
    Tensor ignored = tensor({1.0f, -100.0f, 4.0f, 3.0f});
    SUBCASE("mean, weights, smoothing 0.1, row 1 ignored") {
        Tensor z = fixed_logits();
        z.requires_grad_();
        cross_entropy(z, ignored, options_of(Reduction::Mean, true, 0.1f)).backward();
        check_close(z.grad(), tensor({0.1584678f, -0.4688595f, 0.04083247f, 0.2576658f, 0.01189339f, 0, 0, 0, 0, 0,
                                      -0.001109626f, 0.000838392f, 0.0001012716f, -0.004703745f, 0.004873708f,
                                      0.1519179f, 0.1439179f, -0.004291751f, -0.3111315f, 0.01958742f},
                                     Shape{4, 5}));
    }
    SUBCASE("none, weights, smoothing 0.1, row 1 ignored, dout [1, -2, 0.5, 3]") {
        Tensor z = fixed_logits();
        z.requires_grad_();
        cross_entropy(z, ignored, options_of(Reduction::None, true, 0.1f)).backward(tensor({1.0f, -2.0f, 0.5f, 3.0f}));
        check_close(z.grad(), tensor({0.5942543f, -1.758223f, 0.1531217f, 0.9662469f, 0.04460021f, 0, 0, 0, 0, 0,
                                      -0.002080549f, 0.001571985f, 0.0001898842f, -0.008819523f, 0.009138203f,
                                      1.709077f, 1.619077f, -0.04828219f, -3.500229f, 0.2203584f},
                                     Shape{4, 5}));
    }
    SUBCASE("sum, no options") {
        Tensor z = fixed_logits();
        z.requires_grad_();
        cross_entropy(z, tensor({1.0f, 0.0f, 4.0f, 3.0f}), options_of(Reduction::Sum, false, 0.0f)).backward();
        check_close(z.grad(), tensor({0.3171938f, -0.9570725f, 0.09087756f, 0.5229642f, 0.02603686f, -0.960919f,
                                      0.7849631f, 0.00528904f, 0.06443369f, 0.1062332f, 0.01769364f, 0.1307393f,
                                      0.06175687f, 0.03745744f, -0.2476473f, 0.3984139f, 0.3984139f, 0.002684492f,
                                      -0.8534317f, 0.05391946f},
                                     Shape{4, 5}));
    }
    SUBCASE("ignore_index 2 is a real class: rows with target 2 are skipped") {
        // F.cross_entropy(logits, [2, 0, 2, 3], ignore_index=2, weight=w, label_smoothing=0.2)
        Tensor z = fixed_logits();
        z.requires_grad_();
        CrossEntropyOptions options = options_of(Reduction::Mean, true, 0.2f);
        options.ignore_index = 2;
        Tensor loss = cross_entropy(z, tensor({2.0f, 0.0f, 2.0f, 3.0f}), options);
        CHECK(loss.item() == doctest::Approx(2.277632f));
        loss.backward();
        check_close(z.grad(), tensor({0, 0, 0, 0, 0, -0.1980803f, 0.1994137f, -0.01838684f, -0.01034772f,
                                      0.02740113f, 0, 0, 0, 0, 0, 0.2708818f, 0.2408818f, -0.01810743f, -0.5266694f,
                                      0.03301322f},
                                     Shape{4, 5}));
    }
}

TEST_CASE("cross_entropy with every row ignored: mean is NaN (as PyTorch), the gradient zero") {
    // mean = 0 / 0; PyTorch returns nan and a zero gradient. Sum is 0.
    Tensor z = fixed_logits();
    z.requires_grad_();
    Tensor all_ignored = full(Shape{4}, -100.0f);
    for (float smoothing : {0.0f, 0.1f}) {
        z.set_grad(Tensor());
        Tensor loss = cross_entropy(z, all_ignored, options_of(Reduction::Mean, false, smoothing));
        CHECK(std::isnan(loss.item()));
        loss.backward();
        CHECK(no_nan(z.grad()));
        check_close(z.grad(), zeros(Shape{4, 5}));
    }
    CHECK(cross_entropy(z, all_ignored, options_of(Reduction::Sum, true, 0.1f)).item() == 0.0f);
}

TEST_CASE("cross_entropy is stable for large logits") {
    // logits [1000, 0], target 1: log(1 + e^1000) = 1000 (e^1000 overflows without the max shift)
    CHECK(cross_entropy(tensor({{1000.0f, 0.0f}}), tensor({1.0f})).item() == doctest::Approx(1000.0f));
    CHECK(cross_entropy(tensor({{1000.0f, 0.0f}}), tensor({0.0f})).item() == doctest::Approx(0.0f));
}

TEST_CASE("cross_entropy with masked (-inf) logits") {
    // logits [0, -inf, 1], target 2: p = [1, 0, e] / (1 + e) = [0.2689414, 0, 0.7310586],
    // loss = -log 0.7310586 = 0.3132617, dz = p - onehot (PyTorch agrees)
    Tensor z = tensor({{0.0f, -INFINITY, 1.0f}});
    z.requires_grad_();
    Tensor loss = cross_entropy(z, tensor({2.0f}));
    CHECK(loss.item() == doctest::Approx(0.3132617f));
    loss.backward();
    check_close(z.grad(), tensor({{0.2689414f, 0.0f, -0.2689414f}}));
    // with smoothing, the masked class carries target mass ε / C and log 0 = -inf: the loss is
    // +inf (as PyTorch), not NaN
    CrossEntropyOptions smooth;
    smooth.label_smoothing = 0.1f;
    CHECK(cross_entropy(z, tensor({2.0f}), smooth).item() == INFINITY);
}

TEST_CASE("cross_entropy flattens logits [..., C] with targets [...]") {
    // [2, 2, 5] logits with [2, 2] targets are the 4 rows of fixed_logits(); None keeps shape (2, 2)
    Tensor z = tensor(fixed_logits().to_vector(), Shape{2, 2, 5});
    Tensor targets = tensor({1.0f, 0.0f, 4.0f, 3.0f}, Shape{2, 2});
    CHECK(cross_entropy(z, targets).item() == doctest::Approx(2.148794f));
    CrossEntropyOptions none;
    none.reduction = Reduction::None;
    check_close(cross_entropy(z, targets, none), tensor({3.148242f, 3.242119f, 0.28455f, 1.920264f}, Shape{2, 2}));
    // a single row: logits [C] with a 0-dimensional target
    CHECK(cross_entropy(tensor({2.0f, 0.0f}), scalar(1.0f)).item() == doctest::Approx(2.1269280f));
    Tensor x = param(Shape{2, 3, 7}, 5);
    Tensor t = tensor({0.0f, 6.0f, 3.0f, -100.0f, 1.0f, 2.0f}, Shape{2, 3});
    CHECK_GRADCHECK([t](const std::vector<Tensor>& in) { return cross_entropy(in[0], t); }, {x});
}

TEST_CASE("cross_entropy gradcheck on awkward sizes with weights and smoothing") {
    for (int64_t cols : {1, 7, 9, 33}) {
        CAPTURE(cols);
        const int64_t rows = 5;
        std::vector<float> target_values(rows), weight_values(cols);
        for (int64_t n = 0; n < rows; ++n) target_values[n] = static_cast<float>((3 * n + 1) % cols);
        target_values[2] = -100.0f;  // one ignored row
        for (int64_t c = 0; c < cols; ++c) weight_values[c] = 0.5f + 0.1f * static_cast<float>(c % 5);
        Tensor targets = tensor(target_values, Shape{rows});
        Tensor z = param(Shape{rows, cols}, 30 + cols, 1.5f);
        for (Reduction reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
            CrossEntropyOptions options;
            options.reduction = reduction;
            options.label_smoothing = 0.2f;
            options.weight = tensor(weight_values, Shape{cols});
            CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets, options); },
                            {z});
        }
    }
}

TEST_CASE("cross_entropy errors name the op and the offending shape or value") {
    Tensor z = fixed_logits();
    auto contains = [](const std::string& text, const std::string& part) {
        INFO(text);
        CHECK(text.find(part) != std::string::npos);
    };
    // targets of the wrong shape
    std::string m = error_of([&] { cross_entropy(z, tensor({1.0f, 0.0f, 2.0f})); });
    contains(m, "[cross_entropy]");
    contains(m, "(3,)");
    contains(m, "(4, 5)");
    // not integral, NaN, out of range, negative
    m = error_of([&] { cross_entropy(z, tensor({1.0f, 0.5f, 2.0f, 3.0f})); });
    contains(m, "[cross_entropy] target 0.5 at index 1 is not an integer");
    m = error_of([&] { cross_entropy(z, tensor({1.0f, NAN, 2.0f, 3.0f})); });
    contains(m, "[cross_entropy] target nan at index 1 is not an integer");
    m = error_of([&] { cross_entropy(z, tensor({1.0f, 0.0f, 5.0f, 3.0f})); });
    contains(m, "[cross_entropy] target 5 at index 2 is out of range");
    contains(m, "0 <= target < 5");
    m = error_of([&] { cross_entropy(z, tensor({-1.0f, 0.0f, 2.0f, 3.0f})); });
    contains(m, "[cross_entropy] target -1 at index 0 is out of range");
    contains(m, "ignore_index -100");
    // label smoothing outside [0, 1]
    CrossEntropyOptions bad;
    bad.label_smoothing = 1.5f;
    contains(error_of([&] { cross_entropy(z, tensor({1.0f, 0.0f, 2.0f, 3.0f}), bad); }),
             "[cross_entropy] label_smoothing must be in [0, 1], got 1.5");
    bad.label_smoothing = -0.1f;
    contains(error_of([&] { cross_entropy(z, tensor({1.0f, 0.0f, 2.0f, 3.0f}), bad); }), "got -0.1");
    // weight of the wrong shape, or requiring grad
    CrossEntropyOptions weighted;
    weighted.weight = tensor({1.0f, 2.0f, 3.0f, 4.0f});
    m = error_of([&] { cross_entropy(z, tensor({1.0f, 0.0f, 2.0f, 3.0f}), weighted); });
    contains(m, "[cross_entropy] weight must have shape (5,)");
    contains(m, "got (4,)");
    weighted.weight = param(Shape{5}, 1);
    contains(error_of([&] { cross_entropy(z, tensor({1.0f, 0.0f, 2.0f, 3.0f}), weighted); }),
             "[cross_entropy] weight requires grad");
    // logits without classes
    m = error_of([&] { cross_entropy(scalar(1.0f), scalar(0.0f)); });
    contains(m, "[cross_entropy]");
    contains(m, "()");
    m = error_of([&] { cross_entropy(zeros(Shape{4, 0}), zeros(Shape{4})); });
    contains(m, "[cross_entropy] logits have no classes: shape (4, 0)");
}

TEST_CASE("cross_entropy SIMD kernels match the reference at every level") {
    // Tolerance, with u = 2^-24, C classes and k = (2C + 8) u. Two summation orders of C terms
    // differ by up to 2 (C - 1) u Σ|terms|; xsimd::exp and std::exp are each within 1 ulp
    // (<= 2u relative); every other operation rounds once. Σ_c e^(z_c - m) has positive terms, so
    //   |Δlse| <= k (1 + |lse|)
    //   |Δℓ|   <= k ((1 + |lse|) S_w + (1 - ε) |w_t| |z_t - lse| + (ε / C) Σ_c |w_c| |z_c - lse|) + 4u |ℓ|
    //             with S_w = (1 - ε) |w_t| + (ε / C) Σ_c |w_c|, the weight the loss gives lse
    //   |Δdz_c| <= 8u (p_c |Σq| + |q_c|) |g|      (both kernels get the reference's lse; only exp
    //                                              and one FMA differ)
    // plus 1e-37 where xsimd::exp flushes results below 2^-126 to 0. Rows: with 5 rows, row 0 has
    // a masked (-inf) logit, row 2 is ignored and row 4 is fully masked (its loss and gradient NaN,
    // as the reference: NaN must match NaN).
    const double u = kUnitRoundoff;
    const int64_t ignore_index = -100;
    for (SimdLevel level : simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int64_t cols : kAwkwardCols) {
            for (int64_t rows : {1, 5}) {
                for (int weighted = 0; weighted < 2; ++weighted) {
                    for (float eps : {0.0f, 0.1f}) {
                        INFO("level ", std::string(simd_level_name(level)), ", rows ", rows, ", cols ", cols,
                             ", weighted ", weighted, ", smoothing ", eps);
                        const int64_t n = rows * cols;
                        const auto seed = static_cast<uint32_t>(n + 2 * weighted);
                        const double k = (2.0 * double(cols) + 8.0) * u;
                        std::vector<float> z = uniform_floats(n, seed, -4.0f, 4.0f);
                        const std::vector<float> w = uniform_floats(cols, seed + 1, 0.5f, 2.0f);
                        const std::vector<float> dloss = uniform_floats(rows, seed + 2);
                        const float* weight = weighted ? w.data() : nullptr;
                        std::vector<float> targets(rows);
                        for (int64_t r = 0; r < rows; ++r) targets[r] = static_cast<float>((r * 7 + 3) % cols);
                        if (rows == 5) {
                            if (cols > 1) z[static_cast<int64_t>(targets[0] + 1) % cols] = -INFINITY;
                            targets[2] = static_cast<float>(ignore_index);
                            for (int64_t c = 0; c < cols; ++c) z[4 * cols + c] = -INFINITY;
                        }
                        auto w_of = [&](int64_t c) { return weight ? double(weight[c]) : 1.0; };

                        // forward
                        std::vector<float> loss(rows), loss_ref(rows), lse(rows), lse_ref(rows);
                        cross_entropy_forward(loss.data(), lse.data(), z.data(), targets.data(), weight, eps,
                                              ignore_index, rows, cols);
                        cross_entropy_forward_reference(loss_ref.data(), lse_ref.data(), z.data(), targets.data(),
                                                        weight, eps, ignore_index, rows, cols);
                        std::vector<double> tol_loss(rows), tol_lse(rows);
                        for (int64_t r = 0; r < rows; ++r) {
                            const double l = lse_ref[r];
                            const auto t = static_cast<int64_t>(targets[r] < 0 ? 0 : targets[r]);
                            double sum_w = 0.0, sum_wz = 0.0;
                            for (int64_t c = 0; c < cols; ++c) {
                                sum_w += std::fabs(w_of(c));
                                sum_wz += std::fabs(w_of(c) * (z[r * cols + c] - l));
                            }
                            const double s_w = (1.0 - eps) * std::fabs(w_of(t)) + eps / double(cols) * sum_w;
                            tol_lse[r] = k * (1.0 + std::fabs(l));
                            // (the smoothing term only with ε > 0: a masked logit makes it infinite)
                            tol_loss[r] = k * ((1.0 + std::fabs(l)) * s_w +
                                               (1.0 - eps) * std::fabs(w_of(t) * (z[r * cols + t] - l)) +
                                               (eps > 0.0f ? eps / double(cols) * sum_wz : 0.0)) +
                                          4.0 * u * std::fabs(loss_ref[r]);
                        }
                        check_within(lse, lse_ref, tol_lse);
                        check_within(loss, loss_ref, tol_loss);

                        // backward, both from the reference's lse
                        std::vector<float> dz(n), dz_ref(n);
                        cross_entropy_backward(dz.data(), z.data(), lse_ref.data(), targets.data(), weight,
                                               dloss.data(), eps, ignore_index, rows, cols);
                        cross_entropy_backward_reference(dz_ref.data(), z.data(), lse_ref.data(), targets.data(),
                                                         weight, dloss.data(), eps, ignore_index, rows, cols);
                        double weight_sum = 0.0;
                        for (int64_t c = 0; c < cols; ++c) weight_sum += w_of(c);
                        std::vector<double> tol(n);
                        for (int64_t r = 0; r < rows; ++r) {
                            const auto t = static_cast<int64_t>(targets[r] < 0 ? 0 : targets[r]);
                            const double q_sum = (1.0 - eps) * w_of(t) + eps / double(cols) * weight_sum;
                            for (int64_t c = 0; c < cols; ++c) {
                                const int64_t i = r * cols + c;
                                const double q = eps / double(cols) * w_of(c) + (c == t ? (1.0 - eps) * w_of(t) : 0.0);
                                const double p = std::exp(double(z[i]) - lse_ref[r]);
                                tol[i] = 8.0 * u * (p * std::fabs(q_sum) + std::fabs(q)) * std::fabs(dloss[r]) + 1e-37;
                            }
                        }
                        check_within(dz, dz_ref, tol);
                    }
                }
            }
        }
    }
}

TEST_CASE("cross_entropy: forward and backward give the same bits on 1, 2 and 3 threads") {
    // 500 rows of 101 classes: 50500 floats, two chunks of row_grain(101) = 324 rows; class
    // weights, label smoothing and an ignored class in play
    const int64_t rows = 500, cols = 101;
    const std::vector<float> z = ag::testing::uniform_floats(rows * cols, 31, -4.0f, 4.0f);
    const std::vector<float> weight = ag::testing::uniform_floats(cols, 32, 0.5f, 2.0f);
    const std::vector<float> dloss = ag::testing::uniform_floats(rows, 33);
    std::vector<float> targets(rows);
    for (int64_t r = 0; r < rows; ++r) targets[r] = static_cast<float>((r * 37) % cols);
    ag::testing::check_same_bits_on_threads([&] {
        std::vector<float> loss(rows), lse(rows), dz(z.size());
        cross_entropy_forward(loss.data(), lse.data(), z.data(), targets.data(), weight.data(), 0.1f, 5, rows, cols);
        cross_entropy_backward(dz.data(), z.data(), lse.data(), targets.data(), weight.data(), dloss.data(), 0.1f, 5,
                               rows, cols);
        return ag::testing::concat({&loss, &lse, &dz});
    });
}
