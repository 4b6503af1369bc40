// test_softplus.cpp: the "Adding an op" tutorial's op (examples/add_an_op, docs/adding-an-op.md):
// hand-computed values, gradcheck, errors, SIMD against reference at every level, and PyTorch.
#include "simd_testing.hpp"
#include "testing.hpp"

#include "softplus.hpp"

#include <cmath>
#include <limits>
#include <string>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

TEST_CASE("softplus: values and gradients worked out by hand, including where log(1 + e^x) fails") {
    // softplus(0) = ln 2; softplus(1) = ln(1 + e) = 1.3132617; softplus(-1) = softplus(1) - 1;
    // softplus(-30) = ln(1 + e^-30) ≈ e^-30 = 9.3576230e-14 (1 + e^-30 rounds to 1 in float, so the
    // naive formula gives 0); softplus(100) = 100 (e^100 overflows float, the naive formula gives inf)
    // dy/dx = sigmoid(x): 1/2, 1 / (1 + e^-1) = 0.73105858, 1 - 0.73105858, e^-30 / (1 + e^-30), 1
    // At every level: the scalar level runs the reference kernels, the others the SIMD ones.
    for (SimdLevel level : testing::simd_levels()) {
        CAPTURE(simd_level_name(level));
        testing::ScopedSimdLevel scoped(level);
        Tensor x = tensor({0.0f, 1.0f, -1.0f, -30.0f, 100.0f}).requires_grad_();
        Tensor y = softplus(x);
        check_close(y, tensor({0.69314718f, 1.3132617f, 0.31326169f, 9.3576230e-14f, 100.0f}), 1e-6f, 0.0f);
        sum(y).backward();
        check_close(x.grad(), tensor({0.5f, 0.73105858f, 0.26894142f, 9.3576230e-14f, 1.0f}), 1e-6f, 0.0f);
    }
}

TEST_CASE("softplus: gradcheck on awkward sizes") {
    for (int64_t n : {1, 7, 9, 33}) {
        CAPTURE(n);
        Tensor x = param({n}, 10 + n, 3.0f);
        CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return softplus(in[0]); }, {x});
    }
    Tensor x = param({2, 3, 5}, 3, 3.0f);
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return softplus(in[0]); }, {x});
}

TEST_CASE("softplus: records one node named softplus, and none without grad") {
    Tensor x = param({4}, 1);
    Tensor y = softplus(x);
    REQUIRE(y.grad_fn() != nullptr);
    CHECK(y.grad_fn()->name() == "softplus");
    CHECK(softplus(ones({4})).grad_fn() == nullptr);
    NoGradGuard no_grad;
    CHECK(softplus(x).grad_fn() == nullptr);
}

TEST_CASE("softplus: an undefined input is an error naming the op") {
    CHECK(error_of([] { softplus(Tensor()); }) == "[softplus] the input is an undefined tensor");
}

TEST_CASE("softplus: SIMD kernels match the reference at every level") {
    // Tolerance per element, from the rounding error of each formula (u = 2^-24):
    //   forward  y = max(x, 0) + L, L = log1p(e^-|x|) in [0, ln 2]. xsimd's exp and log1p are within
    //            about 2 ulp each; an error δ in e = e^-|x| moves L by δ e / (1 + e) <= δ L, so L is
    //            within about 4u L, and the sum adds u |y|: 8u |y| covers it.
    //   backward dx = dout / (1 + e^-x): exp, the sum and the quotient, about 4u |dx|: 8u |dx|.
    // Plus 2^-126 absolute: xsimd's exp flushes results below 2^-126 to 0 (where x < -87.3), and
    // its overflow threshold near x = -88.7 may differ from the C library's by an ulp of x.
    const double flush = std::ldexp(1.0, -126);
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<float> special = {0.0f, -0.0f, inf, -inf, nan, 17.0f, -17.0f, 20.0f, -87.5f, 88.7f, -88.7f,
                                        -100.0f, 100.0f, 1e-8f, -1e-8f};
    for (int64_t n : testing::kAwkwardCols) {
        CAPTURE(n);
        // values in [-40, 40], with the special values written over the first entries
        std::vector<float> xs = testing::uniform_floats(n, uint32_t(n), -40.0f, 40.0f);
        for (size_t i = 0; i < special.size() && i < xs.size(); ++i) xs[i] = special[i];
        const std::vector<float> douts = testing::uniform_floats(n, uint32_t(n + 1000));

        std::vector<float> y_ref(xs.size()), dx_ref(xs.size());
        softplus_forward_reference(y_ref.data(), xs.data(), n);
        softplus_backward_reference(dx_ref.data(), douts.data(), xs.data(), n);
        std::vector<double> y_tol(xs.size()), dx_tol(xs.size());
        for (size_t i = 0; i < xs.size(); ++i) {
            y_tol[i] = 8 * testing::kUnitRoundoff * std::fabs(y_ref[i]) + flush;
            dx_tol[i] = 8 * testing::kUnitRoundoff * std::fabs(dx_ref[i]) + flush;
        }

        // through the op, so the dispatch is tested too: each level runs its own kernel
        for (SimdLevel level : testing::simd_levels()) {
            CAPTURE(simd_level_name(level));
            testing::ScopedSimdLevel scoped(level);
            Tensor x = tensor(xs, {n}).requires_grad_();
            Tensor y = softplus(x);
            y.backward(tensor(douts, {n}));
            testing::check_within(y.to_vector(), y_ref, y_tol);
            testing::check_within(x.grad().to_vector(), dx_ref, dx_tol);
        }
    }
}

TEST_CASE("softplus: matches torch.nn.functional.softplus, forward and gradient, at every level") {
    // The fixture was written by tests/examples/generate_softplus.py. Torch computes log1p(e^x),
    // and x itself above x = 20; the two formulas agree to a few ulp in float (above 20,
    // log1p(e^-x) < 2.1e-9 is below half an ulp of x). Tolerance 1e-6 relative: a wrong formula (a
    // missing log1p term, sigmoid(-x) for sigmoid(x)) is off by 1e-2 or more.
    const StateDict fixture =
        load_safetensors(std::string(AG_TESTS_DIR) + "/examples/fixtures/softplus_torch.safetensors");
    auto at = [&](const std::string& name) {
        const Tensor* t = fixture.find(name);
        INFO("fixture tensor ", name);
        REQUIRE(t != nullptr);
        return *t;
    };
    for (SimdLevel level : testing::simd_levels()) {
        CAPTURE(simd_level_name(level));
        testing::ScopedSimdLevel scoped(level);
        Tensor x = clone_data(at("x")).requires_grad_();
        Tensor y = softplus(x);
        y.backward(at("dout"));
        check_close(y, at("output"), 1e-6f, 1e-30f);
        check_close(x.grad(), at("grad.x"), 1e-6f, 1e-30f);
    }
}
