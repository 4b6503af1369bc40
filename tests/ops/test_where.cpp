// test_where.cpp: where and masked_fill: hand-computed values, broadcasting, gradcheck, the
// condition getting no gradient, -inf fills and error messages.
#include "testing.hpp"

#include <cmath>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {
using Inputs = std::vector<Tensor>;

// A random condition of 0s and 1s (not requiring grad: it only picks).
Tensor random_mask(const Shape& shape, uint64_t seed) {
    Generator gen(seed);
    Tensor m = rand(shape, gen);
    for (int64_t i = 0; i < m.numel(); ++i) m.data()[i] = m.data()[i] < 0.5f ? 1.0f : 0.0f;
    return m;
}
}  // namespace

// --- where -------------------------------------------------------------------------------------

TEST_CASE("where by hand, with all three operands broadcast") {
    Tensor cond = tensor({1, 0}, {2, 1});  // row 0 takes a, row 1 takes b
    Tensor a = tensor({1, 2, 3});
    Tensor b = scalar(9.0f);
    check_close(where(cond, a, b), tensor({{1, 2, 3}, {9, 9, 9}}));
    // any non-zero is true, including negatives, fractions and NaN
    Tensor c = tensor({-1, 0.5f, 0, NAN});
    check_close(where(c, tensor({1, 2, 3, 4}), tensor({5, 6, 7, 8})), tensor({1, 2, 7, 4}));
}

TEST_CASE("where backward: da = dout * [cond], db = dout * [!cond], summed where broadcast") {
    Tensor cond = tensor({{1, 0, 1}, {0, 0, 1}});
    Tensor a = param({2, 3}, 1);
    Tensor b = param({3}, 2);  // broadcast along the rows
    Tensor y = where(cond, a, b);
    REQUIRE(y.grad_fn());
    CHECK(y.grad_fn()->name() == "where");
    y.backward(tensor({{1, 2, 3}, {4, 5, 6}}));
    check_close(a.grad(), tensor({{1, 0, 3}, {0, 0, 6}}));
    // b's column j collects dout where cond is 0: (0 + 4, 2 + 5, 0 + 0)
    check_close(b.grad(), tensor({4, 7, 0}));
}

TEST_CASE("where gradcheck with broadcasting and awkward sizes") {
    Tensor c1 = random_mask({1, 9}, 3);
    CHECK_GRADCHECK([&](const Inputs& v) { return where(c1, v[0], v[1]); }, {param({7, 1}, 4), param({7, 9}, 5)});
    Tensor c2 = random_mask({33}, 6);
    CHECK_GRADCHECK([&](const Inputs& v) { return where(c2, v[0], v[1]); }, {param({2, 33}, 7), param({1}, 8)});
    Tensor c3 = random_mask({7, 1, 1}, 9);
    CHECK_GRADCHECK([&](const Inputs& v) { return where(c3, v[0], v[1]); }, {param({1, 9}, 10), param({1, 1, 9}, 11)});
}

TEST_CASE("where gives the condition no gradient") {
    Tensor cond = tensor({1, 0, 1});
    cond.requires_grad_();
    Tensor a = param({3}, 12);
    where(cond, a, zeros({3})).backward(ones({3}));
    CHECK_FALSE(cond.grad().defined());
    check_close(a.grad(), tensor({1, 0, 1}));
    // a condition alone does not make the output differentiable
    CHECK_FALSE(where(cond, ones({3}), zeros({3})).requires_grad());
}

TEST_CASE("where errors") {
    Tensor c = ones({2, 3});
    CHECK(error_of([&] { where(c, ones({4}), ones({3})); }) ==
          "[where] shapes cannot be broadcast: condition (2, 3), a (4,), b (3,)");
    CHECK(error_of([&] { where(ones({2, 1}), ones({3}), ones({4, 1, 1})); }) == "");  // (4, 2, 3): fine
    CHECK(error_of([&] { where(ones({5}), ones({2, 1}), ones({3, 1})); }) ==
          "[where] shapes cannot be broadcast: condition (5,), a (2, 1), b (3, 1)");
    CHECK(error_of([&] { where(Tensor(), c, c); }) == "[where] an operand is an undefined tensor");
}

// --- masked_fill -------------------------------------------------------------------------------

TEST_CASE("masked_fill by hand, the mask broadcast over rows") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
    Tensor mask = tensor({0, 1, 0});
    check_close(masked_fill(x, mask, 9.0f), tensor({{1, 9, 3}, {4, 9, 6}}));
    // a causal mask: above the diagonal becomes -inf, as attention uses it
    Tensor causal = tensor({{0, 1, 1}, {0, 0, 1}, {0, 0, 0}});
    Tensor y = masked_fill(ones({3, 3}), causal, -INFINITY);
    check_close(y, tensor({{1, -INFINITY, -INFINITY}, {1, 1, -INFINITY}, {1, 1, 1}}));
    CHECK(std::isinf(y.at({0, 2})));
    CHECK(y.at({0, 2}) < 0.0f);
}

TEST_CASE("masked_fill backward: zero where filled, even for -inf") {
    Tensor x = param({2, 3}, 13);
    Tensor mask = tensor({{1, 0, 0}, {0, 0, 1}});
    Tensor y = masked_fill(x, mask, -INFINITY);
    CHECK(y.grad_fn()->name() == "masked_fill");
    y.backward(tensor({{1, 2, 3}, {4, 5, 6}}));
    check_close(x.grad(), tensor({{0, 2, 3}, {4, 5, 0}}));
    // the mask gets no gradient and does not make the output differentiable on its own
    Tensor m = tensor({1, 0});
    m.requires_grad_();
    CHECK_FALSE(masked_fill(ones({2}), m, 0.0f).requires_grad());
}

TEST_CASE("masked_fill gradcheck with broadcast masks and awkward sizes") {
    Tensor m1 = random_mask({1, 9}, 14);
    CHECK_GRADCHECK([&](const Inputs& v) { return masked_fill(v[0], m1, 3.0f); }, {param({7, 9}, 15)});
    Tensor m2 = random_mask({33}, 16);
    CHECK_GRADCHECK([&](const Inputs& v) { return masked_fill(v[0], m2, -1.0f); }, {param({2, 33}, 17)});
    Tensor m3 = random_mask({7, 1}, 18);
    CHECK_GRADCHECK([&](const Inputs& v) { return masked_fill(v[0], m3, 0.0f); }, {param({1, 7, 9}, 19)});
}

TEST_CASE("masked_fill errors") {
    // the mask may not enlarge x
    CHECK(error_of([] { masked_fill(ones({3}), ones({2, 3}), 0.0f); }) ==
          "[masked_fill] mask of shape (2, 3) does not broadcast to x's shape (3,)");
    CHECK(error_of([] { masked_fill(ones({2, 1}), ones({3}), 0.0f); }) ==
          "[masked_fill] mask of shape (3,) does not broadcast to x's shape (2, 1)");
    CHECK(error_of([] { masked_fill(ones({2, 3}), ones({4}), 0.0f); }) ==
          "[masked_fill] mask of shape (4,) does not broadcast to x's shape (2, 3)");
    CHECK(error_of([] { masked_fill(ones({2, 3}), Tensor(), 0.0f); }) ==
          "[masked_fill] an operand is an undefined tensor");
}
