// test_binary.cpp: add, sub, mul, div: values, broadcasting, gradients, errors, and the SIMD
// kernel against the reference kernel at every SIMD level.
#include "simd_testing.hpp"
#include "thread_testing.hpp"
#include "testing.hpp"

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

TEST_CASE("binary: values by hand") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    Tensor b = tensor({10, 20, 30});
    check_close(a + b, tensor({{11, 22, 33}, {14, 25, 36}}));
    check_close(a - b, tensor({{-9, -18, -27}, {-6, -15, -24}}));
    check_close(a * b, tensor({{10, 40, 90}, {40, 100, 180}}));
    check_close(b / a, tensor({{10, 10, 10}, {2.5f, 4, 5}}));
    check_close(a * 2.0f, tensor({{2, 4, 6}, {8, 10, 12}}));
    check_close(1.0f - a, tensor({{0, -1, -2}, {-3, -4, -5}}));
    check_close(6.0f / a, tensor({{6, 3, 2}, {1.5f, 1.2f, 1}}));
    check_close(-a, tensor({{-1, -2, -3}, {-4, -5, -6}}));
}

TEST_CASE("binary: broadcasting both ways: (3, 1) with (1, 4)") {
    Tensor col = tensor({1, 2, 3}, Shape{3, 1});
    Tensor row = tensor({{10, 20, 30, 40}});
    Tensor s = col + row;
    CHECK(s.shape() == Shape{3, 4});
    CHECK(s.at({2, 3}) == 43.0f);
    CHECK(s.at({0, 1}) == 21.0f);
}

TEST_CASE("binary: gradients by hand for div") {
    // y = a / b: dy/da = 1/b = 0.5, dy/db = -a/b² = -3/4
    Tensor a = scalar(3.0f), b = scalar(2.0f);
    a.requires_grad_();
    b.requires_grad_();
    (a / b).backward();
    CHECK(a.grad().item() == 0.5f);
    CHECK(b.grad().item() == -0.75f);
}

TEST_CASE("binary: gradcheck on awkward sizes and broadcasts") {
    using F = std::function<Tensor(const std::vector<Tensor>&)>;
    F add_f = [](const std::vector<Tensor>& in) { return add(in[0], in[1]); };
    F sub_f = [](const std::vector<Tensor>& in) { return sub(in[0], in[1]); };
    F mul_f = [](const std::vector<Tensor>& in) { return mul(in[0], in[1]); };
    F div_f = [](const std::vector<Tensor>& in) { return div(in[0], in[1]); };
    for (int64_t n : {1, 7, 9, 33}) {
        CAPTURE(n);
        for (const F& f : {add_f, sub_f, mul_f}) {
            CHECK_GRADCHECK(f, {param({n}, 1), param({n}, 2)});
            CHECK_GRADCHECK(f, {param({3, n}, 3), param({n}, 4)});        // row broadcast (bias)
            CHECK_GRADCHECK(f, {param({2, 3, n}, 7), param({3, n}, 8)});  // trailing block broadcast
            CHECK_GRADCHECK(f, {param({2, 1, n}, 5), param({3, 1}, 6)});  // both broadcast
            CHECK_GRADCHECK(f, {param({n, 2}, 7), param({}, 8)});         // scalar
        }
        // keep the divisor away from 0: 2 + |noise|
        Tensor den = param({n}, 9);
        for (int64_t i = 0; i < n; ++i) den.data()[i] = 2.0f + std::fabs(den.data()[i]);
        CHECK_GRADCHECK(div_f, {param({3, n}, 10), den});
        CHECK_GRADCHECK(div_f, {param({n}, 11), scalar(-1.5f).requires_grad_()});
    }
}

TEST_CASE("binary: with one operand a constant, the other still gets its full gradient") {
    // sub, mul and div skip the gradient of an operand that needs none; gradcheck on the other
    // operand, on each side, checks that the skip picks the right one
    Tensor constant = full({3, 5}, 2.5f);
    using F = std::function<Tensor(const std::vector<Tensor>&)>;
    const F left[] = {[&](const std::vector<Tensor>& in) { return sub(in[0], constant); },
                      [&](const std::vector<Tensor>& in) { return mul(in[0], constant); },
                      [&](const std::vector<Tensor>& in) { return div(in[0], constant); }};
    const F right[] = {[&](const std::vector<Tensor>& in) { return sub(constant, in[0]); },
                       [&](const std::vector<Tensor>& in) { return mul(constant, in[0]); },
                       [&](const std::vector<Tensor>& in) { return div(constant, in[0]); }};
    for (int op = 0; op < 3; ++op) {
        CAPTURE(op);
        CHECK_GRADCHECK(left[op], {param({3, 5}, 20)});
        Tensor den = param({5}, 21);  // broadcast over the rows; kept away from 0
        for (int64_t i = 0; i < 5; ++i) den.data()[i] = 2.0f + std::fabs(den.data()[i]);
        CHECK_GRADCHECK(right[op], {den});
    }
    // by hand: y = c / b summed, dy/db = -c/b² = -2.5 / 4 per element, 3 rows each
    Tensor b = full({5}, 2.0f);
    b.requires_grad_();
    sum(div(constant, b)).backward();
    CHECK(b.grad().at({0}) == -1.875f);
    CHECK_FALSE(constant.grad().defined());
}

TEST_CASE("binary: errors name the op and both shapes") {
    Tensor a = zeros({2, 3}), b = zeros({4});
    CHECK(error_of([&] { add(a, b); }) == "[add] shapes cannot be broadcast: (2, 3) and (4,)");
    CHECK(error_of([&] { sub(a, b); }) == "[sub] shapes cannot be broadcast: (2, 3) and (4,)");
    CHECK(error_of([&] { mul(a, b); }) == "[mul] shapes cannot be broadcast: (2, 3) and (4,)");
    CHECK(error_of([&] { div(a, b); }) == "[div] shapes cannot be broadcast: (2, 3) and (4,)");
    CHECK(error_of([&] { add(a, Tensor()); }) == "[add] an operand is an undefined tensor");
}

TEST_CASE("binary: SIMD kernel matches the reference bit for bit at every level") {
    // Same shape, a scalar on either side, a bias row on either side (the SIMD layouts), and one
    // broadcast that is none of them; one IEEE operation per element, so no tolerance. Inputs
    // hold ±0, ±inf and NaN among random values, and b never is exactly 0 except there.
    using testing::check_identical;
    auto operand = [](const Shape& shape, uint32_t seed) {
        std::vector<float> v = testing::uniform_floats(shape.numel(), seed, -4.0f, 4.0f);
        const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN};
        for (int64_t i = 0; i < 5 && i < shape.numel(); ++i) v[i * 3 % shape.numel()] = specials[i];
        return tensor(v, shape);
    };
    std::vector<std::pair<Shape, Shape>> cases;
    for (int64_t n : testing::kAwkwardCols) {
        cases.push_back({{n}, {n}});          // same shape
        cases.push_back({{2, n}, {}});        // b scalar
        cases.push_back({{1}, {3, n}});       // a scalar of shape (1,)
        cases.push_back({{3, n}, {n}});       // b a bias row
        cases.push_back({{1, 1, n}, {2, 3, n}});  // a a row of shape (1, 1, D)
        cases.push_back({{2, 3, n}, {3, n}});     // b a trailing block (position table)
        cases.push_back({{1, 3, n}, {2, 3, n}});  // a a trailing block with a leading 1
    }
    cases.push_back({{3, 1}, {1, 4}});  // the reference's general broadcast
    using Fn = Tensor (*)(const Tensor&, const Tensor&);
    const std::pair<const char*, Fn> ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
    for (auto [sa, sb] : cases) {
        const Tensor a = operand(sa, static_cast<uint32_t>(sa.numel()));
        const Tensor b = operand(sb, static_cast<uint32_t>(sb.numel() + 7));
        for (auto [name, op] : ops) {
            std::vector<float> expected;
            {
                testing::ScopedSimdLevel scalar(SimdLevel::scalar);  // the reference kernel
                expected = op(a, b).to_vector();
            }
            for (SimdLevel level : testing::simd_levels()) {
                testing::ScopedSimdLevel scoped(level);
                INFO(std::string(name), " ", sa, " with ", sb, ", level ", std::string(simd_level_name(level)));
                check_identical(op(a, b).to_vector(), expected);
            }
        }
    }
}

TEST_CASE("binary: same-shape, scalar and bias layouts give the same bits on 1, 2 and 3 threads") {
    // 100001 floats in one row (chunks of columns) and 900 rows of 77 (chunks of rows)
    const int64_t n = 100001, rows = 900, cols = 77;
    Tensor a = tensor(ag::testing::uniform_floats(n, 61), {n}), b = tensor(ag::testing::uniform_floats(n, 62), {n});
    Tensor m = tensor(ag::testing::uniform_floats(rows * cols, 63), {rows, cols});
    Tensor bias = tensor(ag::testing::uniform_floats(cols, 64), {cols});
    ag::testing::check_same_bits_on_threads([&] {
        std::vector<float> sum_ab = add(a, b).to_vector(), quotient = div(a, b).to_vector();
        std::vector<float> scaled = (a * 3.0f).to_vector(), biased = sub(m, bias).to_vector();
        return ag::testing::concat({&sum_ab, &quotient, &scaled, &biased});
    });
}
