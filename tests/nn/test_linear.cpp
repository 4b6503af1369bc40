// test_linear.cpp: Linear's output by hand, its gradients, its initialisation bounds and errors.
#include "testing.hpp"

#include "nn/linear.hpp"

#include <algorithm>
#include <cmath>

using namespace ag;
using ag::testing::assign;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {

}  // namespace

TEST_CASE("Linear computes x Wᵀ + b (hand-computed)") {
    Generator gen(0);
    Linear linear(3, 2, gen);
    assign(linear.weight(), tensor({{1, 0, -1}, {2, 1, 0}}));  // W: [out 2, in 3]
    assign(linear.bias(), tensor({0.5f, -1}));
    // row (1, 2, 3): (1 - 3 + 0.5, 2 + 2 - 1) = (-1.5, 3)
    // row (0, 1, 0): (0 + 0.5, 1 - 1)         = (0.5, 0)
    Tensor x = tensor({{1, 2, 3}, {0, 1, 0}});
    check_close(linear(x), tensor({{-1.5f, 3}, {0.5f, 0}}), 0.0f, 0.0f);

    SUBCASE("leading dimensions pass through: [2, 1, 3] -> [2, 1, 2]") {
        check_close(linear(reshape(x, {2, 1, 3})), tensor({-1.5f, 3, 0.5f, 0}, Shape{2, 1, 2}), 0.0f, 0.0f);
    }
    SUBCASE("a 1-D input gives a 1-D output") {
        check_close(linear(tensor({1, 2, 3})), tensor({-1.5f, 3}), 0.0f, 0.0f);
    }
    SUBCASE("without bias") {
        Linear plain(3, 2, gen, false);
        assign(plain.weight(), tensor({{1, 0, -1}, {2, 1, 0}}));
        CHECK_FALSE(plain.bias().defined());
        check_close(plain(x), tensor({{-2, 4}, {0, 1}}), 0.0f, 0.0f);
    }
}

TEST_CASE("Linear gradients (hand-computed)") {
    Generator gen(0);
    Linear linear(2, 1, gen);
    assign(linear.weight(), tensor({{3, -2}}));
    Tensor x = tensor({{1, 2}, {4, 5}}).requires_grad_();
    sum(linear(x)).backward();
    // y_n = 3 x_n0 - 2 x_n1 + b: dx_n = W = (3, -2); dW = Σ_n x_n = (5, 7); db = number of rows = 2
    check_close(x.grad(), tensor({{3, -2}, {3, -2}}), 0.0f, 0.0f);
    check_close(linear.weight().grad(), tensor({{5, 7}}), 0.0f, 0.0f);
    check_close(linear.bias().grad(), tensor({2}), 0.0f, 0.0f);
}

TEST_CASE("Linear gradcheck") {
    Generator gen(1);
    for (bool bias : {true, false}) {
        CAPTURE(bias);
        Linear linear(7, 9, gen, bias);
        Tensor x = param({2, 3, 7}, 2);
        std::vector<Tensor> inputs = {x, linear.weight()};
        if (bias) inputs.push_back(linear.bias());
        CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return linear(in[0]); }, inputs);
    }
}

TEST_CASE("Linear initialises weight and bias from U(-1/√in, 1/√in)") {
    Generator gen(2);
    Linear linear(64, 300, gen);
    const float bound = 1.0f / 8.0f;
    for (const Tensor& p : {linear.weight(), linear.bias()}) {
        std::vector<float> v = p.to_vector();
        const float lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
        CHECK(lo >= -bound);
        CHECK(hi < bound);
        // the range is filled: with ≥ 300 draws the extremes come within 3% of the bounds
        CHECK(lo < -0.97f * bound);
        CHECK(hi > 0.97f * bound);
    }
    // mean 0 and variance bound²/3 for the 19200 weights (tolerances ~5 standard errors)
    Tensor w = linear.weight();
    const float m = mean(w).item();
    const float var = mean((w - m) * (w - m)).item();
    CHECK(std::abs(m) < 5 * std::sqrt(bound * bound / 3 / w.numel()));
    CHECK(var == doctest::Approx(bound * bound / 3).epsilon(0.05));
    // parameters, ready for training
    CHECK(linear.weight().requires_grad());
    CHECK(linear.bias().requires_grad());
    CHECK(linear.in_features() == 64);
    CHECK(linear.out_features() == 300);
}

TEST_CASE("Linear is reproducible for a seed") {
    Generator a(9), b(9);
    CHECK(Linear(5, 4, a).weight().to_vector() == Linear(5, 4, b).weight().to_vector());
}

TEST_CASE("Linear errors") {
    Generator gen(0);
    Linear linear(3, 2, gen);
    std::string message = error_of([&] { linear(zeros({2, 4})); });
    CHECK(message.find("[Linear]") == 0);
    CHECK(message.find("(..., 3)") != std::string::npos);
    CHECK(message.find("(2, 4)") != std::string::npos);
    CHECK(error_of([&] { linear(scalar(1)); }).find("got ()") != std::string::npos);
    CHECK(error_of([&] { linear(Tensor()); }).find("[Linear] input is an undefined tensor") == 0);
    message = error_of([&] { Linear(0, 2, gen); });
    CHECK(message.find("[Linear]") == 0);
    CHECK(message.find("got 0 and 2") != std::string::npos);
}
