// test_unary.cpp: the unary table. For each op: values and gradients worked out by hand, the
// recorded node's name, gradcheck on awkward sizes with inputs inside the op's domain, and the
// SIMD kernels against the reference kernels at every SIMD level.
#include "simd_testing.hpp"
#include "thread_testing.hpp"
#include "testing.hpp"

#include <cmath>
#include <functional>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;

// An op as a UnaryFn: picks ag::exp out of the overload set that also holds std::exp.
UnaryFn fn(Tensor (*op)(const Tensor&)) { return op; }

// Awkward sizes: one element, below and just above a SIMD width, several widths plus a tail.
const std::vector<Shape> kShapes = {{1}, {7}, {9}, {33}, {3, 11}};

// Standard normal values.
Tensor normal(const Shape& shape, uint64_t seed) { return param(shape, seed); }

// Random values in [0.5, ∞): inside the domain of log, sqrt and fractional powers.
Tensor positive(const Shape& shape, uint64_t seed) {
    Tensor t = param(shape, seed);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.5f + std::fabs(t.data()[i]);
    return t;
}

// Random values at least 0.1 away from 0: central differences must not straddle relu's kink.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
    Tensor t = param(shape, seed);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] += t.data()[i] >= 0.0f ? 0.1f : -0.1f;
    return t;
}

// f'(x) at the given values: the gradient of x when f(x) is backpropagated with dout = 1.
Tensor grad_at(const UnaryFn& f, std::initializer_list<float> values) {
    Tensor x = tensor(values);
    x.requires_grad_();
    Tensor y = f(x);
    y.backward(ones_like(y));
    return x.grad();
}

// gradcheck of f on every awkward shape, with inputs from `make`.
void gradcheck_shapes(const UnaryFn& f, const std::function<Tensor(const Shape&, uint64_t)>& make) {
    uint64_t seed = 1;
    for (const Shape& shape : kShapes) {
        CAPTURE(fmt::format("{}", shape));
        Tensor x = make(shape, seed++);
        CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return f(in[0]); }, {x});
    }
}

}  // namespace

TEST_CASE("neg: values, gradient, gradcheck") {
    check_close(neg(tensor({-1.5f, 0.0f, 2.0f})), tensor({1.5f, 0.0f, -2.0f}));
    check_close(grad_at(fn(neg), {-1.5f, 0.0f, 2.0f}), tensor({-1.0f, -1.0f, -1.0f}));
    gradcheck_shapes(fn(neg), normal);
}

TEST_CASE("exp: values, gradient, gradcheck") {
    // e^0 = 1, e^1 = e, e^-1 = 1/e, e^ln2 = 2; the derivative is the value itself
    check_close(exp(tensor({0.0f, 1.0f, -1.0f, std::log(2.0f)})), tensor({1.0f, 2.7182818f, 0.36787944f, 2.0f}));
    check_close(grad_at(fn(exp), {0.0f, 1.0f, -1.0f, std::log(2.0f)}), tensor({1.0f, 2.7182818f, 0.36787944f, 2.0f}));
    gradcheck_shapes(fn(exp), normal);
}

TEST_CASE("log: values, gradient, domain, gradcheck") {
    // ln 1 = 0, ln e = 1, ln 0.5 = -ln 2, ln 4 = 2 ln 2; d/dx ln x = 1/x
    check_close(log(tensor({1.0f, 2.7182818f, 0.5f, 4.0f})), tensor({0.0f, 1.0f, -0.69314718f, 1.3862944f}));
    check_close(grad_at(fn(log), {1.0f, 2.7182818f, 0.5f, 4.0f}), tensor({1.0f, 0.36787944f, 2.0f, 0.25f}));
    // outside the domain, as in PyTorch: ln 0 = -inf, ln -1 = NaN
    Tensor edge = log(tensor({0.0f, -1.0f}));
    CHECK(edge.data()[0] == -INFINITY);
    CHECK(std::isnan(edge.data()[1]));
    gradcheck_shapes(fn(log), positive);
}

TEST_CASE("sqrt: values, gradient, domain, gradcheck") {
    // √4 = 2, √2.25 = 1.5, √0.25 = 0.5; d/dx √x = 1 / (2 √x) = 1/4, 1/3, 1
    check_close(sqrt(tensor({4.0f, 2.25f, 0.25f})), tensor({2.0f, 1.5f, 0.5f}));
    check_close(grad_at(fn(sqrt), {4.0f, 2.25f, 0.25f}), tensor({0.25f, 1.0f / 3.0f, 1.0f}));
    CHECK(std::isnan(sqrt(tensor({-1.0f})).item()));
    gradcheck_shapes(fn(sqrt), positive);
}

TEST_CASE("pow: values, gradient, gradcheck") {
    auto pow_by = [](float p) { return [p](const Tensor& x) { return pow(x, p); }; };
    // fractional: 4^1.5 = 8, 0.25^1.5 = 0.125, 1^1.5 = 1; d = 1.5 x^0.5 = 3, 0.75, 1.5
    check_close(pow(tensor({4.0f, 0.25f, 1.0f}), 1.5f), tensor({8.0f, 0.125f, 1.0f}));
    check_close(grad_at(pow_by(1.5f), {4.0f, 0.25f, 1.0f}), tensor({3.0f, 0.75f, 1.5f}));
    // integer powers accept negative bases: (-3)² = 9, d = 2x = -6
    check_close(pow(tensor({-3.0f, 0.5f}), 2.0f), tensor({9.0f, 0.25f}));
    check_close(grad_at(pow_by(2.0f), {-3.0f, 0.5f}), tensor({-6.0f, 1.0f}));
    // negative: 2^-1 = 0.5, (-4)^-1 = -0.25; d = -x^-2 = -0.25, -0.0625
    check_close(pow(tensor({2.0f, -4.0f}), -1.0f), tensor({0.5f, -0.25f}));
    check_close(grad_at(pow_by(-1.0f), {2.0f, -4.0f}), tensor({-0.25f, -0.0625f}));
    // a fractional power of a negative base is NaN, as in PyTorch
    CHECK(std::isnan(pow(tensor({-1.0f}), 0.5f).item()));
    gradcheck_shapes(pow_by(1.5f), positive);
    gradcheck_shapes(pow_by(0.5f), positive);
    gradcheck_shapes(pow_by(-2.0f), positive);
    gradcheck_shapes(pow_by(3.0f), normal);
}

TEST_CASE("tanh: values, gradient, gradcheck") {
    // tanh a = (e^2a - 1) / (e^2a + 1): tanh ln2 = 3/5, tanh -ln3 = -8/10; d = 1 - tanh² = 1, 0.64, 0.36
    check_close(tanh(tensor({0.0f, std::log(2.0f), -std::log(3.0f)})), tensor({0.0f, 0.6f, -0.8f}));
    check_close(grad_at(fn(tanh), {0.0f, std::log(2.0f), -std::log(3.0f)}), tensor({1.0f, 0.64f, 0.36f}));
    gradcheck_shapes(fn(tanh), normal);
}

TEST_CASE("sigmoid: values, gradient, saturation, gradcheck") {
    // 1 / (1 + e^-x): at 0, 1/2; at ln3, 1/(1 + 1/3) = 3/4; at -ln3, 1/4; d = s (1 - s) = 1/4, 3/16, 3/16
    check_close(sigmoid(tensor({0.0f, std::log(3.0f), -std::log(3.0f)})), tensor({0.5f, 0.75f, 0.25f}));
    check_close(grad_at(fn(sigmoid), {0.0f, std::log(3.0f), -std::log(3.0f)}), tensor({0.25f, 0.1875f, 0.1875f}));
    // far out it saturates to 0 and 1 without NaN (e^100 overflows to inf, 1/inf = 0)
    check_close(sigmoid(tensor({-100.0f, 100.0f})), tensor({0.0f, 1.0f}));
    gradcheck_shapes(fn(sigmoid), normal);
}

TEST_CASE("relu: values, gradient 0 at 0, gradcheck") {
    check_close(relu(tensor({-2.0f, 0.0f, 3.0f, -0.5f})), tensor({0.0f, 0.0f, 3.0f, 0.0f}));
    // the gradient at exactly 0 is 0, as in PyTorch
    check_close(grad_at(fn(relu), {-2.0f, 0.0f, 3.0f, -0.5f}), tensor({0.0f, 0.0f, 1.0f, 0.0f}));
    gradcheck_shapes(fn(relu), away_from_zero);
}

TEST_CASE("gelu: exact values from known erf values, gradient, gradcheck") {
    // x Φ(x), Φ(x) = (1 + erf(x/√2)) / 2, with erf(1/√2) = 0.68268949 and erf(√2) = 0.95449974:
    //   gelu(1) = Φ(1) = 0.84134475, gelu(-1) = -Φ(-1) = -0.15865525, gelu(2) = 2 Φ(2) = 1.95449974
    check_close(gelu(tensor({0.0f, 1.0f, -1.0f, 2.0f})), tensor({0.0f, 0.84134475f, -0.15865525f, 1.9544997f}));
    // d = Φ(x) + x φ(x), φ(±1) = e^-0.5 / √(2π) = 0.24197072: 0.5, 1.08331547, -0.08331547
    check_close(grad_at([](const Tensor& x) { return gelu(x); }, {0.0f, 1.0f, -1.0f}),
                tensor({0.5f, 1.0833155f, -0.0833155f}));
    gradcheck_shapes([](const Tensor& x) { return gelu(x); }, [](const Shape& s, uint64_t seed) {
        return param(s, seed, 2.0f);
    });
}

TEST_CASE("gelu: tanh approximation as PyTorch's approximate='tanh'") {
    auto gelu_tanh = [](const Tensor& x) { return gelu(x, GeluApproximation::Tanh); };
    // x (1 + tanh u) / 2, u = √(2/π) (x + 0.044715 x³); at x = 1: u = 0.83356, tanh u = 0.68238,
    // so 0.84119; the values below are the formula evaluated in double precision
    check_close(gelu_tanh(tensor({0.0f, 1.0f, -1.0f, 2.0f})), tensor({0.0f, 0.84119199f, -0.15880801f, 1.9545977f}));
    check_close(grad_at(gelu_tanh, {0.0f, 1.0f, -1.0f}), tensor({0.5f, 1.0829641f, -0.0829641f}));
    // close to, but not the same function as, the exact gelu
    Tensor x = tensor({1.0f});
    CHECK(std::fabs(gelu_tanh(x).item() - gelu(x).item()) > 1e-4f);
    gradcheck_shapes(gelu_tanh, [](const Shape& s, uint64_t seed) { return param(s, seed, 2.0f); });
}

TEST_CASE("unary: each op records its own node, and none without grad") {
    const std::vector<std::pair<std::string, UnaryFn>> ops = {
        {"neg", fn(neg)},
        {"exp", fn(exp)},
        {"log", fn(log)},
        {"sqrt", fn(sqrt)},
        {"pow", [](const Tensor& x) { return pow(x, 2.0f); }},
        {"tanh", fn(tanh)},
        {"sigmoid", fn(sigmoid)},
        {"relu", fn(relu)},
        {"gelu", [](const Tensor& x) { return gelu(x); }},
        {"gelu", [](const Tensor& x) { return gelu(x, GeluApproximation::Tanh); }},
    };
    Tensor x = positive({3}, 7);
    for (const auto& [name, f] : ops) {
        CAPTURE(name);
        Tensor y = f(x);
        REQUIRE(y.grad_fn() != nullptr);
        CHECK(y.grad_fn()->name() == name);
        CHECK(y.shape() == x.shape());
        NoGradGuard no_grad;
        CHECK(f(x).grad_fn() == nullptr);
    }
}

TEST_CASE("unary: an undefined input is an error naming the op") {
    CHECK(error_of([] { exp(Tensor()); }) == "[exp] the input is an undefined tensor");
    CHECK(error_of([] { gelu(Tensor(), GeluApproximation::Tanh); }) == "[gelu] the input is an undefined tensor");
    CHECK(error_of([] { pow(Tensor(), 2.0f); }) == "[pow] the input is an undefined tensor");
}

TEST_CASE("unary: empty and 0-dimensional tensors") {
    CHECK(exp(zeros({0, 3})).shape() == Shape{0, 3});
    Tensor s = scalar(4.0f);
    CHECK(sqrt(s).shape() == Shape{});
    CHECK(sqrt(s).item() == 2.0f);
}

TEST_CASE("unary: SIMD kernels match the reference at every level") {
    // The SIMD kernels run the same table entries on batches, so they differ from the reference
    // (the scalar level) only where xsimd's batch exp, log, tanh, erf and pow differ from the C
    // library's: a few ulp. Tolerance: |Δ| <= 16 u (|ref| + m), u = 2^-24, where m is the size of
    // the largest intermediate that a result near 0 can cancel out of (0 when the function is
    // accurate relative to its value): 1 - y² in tanh', 1 + erf in gelu, ...
    // Specials (0, -0, ±1, ±inf, NaN) sit among the inputs; non-finite results must match exactly.
    using Scale = double (*)(double x, double y, double dout);  // m for f (dout = 0) or df
    auto none = [](double, double, double) { return 0.0; };
    struct Entry {
        const char* name;
        UnaryFn f;
        float low, high;  // the inputs: uniform in [low, high), then the special values
        Scale m_f, m_df;
    };
    const std::vector<Entry> entries = {
        {"neg", fn(neg), -10, 10, none, none},
        {"exp", fn(exp), -20, 20, none, none},
        {"log", fn(log), 0, 100, none, none},
        {"sqrt", fn(sqrt), 0, 100, none, none},
        {"pow 2.5", [](const Tensor& x) { return pow(x, 2.5f); }, 0, 10, none, none},
        {"pow -1.5", [](const Tensor& x) { return pow(x, -1.5f); }, 0.1f, 10, none, none},
        {"pow 3", [](const Tensor& x) { return pow(x, 3.0f); }, -5, 5, none, none},  // negative bases
        {"pow 1", [](const Tensor& x) { return pow(x, 1.0f); }, -5, 5, none, none},  // df = x^0 = 1, also at 0
        {"tanh", fn(tanh), -10, 10, none,  // dx = dout (1 - y²)
         [](double, double, double dout) { return std::fabs(dout); }},
        {"sigmoid", fn(sigmoid), -20, 20, none,  // dx = dout y (1 - y)
         [](double, double y, double dout) { return std::fabs(dout * y); }},
        {"relu", fn(relu), -5, 5, none, none},
        {"gelu", [](const Tensor& x) { return gelu(x); }, -6, 6,  // y = x (1 + erf) / 2
         [](double x, double, double) { return std::fabs(x); },
         [](double x, double, double dout) { return std::fabs(dout) * (1.0 + std::fabs(x)); }},
        {"gelu tanh", [](const Tensor& x) { return gelu(x, GeluApproximation::Tanh); }, -6, 6,
         [](double x, double, double) { return std::fabs(x); },  // dx = (1 + t)/2 + x (1 - t²) u'/2
         [](double x, double, double dout) { return std::fabs(dout) * (1.0 + std::fabs(x) * (1.0 + 0.134 * x * x)); }},
    };
    const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN};
    const double k = 16.0 * testing::kUnitRoundoff;
    for (const Entry& e : entries) {
        for (int64_t n : testing::kAwkwardCols) {
            std::vector<float> values = testing::uniform_floats(n, static_cast<uint32_t>(n), e.low, e.high);
            for (int64_t i = 0; i < n && i < 7; ++i) values[i * (n / 7)] = specials[i];
            const std::vector<float> dout = testing::uniform_floats(n, static_cast<uint32_t>(n + 1));
            // y = f(x) and dx from backward(dout), at the active level
            auto run = [&](std::vector<float>& y, std::vector<float>& dx) {
                Tensor x = tensor(values, Shape{n});
                x.requires_grad_();
                Tensor out = e.f(x);
                out.backward(tensor(dout, Shape{n}));
                y = out.to_vector();
                dx = x.grad().to_vector();
            };
            std::vector<float> y_ref, dx_ref;
            {
                testing::ScopedSimdLevel scalar(SimdLevel::scalar);  // the reference kernels
                run(y_ref, dx_ref);
            }
            std::vector<double> tol_f(n), tol_df(n);
            for (int64_t i = 0; i < n; ++i) {
                tol_f[i] = k * (std::fabs(y_ref[i]) + e.m_f(values[i], y_ref[i], 0.0));
                tol_df[i] = k * (std::fabs(dx_ref[i]) + e.m_df(values[i], y_ref[i], dout[i]));
            }
            for (SimdLevel level : testing::simd_levels()) {
                testing::ScopedSimdLevel scoped(level);
                INFO(std::string(e.name), ", level ", std::string(simd_level_name(level)), ", n ", n);
                std::vector<float> y, dx;
                run(y, dx);
                testing::check_within(y, y_ref, tol_f);
                testing::check_within(dx, dx_ref, tol_df);
            }
        }
    }
}

TEST_CASE("unary: forward and backward give the same bits on 1, 2 and 3 threads") {
    // 100001 floats: four chunks of kChunkFloats = 32768, the last with a SIMD tail
    const int64_t n = 100001;
    Tensor x = tensor(ag::testing::uniform_floats(n, 51, -3.0f, 3.0f), {n}).requires_grad_();
    Tensor w = tensor(ag::testing::uniform_floats(n, 52), {n});
    ag::testing::check_same_bits_on_threads([&] {
        x.zero_grad();
        Tensor y = gelu(exp(x * 0.5f));
        sum(y * w).backward();
        std::vector<float> out = y.to_vector(), dx = x.grad().to_vector();
        return ag::testing::concat({&out, &dx});
    });
}
