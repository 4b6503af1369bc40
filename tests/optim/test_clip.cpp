// test_clip.cpp: clip_grad_norm against hand-computed norms and scales.
#include "optim/clip.hpp"
#include "testing.hpp"

#include <cmath>

using namespace ag;
using namespace ag::testing;

namespace {
Tensor with_grad(Tensor g) {
    Tensor p = zeros(g.shape());
    p.requires_grad_();
    p.set_grad(g);
    return p;
}
}  // namespace

TEST_CASE("clip_grad_norm scales all gradients by max_norm / (norm + 1e-6)") {
    // grads [3, 4] and [12]: norm sqrt(9 + 16 + 144) = 13. max_norm 6.5: coef = 6.5 / (13 + 1e-6),
    // just under 0.5: grads become [1.5, 2] and [6], slightly less.
    Tensor a = with_grad(tensor({3, 4})), b = with_grad(tensor({12}));
    Tensor none = zeros({5});
    none.requires_grad_();  // no gradient: skipped
    double norm = clip_grad_norm({a, b, none}, 6.5);
    CHECK(norm == 13.0);
    double coef = 6.5 / (13.0 + 1e-6);
    CHECK(a.grad().to_vector()[0] == static_cast<float>(3 * static_cast<float>(coef)));
    CHECK(a.grad().to_vector()[1] == static_cast<float>(4 * static_cast<float>(coef)));
    CHECK(b.grad().item() == static_cast<float>(12 * static_cast<float>(coef)));
    CHECK(b.grad().item() < 6.0f);
    // the clipped norm is now just below max_norm
    double clipped = std::sqrt(std::pow(a.grad().to_vector()[0], 2) + std::pow(a.grad().to_vector()[1], 2) +
                               std::pow(b.grad().item(), 2));
    CHECK(clipped == doctest::Approx(6.5).epsilon(1e-6));
    CHECK(clipped < 6.5);
}

TEST_CASE("clip_grad_norm leaves small gradients alone and returns their norm") {
    Tensor a = with_grad(tensor({3, 4}));
    CHECK(clip_grad_norm({a}, 5.0) == 5.0);  // coef 5 / (5 + 1e-6) < 1: scaled by a hair
    CHECK(a.grad().to_vector()[1] < 4.0f);
    Tensor b = with_grad(tensor({3, 4}));
    CHECK(clip_grad_norm({b}, 10.0) == 5.0);
    CHECK(b.grad().to_vector() == std::vector<float>{3, 4});
    Tensor z = with_grad(zeros({3}));
    CHECK(clip_grad_norm({z}, 1.0) == 0.0);  // the 1e-6 keeps 1 / 0 away
    CHECK(z.grad().to_vector() == std::vector<float>{0, 0, 0});
    CHECK(clip_grad_norm({}, 1.0) == 0.0);
}

TEST_CASE("clip_grad_norm accumulates in double") {
    // 1e20^2 = 1e40 overflows float (max 3.4e38); in double the norm is exactly representable
    Tensor a = with_grad(tensor({1e20f, 0.0f}));
    double norm = clip_grad_norm({a}, 1.0);
    CHECK(norm == doctest::Approx(1e20).epsilon(1e-7));
    CHECK(a.grad().to_vector()[0] == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm reports a non-finite norm and validates max_norm") {
    Tensor a = with_grad(tensor({INFINITY, 1.0f}));
    CHECK(std::isinf(clip_grad_norm({a}, 1.0)));
    CHECK(error_of([&] { clip_grad_norm({a}, 0.0); }) ==
          "[clip_grad_norm] max_norm must be positive and finite: got 0");
    CHECK(error_of([&] { clip_grad_norm({a}, -1.0); }).find("got -1") != std::string::npos);
}
