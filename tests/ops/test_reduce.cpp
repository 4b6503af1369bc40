// test_reduce.cpp: sum, mean and max. Values and gradients worked out by hand, output shapes for
// every keepdim/axes combination, gradcheck over many axis sets on awkward sizes, the errors, and
// the SIMD sums against the reference kernel at every SIMD level.
#include "simd_testing.hpp"
#include "thread_testing.hpp"
#include "testing.hpp"

#include <fmt/ranges.h>

#include <cmath>
#include <functional>
#include <numeric>

using namespace ag;
using ag::testing::iota;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {

using Reduce = std::function<Tensor(const Tensor&, const std::vector<int>&, bool)>;

// The three ops behind one signature, for tests that treat them alike.
const std::vector<std::pair<std::string, Reduce>> kReductions = {
    {"sum", [](const Tensor& x, const std::vector<int>& axes, bool keepdim) { return sum(x, axes, keepdim); }},
    {"mean", [](const Tensor& x, const std::vector<int>& axes, bool keepdim) { return mean(x, axes, keepdim); }},
    {"max", [](const Tensor& x, const std::vector<int>& axes, bool keepdim) { return max(x, axes, keepdim); }},
};

// A leaf whose values are all distinct, 0.1 apart (i -> 37 i mod n is a permutation when n is
// prime to 37): max has no ties, and its gap exceeds gradcheck's perturbation.
Tensor distinct(const Shape& shape, uint64_t seed) {
    Tensor t = empty(shape);
    const int64_t n = t.numel();
    const int64_t shift = static_cast<int64_t>(seed);
    for (int64_t i = 0; i < n; ++i) t.data()[i] = 0.1f * static_cast<float>((37 * i + shift) % n) - 1.0f;
    t.requires_grad_();
    return t;
}

// The gradient of x when op(x) is backpropagated with the given dout.
Tensor grad_of(const std::function<Tensor(const Tensor&)>& op, const Tensor& x_values, const Tensor& dout) {
    Tensor x = clone_data(x_values);
    x.requires_grad_();
    op(x).backward(dout);
    return x.grad();
}

}  // namespace

TEST_CASE("sum: values over all, one and several axes") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
    check_close(sum(x), scalar(21));
    check_close(sum(x, {0}), tensor({5, 7, 9}));
    check_close(sum(x, {1}), tensor({6, 15}));
    check_close(sum(x, {-1}, true), tensor({6, 15}, Shape{2, 1}));
    check_close(sum(x, {0, 1}), scalar(21));
    // (2, 3, 4) iota, x[i][j][k] = 12i + 4j + k:
    //   over {0, 2}: Σ_i Σ_k = 8·4j + 4·12 + 2·6 = 32j + 60
    //   over {1}:    Σ_j     = 36i + 12 + 3k
    Tensor y = iota({2, 3, 4});
    check_close(sum(y, {0, 2}), tensor({60, 92, 124}));
    check_close(sum(y, {-1, 0}), tensor({60, 92, 124}));
    check_close(sum(y, {1}), tensor({{12, 15, 18, 21}, {48, 51, 54, 57}}));
    check_close(sum(y, {0, 2}, true), tensor({60, 92, 124}, Shape{1, 3, 1}));
}

TEST_CASE("sum: gradient broadcasts dout back to the input") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
    auto over_rows = [](const Tensor& t) { return sum(t, {1}); };
    check_close(grad_of(over_rows, x, tensor({1, 2})), tensor({{1, 1, 1}, {2, 2, 2}}));
    auto over_cols_kept = [](const Tensor& t) { return sum(t, {0}, true); };
    check_close(grad_of(over_cols_kept, x, tensor({{1, 2, 3}})), tensor({{1, 2, 3}, {1, 2, 3}}));
    auto all = [](const Tensor& t) { return sum(t); };
    check_close(grad_of(all, x, scalar(2)), full({2, 3}, 2));
}

TEST_CASE("mean: values are the sum divided by the group size") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
    check_close(mean(x), scalar(3.5f));
    check_close(mean(x, {0}), tensor({2.5f, 3.5f, 4.5f}));
    check_close(mean(x, {1}, true), tensor({2, 5}, Shape{2, 1}));
    // (2, 3, 4) iota over {0, 2}: (32j + 60) / 8
    check_close(mean(iota({2, 3, 4}), {0, 2}), tensor({7.5f, 11.5f, 15.5f}));
}

TEST_CASE("mean: gradient is dout / n broadcast back") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
    auto over_cols = [](const Tensor& t) { return mean(t, {0}); };
    check_close(grad_of(over_cols, x, tensor({3, 6, 9})), tensor({{1.5f, 3, 4.5f}, {1.5f, 3, 4.5f}}));
    auto all = [](const Tensor& t) { return mean(t); };
    check_close(grad_of(all, x, scalar(6)), full({2, 3}, 1));
}

TEST_CASE("max: values over all, one and several axes") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
    check_close(max(x), scalar(6));
    check_close(max(x, {0}), tensor({4, 5, 6}));
    check_close(max(x, {-1}), tensor({3, 6}));
    check_close(max(tensor({-3, -1, -2})), scalar(-1));
    // (2, 3, 4) iota: over {0, 2} the max is at i = 1, k = 3: 15 + 4j; over {1} at j = 2: 12i + 8 + k
    Tensor y = iota({2, 3, 4});
    check_close(max(y, {0, 2}), tensor({15, 19, 23}));
    check_close(max(y, {1}, true), tensor({8, 9, 10, 11, 20, 21, 22, 23}, Shape{2, 1, 4}));
}

TEST_CASE("max: gradient goes to the max, shared equally among ties") {
    // row 0: max 5 twice -> 1/2 each; row 1: max 2 twice -> 4/2 each
    Tensor x = tensor({{1, 5, 5}, {2, 2, 0}});
    auto over_rows = [](const Tensor& t) { return max(t, {1}); };
    check_close(grad_of(over_rows, x, tensor({1, 4})), tensor({{0, 0.5f, 0.5f}, {2, 2, 0}}));
    // three-way tie over everything: 1/3 each
    auto all = [](const Tensor& t) { return max(t); };
    check_close(grad_of(all, tensor({3, 1, 3, 3}), scalar(1)), tensor({1.0f / 3, 0, 1.0f / 3, 1.0f / 3}));
    // no tie, keepdim: each column's dout goes to its larger element
    auto over_cols_kept = [](const Tensor& t) { return max(t, {0}, true); };
    check_close(grad_of(over_cols_kept, tensor({{1, 5}, {3, 2}}), tensor({{10, 20}})), tensor({{0, 20}, {10, 0}}));
}

TEST_CASE("max: NaN propagates, as in PyTorch") {
    CHECK(std::isnan(max(tensor({1, NAN, 2})).item()));
    CHECK(std::isnan(max(tensor({NAN, 1})).item()));
    Tensor rows = max(tensor({{1, NAN}, {3, 2}}), {1});
    CHECK(std::isnan(rows.data()[0]));
    CHECK(rows.data()[1] == 3.0f);
}

TEST_CASE("sum, mean, max: output shapes with and without keepdim") {
    struct Case {
        std::vector<int> axes;
        Shape dropped, kept;
    };
    const std::vector<Case> cases = {
        {{1}, {2, 4}, {2, 1, 4}},
        {{-1}, {2, 3}, {2, 3, 1}},
        {{0, 2}, {3}, {1, 3, 1}},
        {{2, 0}, {3}, {1, 3, 1}},
        {{}, {}, {1, 1, 1}},
        {{-3, -2, -1}, {}, {1, 1, 1}},
    };
    Tensor x = iota({2, 3, 4});
    for (const auto& [name, reduce] : kReductions) {
        for (const Case& c : cases) {
            CAPTURE(name);
            CAPTURE(fmt::format("{}", c.axes));
            CHECK(reduce(x, c.axes, false).shape() == c.dropped);
            CHECK(reduce(x, c.axes, true).shape() == c.kept);
        }
    }
    CHECK(sum(x).shape() == Shape{});
    CHECK(mean(x).shape() == Shape{});
    CHECK(max(x).shape() == Shape{});
}

TEST_CASE("sum, mean, max: gradcheck over axis sets on awkward sizes") {
    struct Case {
        Shape shape;
        std::vector<int> axes;
    };
    const std::vector<Case> cases = {
        {{1}, {}},         {{1}, {0}},        {{7}, {-1}},      {{9}, {}},          {{33}, {0}},
        {{3, 11}, {0}},    {{3, 11}, {1}},    {{3, 11}, {-1, 0}}, {{2, 9, 5}, {1}},   {{2, 9, 5}, {0, 2}},
        {{2, 9, 5}, {-1}}, {{2, 9, 5}, {2, 1}}, {{2, 9, 5}, {}},  {{7, 1, 3}, {1}},   {{7, 1, 3}, {0, 1}},
    };
    uint64_t seed = 1;
    for (const auto& [name, reduce] : kReductions) {
        for (const Case& c : cases) {
            for (bool keepdim : {false, true}) {
                CAPTURE(name);
                CAPTURE(fmt::format("{} over {} keepdim {}", c.shape, c.axes, keepdim));
                // max needs a clear winner in every group; sum and mean take any values
                Tensor x = name == "max" ? distinct(c.shape, seed++) : param(c.shape, seed++);
                auto f = [&](const std::vector<Tensor>& in) { return reduce(in[0], c.axes, keepdim); };
                CHECK_GRADCHECK(f, {x});
            }
        }
    }
}

TEST_CASE("sum, mean, max: each records its own node") {
    Tensor x = param({2, 3}, 5);
    for (const auto& [name, reduce] : kReductions) {
        CAPTURE(name);
        Tensor y = reduce(x, {1}, false);
        REQUIRE(y.grad_fn() != nullptr);
        CHECK(y.grad_fn()->name() == name);
    }
}

TEST_CASE("sum, mean, max: axis errors name the op, the axis and the shape") {
    Tensor x = zeros({2, 3, 4});
    CHECK(error_of([&] { sum(x, {3}); }) == "[sum] axis 3 out of range for shape (2, 3, 4)");
    CHECK(error_of([&] { mean(x, {-4}); }) == "[mean] axis -4 out of range for shape (2, 3, 4)");
    CHECK(error_of([&] { max(x, {0, 5}); }) == "[max] axis 5 out of range for shape (2, 3, 4)");
    // duplicates, also when one is written negative
    CHECK(error_of([&] { sum(x, {1, -2}); }) == "[sum] axis 1 appears twice in axes [1, -2] for shape (2, 3, 4)");
    CHECK(error_of([&] { mean(x, {2, 2}, true); }) == "[mean] axis 2 appears twice in axes [2, 2] for shape (2, 3, 4)");
    CHECK(error_of([&] { max(x, {0, 1, 0}); }) == "[max] axis 0 appears twice in axes [0, 1, 0] for shape (2, 3, 4)");
    CHECK(error_of([] { sum(Tensor()); }) == "[sum] the input is an undefined tensor");
}

TEST_CASE("sum, mean, max: empty tensors") {
    // sum of nothing is 0 and mean is 0/0 = NaN, as in PyTorch; max has no answer and throws
    check_close(sum(zeros({2, 0}), {1}), tensor({0, 0}));
    check_close(sum(zeros({0})), scalar(0));
    Tensor m = mean(zeros({2, 0}), {1});
    CHECK(m.shape() == Shape{2});
    CHECK(std::isnan(m.data()[0]));
    CHECK(error_of([] { max(zeros({2, 0}), {1}); }) == "[max] cannot reduce over axis 1 of size 0 in shape (2, 0)");
    CHECK(error_of([] { max(zeros({0})); }) == "[max] cannot reduce over axis 0 of size 0 in shape (0,)");
    // an empty axis that is kept is fine: there are just no groups
    CHECK(max(zeros({0, 3}), {1}).shape() == Shape{0});
    CHECK(max(zeros({0, 3}), {1}, true).shape() == Shape{0, 1});
}

TEST_CASE("sum, mean, max: a 0-dimensional tensor reduces to itself") {
    Tensor s = scalar(3);
    check_close(sum(s), scalar(3));
    check_close(mean(s), scalar(3));
    check_close(max(s, {}, true), scalar(3));
}

TEST_CASE("sum and mean: SIMD kernels match the reference at every level") {
    // Reducing trailing axes (the last, or all) sums each row with several accumulators: another
    // order than the reference's left-to-right sum. Two orders of a sum of m terms differ by at
    // most 2 (m - 1) u Σ|x| (u = 2^-24), and mean divides that by m (plus one rounding, u |mean|).
    // Reducing leading axes adds the rows in the reference's order: the same bits. Any other axis
    // set runs the reference kernel at every level.
    struct Case {
        Shape shape;
        std::vector<int> axes;
        bool same_order;  // a leading block (or the reference): bit-identical
    };
    std::vector<Case> cases;
    for (int64_t C : testing::kAwkwardCols) {
        cases.push_back({{3, C}, {-1}, false});     // the last axis
        cases.push_back({{3, C}, {}, false});       // all
        cases.push_back({{3, C}, {0}, true});       // a leading axis (columns)
        cases.push_back({{2, 3, C}, {1, 2}, false});  // a trailing block
        cases.push_back({{2, 3, C}, {0, 1}, true});   // a leading block
        cases.push_back({{2, 3, C}, {0, 2}, true});   // neither: the reference kernel
    }
    const double u = testing::kUnitRoundoff;
    for (const Case& c : cases) {
        std::vector<float> values = testing::uniform_floats(c.shape.numel(), static_cast<uint32_t>(c.shape.numel()));
        const Tensor x = tensor(values, c.shape);
        for (float& v : values) v = std::fabs(v);
        const Tensor abs_x = tensor(values, c.shape);  // for the tolerance: Σ|x| per output
        for (bool keepdim : {false, true}) {
            for (bool is_mean : {false, true}) {
                auto reduce = [&] { return is_mean ? mean(x, c.axes, keepdim) : sum(x, c.axes, keepdim); };
                Tensor expected, abs_sum;
                {
                    testing::ScopedSimdLevel scalar(SimdLevel::scalar);  // the reference kernels
                    expected = reduce();
                    abs_sum = sum(abs_x, c.axes, keepdim);
                }
                const double m = static_cast<double>(x.numel() / std::max<int64_t>(expected.numel(), 1));
                std::vector<double> tol(expected.numel());
                for (int64_t i = 0; i < expected.numel(); ++i)
                    tol[i] = c.same_order ? 0.0
                                          : 2.0 * (m - 1.0) * u * abs_sum.data()[i] / (is_mean ? m : 1.0) +
                                                u * std::fabs(expected.data()[i]);
                for (SimdLevel level : testing::simd_levels()) {
                    testing::ScopedSimdLevel scoped(level);
                    INFO((is_mean ? "mean " : "sum "), c.shape, " axes ", c.axes.size(), " keepdim ", keepdim,
                         ", level ", std::string(simd_level_name(level)));
                    Tensor got = reduce();
                    CHECK(got.shape() == expected.shape());
                    if (c.same_order)
                        testing::check_identical(got.to_vector(), expected.to_vector());
                    else
                        testing::check_within(got.to_vector(), expected.to_vector(), tol);
                }
            }
        }
    }
}

TEST_CASE("sum: the same bits on 1, 2 and 3 threads, all axes, short rows and long rows") {
    // all of 100001 floats and 2 rows of 70001 (partial sums of 32768-float chunks, added in chunk
    // order), and 3000 rows of 50 (chunks of rows)
    Tensor flat = tensor(ag::testing::uniform_floats(100001, 71), {100001});
    Tensor long_rows = tensor(ag::testing::uniform_floats(2 * 70001, 72), {2, 70001});
    Tensor short_rows = tensor(ag::testing::uniform_floats(3000 * 50, 73), {3000, 50});
    ag::testing::check_same_bits_on_threads([&] {
        std::vector<float> all = sum(flat).to_vector(), per_long = sum(long_rows, {1}).to_vector();
        std::vector<float> per_short = sum(short_rows, {-1}).to_vector();
        return ag::testing::concat({&all, &per_long, &per_short});
    });
    // and the chunked sum is still the sum: within the float bound n u Σ|x| of the reference
    const std::vector<float> v = flat.to_vector();
    double exact = 0, bound = 0;
    for (float f : v) exact += f, bound += std::fabs(f);
    CHECK(std::fabs(sum(flat).item() - exact) <= double(v.size()) * ag::testing::kUnitRoundoff * bound);
}
