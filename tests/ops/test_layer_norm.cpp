// Tests for layer_norm: hand-computed values, PyTorch values, stability, gradcheck on awkward sizes
// with and without the affine weight and bias, error messages, and the SIMD kernels against the
// reference kernels at every SIMD level.
#include "simd_testing.hpp"
#include "thread_testing.hpp"
#include "testing.hpp"

#include <cmath>
#include <vector>

using namespace ag;
using namespace ag::testing;

TEST_CASE("layer_norm of a small row by hand") {
    // x = [1, 2, 3, 4], eps = 0: μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25,
    // r = 1 / √1.25 = 0.8944272, x̂ = [-1.5, -0.5, 0.5, 1.5] r = [-1.3416408, -0.4472136, 0.4472136, 1.3416408]
    Tensor x = tensor({1, 2, 3, 4});
    check_close(layer_norm(x, Tensor(), Tensor(), 0.0f), tensor({-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f}));
    // affine: weight [2, 1, 0.5, -1], bias [0, 1, -1, 0.5] give x̂ w + b
    check_close(layer_norm(x, tensor({2, 1, 0.5f, -1}), tensor({0, 1, -1, 0.5f}), 0.0f),
                tensor({-2.6832816f, 0.5527864f, -0.7763932f, -0.8416408f}));
    // weight alone, bias alone
    check_close(layer_norm(x, tensor({2, 1, 0.5f, -1}), Tensor(), 0.0f),
                tensor({-2.6832816f, -0.4472136f, 0.2236068f, -1.3416408f}));
    check_close(layer_norm(x, Tensor(), tensor({0, 1, -1, 0.5f}), 0.0f),
                tensor({-1.3416408f, 0.5527864f, -0.5527864f, 1.8416408f}));
}

TEST_CASE("layer_norm backward by hand") {
    // x = [1, 2, 3, 4], eps = 0, no affine, dout = [1, 0, 0, 0]: g = dout, mean(g) = 0.25,
    // mean(g x̂) = -1.3416408 / 4 = -0.3354102, and dx = r (g - 0.25 + 0.3354102 x̂):
    //   r [0.75 - 0.45, -0.25 - 0.15, -0.25 + 0.15, -0.25 + 0.45] = 0.8944272 [0.3, -0.4, -0.1, 0.2]
    Tensor x = tensor({1, 2, 3, 4});
    x.requires_grad_();
    layer_norm(x, Tensor(), Tensor(), 0.0f).backward(tensor({1, 0, 0, 0}));
    check_close(x.grad(), tensor({0.2683282f, -0.3577709f, -0.0894427f, 0.1788854f}));

    // dweight and dbias sum over rows. Rows [1, 2, 3, 4] and [4, 3, 2, 1] (x̂ negated), dout rows
    // [1, 2, 3, 4] and [1, 1, 1, 1]: dbias = [2, 3, 4, 5],
    // dweight = [1 (-1.3416) + 1.3416, 2 (-0.4472) + 0.4472, 3 (0.4472) - 0.4472, 4 (1.3416) - 1.3416]
    Tensor rows = tensor({{1, 2, 3, 4}, {4, 3, 2, 1}});
    Tensor weight = tensor({1, 1, 1, 1}), bias = tensor({0, 0, 0, 0});
    weight.requires_grad_();
    bias.requires_grad_();
    layer_norm(rows, weight, bias, 0.0f).backward(tensor({{1, 2, 3, 4}, {1, 1, 1, 1}}));
    check_close(bias.grad(), tensor({2, 3, 4, 5}));
    check_close(weight.grad(), tensor({0.0f, -0.4472136f, 0.8944272f, 4.0249224f}), 1e-5f, 1e-6f);
    CHECK(!rows.grad().defined());  // rows did not ask for a gradient
}

TEST_CASE("layer_norm matches PyTorch, forward and backward") {
    // torch.nn.functional.layer_norm(x, (5,), w, b, eps) in float64; out.backward(dout)
    Tensor x = tensor({{0.5f, -1.25f, 2.0f, 0.0f, 1.5f}, {3.0f, 2.5f, -0.75f, 1.0f, -2.0f}});
    Tensor dout = tensor({{1.0f, -2.0f, 0.5f, 0.25f, 3.0f}, {-1.0f, 0.5f, 2.0f, -0.5f, 1.5f}});
    x.requires_grad_();
    SUBCASE("weight and bias, eps 1e-5") {
        Tensor w = tensor({1.5f, -0.5f, 2.0f, 0.75f, 1.0f}), b = tensor({0.1f, 0.2f, -0.3f, 0.0f, 0.5f});
        w.requires_grad_();
        b.requires_grad_();
        Tensor out = layer_norm(x, w, b, 1e-5f);
        out.backward(dout);
        check_close(out, tensor({0.03447245f, 0.9863306f, 2.233732f, -0.3604015f, 1.330016f, 1.878779f, -0.2611649f,
                                 -1.881137f, 0.09882104f, -0.9493752f}, Shape{2, 5}));
        check_close(x.grad(), tensor({0.1574619f, 0.2626062f, -0.7439552f, -0.8344147f, 1.158302f, -0.2219382f,
                                      0.2314497f, 1.136169f, -0.4506883f, -0.6949924f}, Shape{2, 5}));
        check_close(w.grad(), tensor({-1.229538f, 3.606487f, -0.9477036f, -0.1860145f, 0.3159842f}));
        check_close(b.grad(), tensor({0.0f, -1.5f, 2.5f, -0.25f, 4.5f}));
    }
    SUBCASE("no affine, eps 0.1 (large enough to matter)") {
        Tensor out = layer_norm(x, Tensor(), Tensor(), 0.1f);
        out.backward(dout);
        check_close(out, tensor({-0.0421076f, -1.515873f, 1.22112f, -0.4631836f, 0.8000443f, 1.169719f, 0.9097817f,
                                 -0.7798129f, 0.1299688f, -1.429657f}, Shape{2, 5}));
        check_close(x.grad(), tensor({0.4207027f, -0.6450525f, -1.252402f, 0.2064317f, 1.27032f, -0.2344708f,
                                      0.424155f, 0.4162515f, -0.4592817f, -0.146654f}, Shape{2, 5}));
    }
}

TEST_CASE("layer_norm ignores a large common offset (two-pass variance)") {
    // x + 10000 normalises like x: E[x²] - μ² would lose every digit of σ² = 1.25 in float
    Tensor shifted = tensor({10001, 10002, 10003, 10004});
    check_close(layer_norm(shifted, Tensor(), Tensor(), 0.0f), tensor({-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f}));
}

TEST_CASE("layer_norm gradcheck on awkward sizes, with and without weight and bias") {
    for (int64_t cols : {1, 7, 9, 33}) {
        CAPTURE(cols);
        Tensor x = param(Shape{3, cols}, 40 + cols);
        Tensor w = param(Shape{cols}, 50 + cols);
        Tensor b = param(Shape{cols}, 60 + cols);
        CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); }, {x, w, b});
        CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], Tensor()); }, {x, w});
        CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), in[1]); }, {x, b});
        CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {x});
    }
    // leading dimensions are more rows; dweight and dbias sum over all of them
    Tensor x = param(Shape{2, 3, 9}, 7);
    Tensor w = param(Shape{9}, 8);
    Tensor b = param(Shape{9}, 9);
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2], 0.01f); }, {x, w, b});
}

TEST_CASE("layer_norm errors name the op and the offending shapes") {
    auto contains = [](const std::string& text, const std::string& part) {
        INFO(text);
        CHECK(text.find(part) != std::string::npos);
    };
    Tensor x = zeros(Shape{2, 5});
    std::string m = error_of([&] { layer_norm(x, zeros(Shape{4}), Tensor()); });
    contains(m, "[layer_norm] weight must have shape (5,)");
    contains(m, "(2, 5)");
    contains(m, "got (4,)");
    m = error_of([&] { layer_norm(x, Tensor(), zeros(Shape{1, 5})); });
    contains(m, "[layer_norm] bias must have shape (5,)");
    contains(m, "got (1, 5)");
    m = error_of([&] { layer_norm(scalar(1.0f), Tensor(), Tensor()); });
    contains(m, "[layer_norm]");
    contains(m, "()");
    m = error_of([&] { layer_norm(zeros(Shape{3, 0}), Tensor(), Tensor()); });
    contains(m, "[layer_norm]");
    contains(m, "(3, 0)");
    contains(error_of([&] { layer_norm(x, Tensor(), Tensor(), -1.0f); }), "[layer_norm] eps must be >= 0, got -1");
}

TEST_CASE("layer_norm SIMD kernels match the reference at every level") {
    // Tolerance per element, with u = 2^-24, C columns and k = (2C + 8) u. Two summation orders
    // of C terms differ by up to 2 (C - 1) u Σ|terms|, and every other operation rounds once (an
    // FMA instead of a multiply and an add saves one rounding). With A = mean_j |x_j| of the row,
    // r its rstd and g = dout w:
    //   mean         |Δμ| <= k A                    rstd  |Δr| <= k r
    //   out          |Δout_i| <= k (|w_i| (r A + |x̂_i|) + |b_i|)
    //   dx           |Δdx_i|  <= k r (mean|g| + |x̂_i| mean|g x̂| + |g_i|)
    // x̂ and g are computed by the same operations in both kernels, and dweight, dbias add the rows
    // in the same order: dweight differs only by an FMA's rounding per row, |Δdw_i| <= 2u Σ_rows
    // |dweight_i so far|, and dbias (plain adds) must be identical.
    const double u = kUnitRoundoff;
    const float eps = 1e-5f;
    for (SimdLevel level : simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int64_t cols : kAwkwardCols) {
            for (int64_t rows : {1, 3, 6}) {
                for (int affine = 0; affine < 3; ++affine) {  // none; weight and bias; weight only
                    INFO("level ", std::string(simd_level_name(level)), ", rows ", rows, ", cols ", cols,
                         ", affine ", affine);
                    const int64_t n = rows * cols;
                    const double k = (2.0 * double(cols) + 8.0) * u;
                    const auto seed = static_cast<uint32_t>(n + affine);
                    std::vector<float> x = uniform_floats(n, seed, -2.0f, 2.0f), dy = uniform_floats(n, seed + 1);
                    for (float& v : x) v += 3.0f;  // a mean away from 0
                    const std::vector<float> w = uniform_floats(cols, seed + 2, 0.5f, 1.5f);
                    const std::vector<float> b = uniform_floats(cols, seed + 3);
                    const float* weight = affine > 0 ? w.data() : nullptr;
                    const float* bias = affine == 1 ? b.data() : nullptr;
                    auto w_of = [&](int64_t c) { return weight ? double(weight[c]) : 1.0; };
                    auto b_of = [&](int64_t c) { return bias ? double(bias[c]) : 0.0; };

                    // forward
                    std::vector<float> y(n), y_ref(n), mean(rows), mean_ref(rows), rstd(rows), rstd_ref(rows);
                    layer_norm_forward(y.data(), mean.data(), rstd.data(), x.data(), weight, bias, eps, rows, cols);
                    layer_norm_forward_reference(y_ref.data(), mean_ref.data(), rstd_ref.data(), x.data(), weight,
                                                 bias, eps, rows, cols);
                    std::vector<double> tol(n), tol_mean(rows), tol_rstd(rows), xhat(n);
                    for (int64_t r = 0; r < rows; ++r) {
                        double abs_mean = 0.0;
                        for (int64_t c = 0; c < cols; ++c) abs_mean += std::fabs(x[r * cols + c]) / double(cols);
                        tol_mean[r] = k * abs_mean;
                        tol_rstd[r] = k * rstd_ref[r];
                        for (int64_t c = 0; c < cols; ++c) {
                            const int64_t i = r * cols + c;
                            xhat[i] = (double(x[i]) - mean_ref[r]) * rstd_ref[r];
                            tol[i] = k * (std::fabs(w_of(c)) * (rstd_ref[r] * abs_mean + std::fabs(xhat[i])) +
                                          std::fabs(b_of(c)));
                        }
                    }
                    check_within(mean, mean_ref, tol_mean);
                    check_within(rstd, rstd_ref, tol_rstd);
                    check_within(y, y_ref, tol);

                    // backward, from the reference's mean and rstd; dweight and dbias start non-zero
                    // (the kernels add into them)
                    std::vector<float> dx(n), dx_ref(n);
                    std::vector<float> dw = uniform_floats(cols, seed + 4), dw_ref = dw;
                    std::vector<float> db = uniform_floats(cols, seed + 5), db_ref = db;
                    layer_norm_backward(dx.data(), weight ? dw.data() : nullptr, bias ? db.data() : nullptr,
                                        x.data(), mean_ref.data(), rstd_ref.data(), weight, dy.data(), rows, cols);
                    layer_norm_backward_reference(dx_ref.data(), weight ? dw_ref.data() : nullptr,
                                                  bias ? db_ref.data() : nullptr, x.data(), mean_ref.data(),
                                                  rstd_ref.data(), weight, dy.data(), rows, cols);
                    std::vector<double> tol_dw(cols, 0.0), running(cols);  // running: a bound on |dweight|
                    for (int64_t c = 0; c < cols; ++c) running[c] = std::fabs(dw[c]);
                    for (int64_t r = 0; r < rows; ++r) {
                        double mean_g = 0.0, mean_g_xhat = 0.0;
                        for (int64_t c = 0; c < cols; ++c) {
                            const int64_t i = r * cols + c;
                            mean_g += std::fabs(dy[i] * w_of(c)) / double(cols);
                            mean_g_xhat += std::fabs(dy[i] * w_of(c) * xhat[i]) / double(cols);
                            running[c] += std::fabs(dy[i] * xhat[i]);
                            tol_dw[c] += 2.0 * u * running[c];
                        }
                        for (int64_t c = 0; c < cols; ++c) {
                            const int64_t i = r * cols + c;
                            tol[i] = k * rstd_ref[r] *
                                     (mean_g + std::fabs(xhat[i]) * mean_g_xhat + std::fabs(dy[i] * w_of(c)));
                        }
                    }
                    check_within(dx, dx_ref, tol);
                    check_within(dw, dw_ref, tol_dw);
                    check_identical(db, db_ref);
                }
            }
        }
    }
}

TEST_CASE("layer_norm: forward and backward give the same bits on 1, 2 and 3 threads") {
    // 700 rows of 129: 90300 floats, three chunks of row_grain(129) = 254 rows; the backward's
    // dweight and dbias are sums over rows across chunks
    const int64_t rows = 700, cols = 129;
    const std::vector<float> x = ag::testing::uniform_floats(rows * cols, 21, -3.0f, 3.0f);
    const std::vector<float> w = ag::testing::uniform_floats(cols, 22), b = ag::testing::uniform_floats(cols, 23);
    const std::vector<float> dy = ag::testing::uniform_floats(rows * cols, 24);
    ag::testing::check_same_bits_on_threads([&] {
        std::vector<float> y(x.size()), mean(rows), rstd(rows), dx(x.size()), dw(cols, 0.5f), db(cols, -0.25f);
        layer_norm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), 1e-5f, rows, cols);
        layer_norm_backward(dx.data(), dw.data(), db.data(), x.data(), mean.data(), rstd.data(), w.data(), dy.data(),
                            rows, cols);
        return ag::testing::concat({&y, &mean, &rstd, &dx, &dw, &db});
    });
}
