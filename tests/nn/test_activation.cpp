// test_activation.cpp: ReLU and GELU modules (values by hand; the ops have their own gradchecks).
#include "testing.hpp"

#include "nn/activation.hpp"

#include <cmath>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;

TEST_CASE("ReLU keeps the positive part (hand-computed)") {
    ReLU relu_module;
    check_close(relu_module(tensor({-2, -0.5f, 0, 1.5f})), tensor({0, 0, 0, 1.5f}), 0.0f, 0.0f);
    CHECK(relu_module.num_parameters() == 0);
    CHECK(error_of([&] { relu_module(Tensor()); }).find("[ReLU]") == 0);
}

TEST_CASE("GELU: x Φ(x), exact and tanh-approximated (hand-computed)") {
    // Φ(1) = 0.841344746, Φ(-1) = 0.158655254: gelu(1) = 0.841345, gelu(-1) = -0.158655
    GELU exact;
    check_close(exact(tensor({-1, 0, 1})), tensor({-0.158655254f, 0, 0.841344746f}), 1e-5f, 1e-6f);
    // tanh form at 1: 0.5 (1 + tanh(√(2/π) · 1.044715)) = 0.5 (1 + tanh(0.833554)) = 0.841192
    GELU approx(GeluApproximation::Tanh);
    CHECK(approx.approximate() == GeluApproximation::Tanh);
    const float u = std::sqrt(2.0f / 3.14159265f) * 1.044715f;
    check_close(approx(tensor({1})), tensor({0.5f * (1 + std::tanh(u))}), 1e-5f, 1e-6f);
    CHECK(approx(tensor({1})).item() == doctest::Approx(0.841192).epsilon(1e-5));
    CHECK(error_of([&] { exact(Tensor()); }).find("[GELU]") == 0);
}
