// Tests for softmax and log_softmax: hand-computed values, PyTorch values, masked (-inf) entries
// and rows, non-finite inputs, gradcheck on awkward sizes, error messages, and the SIMD kernels
// against the reference kernels at every SIMD level.
#include "simd_testing.hpp"
#include "thread_testing.hpp"
#include "testing.hpp"

#include <cmath>
#include <vector>

using namespace ag;
using ag::testing::no_nan;
using namespace ag::testing;

namespace {

// A [rows, cols] tensor of zeros with -inf at the given (row, col) positions: adding it to x
// masks those entries while the rest still carry x's gradient.
Tensor mask_of(int64_t rows, int64_t cols, std::initializer_list<std::pair<int64_t, int64_t>> masked) {
    Tensor mask = zeros(Shape{rows, cols});
    for (auto [r, c] : masked) mask.at({r, c}) = -INFINITY;
    return mask;
}

// x for the SIMD comparison, [rows, cols]: uniform in [-4, 4) with every third entry masked
// (-inf); with 5 rows, row 1 is fully masked, row 3 holds a NaN and row 4 a +inf.
std::vector<float> masked_rows(int64_t rows, int64_t cols, uint32_t seed) {
    std::vector<float> x = uniform_floats(rows * cols, seed, -4.0f, 4.0f);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            if ((r + c) % 3 == 2 || (rows == 5 && r == 1)) x[r * cols + c] = -INFINITY;
    if (rows == 5) {
        x[3 * cols + cols / 2] = NAN;
        x[4 * cols + cols - 1] = INFINITY;
    }
    return x;
}

// Σ_j |a_j b_j| over row r of two [rows, cols] buffers, for the tolerances (b may be null: |a_j|)
double row_abs_dot(const std::vector<float>& a, const float* b, int64_t r, int64_t cols) {
    double sum = 0.0;
    for (int64_t c = r * cols; c < (r + 1) * cols; ++c) sum += std::fabs(double(a[c]) * (b ? b[c] : 1.0f));
    return sum;
}

}  // namespace

TEST_CASE("softmax of [1, 2, 3] by hand") {
    // shift by the max 3: e^-2 = 0.1353353, e^-1 = 0.3678794, e^0 = 1, sum 1.5032147
    // softmax = (0.0900306, 0.2447285, 0.6652410); log of the sum = 0.4076059, so
    // log_softmax = x - 3 - 0.4076059 = (-2.4076059, -1.4076059, -0.4076059)
    Tensor x = tensor({1, 2, 3});
    check_close(softmax(x), tensor({0.0900306f, 0.2447285f, 0.6652410f}));
    check_close(log_softmax(x), tensor({-2.4076059f, -1.4076059f, -0.4076059f}));
}

TEST_CASE("softmax normalises each row of the last axis on its own") {
    // row 2 is constant: every entry gets 1/3; row 1 is [1, 2, 3] shifted by 1000, which would
    // overflow e^x without the max subtraction
    Tensor x = tensor({{1001, 1002, 1003}, {5, 5, 5}});
    check_close(softmax(x), tensor({{0.0900306f, 0.2447285f, 0.6652410f}, {1 / 3.0f, 1 / 3.0f, 1 / 3.0f}}));
    // NOTE: x - lse at magnitude 1000 keeps only ~4 decimals in float (its ulp is 6e-5): atol 1e-4
    check_close(log_softmax(x), tensor({{-2.4076059f, -1.4076059f, -0.4076059f},
                                        {-1.0986123f, -1.0986123f, -1.0986123f}}),  // log(1/3)
                1e-5f, 1e-4f);
}

TEST_CASE("softmax backward by hand") {
    // x = [0, 0]: y = [0.5, 0.5]. dy = [1, 0]: Σ dy y = 0.5, dx = y (dy - 0.5) = [0.25, -0.25]
    Tensor x = tensor({0, 0});
    x.requires_grad_();
    softmax(x).backward(tensor({1, 0}));
    check_close(x.grad(), tensor({0.25f, -0.25f}));
    // log_softmax: dx = dy - e^y Σ dy = [1, 0] - [0.5, 0.5] = [0.5, -0.5]
    x.set_grad(Tensor());
    log_softmax(x).backward(tensor({1, 0}));
    check_close(x.grad(), tensor({0.5f, -0.5f}));
}

TEST_CASE("softmax and log_softmax match PyTorch, forward and backward") {
    // torch.softmax / torch.log_softmax(x, -1) in float64, then y.backward(dout), printed to 7 digits
    Tensor x = tensor({{0.5f, -1.25f, 2.0f, 0.0f}, {3.0f, 2.5f, -0.75f, 1.0f}});
    Tensor dout = tensor({{1.0f, -2.0f, 0.5f, 0.25f}, {-1.0f, 0.5f, 2.0f, -0.5f}});
    x.requires_grad_();
    Tensor y = softmax(x);
    y.backward(dout);
    check_close(y, tensor({0.1596936f, 0.02775058f, 0.7156968f, 0.09685903f, 0.5664491f, 0.3435687f, 0.01332161f,
                           0.07666055f}, Shape{2, 4}));
    check_close(x.grad(), tensor({0.08204167f, -0.06899503f, 0.009836844f, -0.02288349f, -0.3362715f, 0.3113941f,
                                  0.03205647f, -0.007179123f}, Shape{2, 4}));
    x.set_grad(Tensor());
    y = log_softmax(x);
    y.backward(dout);
    check_close(y, tensor({-1.834499f, -3.584499f, -0.3344986f, -2.334499f, -0.5683681f, -1.068368f, -4.318368f,
                           -2.568368f}, Shape{2, 4}));
    check_close(x.grad(), tensor({1.039923f, -1.993062f, 0.6789242f, 0.2742148f, -1.566449f, 0.1564313f, 1.986678f,
                                  -0.5766605f}, Shape{2, 4}));
}

TEST_CASE("softmax gives masked (-inf) entries probability 0") {
    // [0, -inf, 0]: the two finite entries share the mass; log_softmax = [-log 2, -inf, -log 2]
    Tensor x = tensor({0, -INFINITY, 0});
    check_close(softmax(x), tensor({0.5f, 0.0f, 0.5f}));
    Tensor y = log_softmax(x);
    CHECK(y.at({0}) == doctest::Approx(-0.6931472f));
    CHECK(y.at({1}) == -INFINITY);
    CHECK(y.at({2}) == doctest::Approx(-0.6931472f));
}

TEST_CASE("log_softmax of a masked row: the finite entries behave as if the masked ones were absent") {
    // The same as log_softmax([0.5, 2, 0]) on the finite entries, forward and backward, when the
    // masked entry gets no gradient from above. With a gradient of -2 at the masked entry, its
    // dx is dy - e^-inf Σ dy = -2 (PyTorch's value, checked with torch: dx = [1.041063, -2,
    // 0.6840312, 0.2749059] for dout [1, -2, 0.5, 0.25]).
    Tensor x = tensor({0.5f, -INFINITY, 2.0f, 0.0f});
    x.requires_grad_();
    Tensor compact = tensor({0.5f, 2.0f, 0.0f});
    compact.requires_grad_();
    Tensor y = log_softmax(x), y_compact = log_softmax(compact);
    y.backward(tensor({1.0f, 0.0f, 0.5f, 0.25f}));
    y_compact.backward(tensor({1.0f, 0.5f, 0.25f}));
    check_close(tensor({y.at({0}), y.at({2}), y.at({3})}), y_compact);
    check_close(x.grad(), tensor({compact.grad().at({0}), 0.0f, compact.grad().at({1}), compact.grad().at({2})}));

    x.set_grad(Tensor());
    log_softmax(x).backward(tensor({1.0f, -2.0f, 0.5f, 0.25f}));
    check_close(x.grad(), tensor({1.041063f, -2.0f, 0.6840312f, 0.2749059f}));
}

TEST_CASE("softmax of a fully masked row is zeros with zero gradient, never NaN") {
    // row 0 is entirely -inf: softmax zeros, log_softmax -inf, gradient zero (PyTorch: NaN);
    // row 1 = [1, 2, 3] is unaffected
    Tensor x = tensor({{-INFINITY, -INFINITY, -INFINITY}, {1, 2, 3}});
    x.requires_grad_();
    Tensor dout = tensor({{0.3f, -1.2f, 2.0f}, {1.0f, 0.5f, -0.25f}});

    Tensor y = softmax(x);
    check_close(y, tensor({{0, 0, 0}, {0.0900306f, 0.2447285f, 0.6652410f}}));
    y.backward(dout);
    CHECK(no_nan(x.grad()));
    for (int64_t c = 0; c < 3; ++c) CHECK(x.grad().at({0, c}) == 0.0f);

    x.set_grad(Tensor());
    y = log_softmax(x);
    for (int64_t c = 0; c < 3; ++c) CHECK(y.at({0, c}) == -INFINITY);
    check_close(tensor({y.at({1, 0}), y.at({1, 1}), y.at({1, 2})}), tensor({-2.4076059f, -1.4076059f, -0.4076059f}));
    y.backward(dout);
    CHECK(no_nan(x.grad()));
    for (int64_t c = 0; c < 3; ++c) CHECK(x.grad().at({0, c}) == 0.0f);
    CHECK(x.grad().at({1, 0}) != 0.0f);  // the live row still gets its gradient
}

TEST_CASE("softmax spreads NaN and +inf to the whole row, as PyTorch") {
    // PyTorch: softmax([1, inf, 2]) = softmax([1, nan, 2]) = [nan, nan, nan]; other rows are untouched
    for (float bad : {NAN, INFINITY}) {
        Tensor x = tensor({{1, bad, 2}, {0, 0, 0}});
        Tensor y = softmax(x), z = log_softmax(x);
        for (int64_t c = 0; c < 3; ++c) {
            CHECK(std::isnan(y.at({0, c})));
            CHECK(std::isnan(z.at({0, c})));
            CHECK(y.at({1, c}) == doctest::Approx(1 / 3.0));
        }
    }
    // a NaN among -inf entries is not a masked row: it stays NaN rather than becoming zeros
    Tensor y = softmax(tensor({-INFINITY, NAN}));
    CHECK(std::isnan(y.at({1})));
}

TEST_CASE("softmax gradcheck on awkward sizes") {
    // NOTE: log_softmax's outputs are large (|y| ~ log C + spread of x) and the float rounding of
    // L = Σ w y, divided by 2 eps, exceeds the tolerance for 33 columns of scale-2 inputs: scale 1
    for (int64_t cols : {1, 7, 9, 33}) {
        CAPTURE(cols);
        Tensor x = param(Shape{3, cols}, 10 + cols, 2.0f);
        CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {x});
        Tensor z = param(Shape{3, cols}, 10 + cols, 1.0f);
        CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {z});
    }
    Tensor x = param(Shape{2, 3, 9}, 3);  // leading dimensions are just more rows
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {x});
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {x});
    Tensor v = param(Shape{7}, 4);  // a single row
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {v});
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {v});
}

TEST_CASE("softmax gradcheck with masked entries and a fully masked row") {
    // f adds the mask: masked entries are -inf whatever x is there, so their numeric gradient is
    // 0, and the finite entries are checked as usual. Row 3 is fully masked.
    Tensor x = param(Shape{4, 9}, 21, 2.0f);
    Tensor mask = mask_of(4, 9, {{0, 0}, {0, 4}, {1, 8}, {2, 1}, {2, 2}, {2, 3}, {2, 5}, {2, 6}, {2, 7}, {2, 8},
                                 {3, 0}, {3, 1}, {3, 2}, {3, 3}, {3, 4}, {3, 5}, {3, 6}, {3, 7}, {3, 8}});
    CHECK_GRADCHECK([mask](const std::vector<Tensor>& in) { return softmax(in[0] + mask); }, {x});
    Tensor y = softmax(x + mask);
    y.backward(full(y.shape(), 1.5f));
    CHECK(no_nan(x.grad()));
    for (int64_t c = 0; c < 9; ++c) {
        CHECK(y.at({3, c}) == 0.0f);
        CHECK(x.grad().at({3, c}) == 0.0f);
    }
}

TEST_CASE("softmax errors name the op and the shape") {
    std::string message = error_of([] { softmax(scalar(1.0f)); });
    CHECK(message.find("[softmax]") != std::string::npos);
    CHECK(message.find("()") != std::string::npos);
    message = error_of([] { log_softmax(scalar(1.0f)); });
    CHECK(message.find("[log_softmax]") != std::string::npos);
    CHECK(message.find("()") != std::string::npos);
    CHECK(error_of([] { softmax(Tensor()); }).find("[softmax] the input is an undefined tensor") == 0);
}

TEST_CASE("softmax and log_softmax SIMD kernels match the reference at every level") {
    // Tolerance per element, with u = 2^-24 and C columns. A sum of C terms in any order is within
    // (C - 1) u Σ|terms| of the exact sum, so two orders (the reference's, the SIMD kernel's W
    // partial sums) differ by up to 2 (C - 1) u Σ|terms|; xsimd::exp and std::exp are each within
    // 1 ulp (<= 2u relative) of e^x; each other operation rounds once more. With k = (2C + 8) u:
    //   softmax      |Δy_i|  <= k y_i              (s sums positive terms: its error is relative)
    //   log_softmax  |Δy_i|  <= k (1 + |x_i| + 2|y_i|)      (y = x - lse, |lse| <= |x| + |y|)
    //   softmax'     |Δdx_i| <= k y_i (|dy_i| + Σ_j |dy_j y_j|)
    //   log_softmax' |Δdx_i| <= k (|dy_i| + e^(y_i) Σ_j |dy_j|)
    // plus 1e-37 for results below 2^-126, which xsimd::exp flushes to 0. Non-finite values (the
    // -inf of masked entries, the NaN rows) and the zeros of masked entries must match exactly.
    const double u = kUnitRoundoff;
    for (SimdLevel level : simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int64_t cols : kAwkwardCols) {
            for (int64_t rows : {1, 2, 5}) {
                INFO("level ", std::string(simd_level_name(level)), ", rows ", rows, ", cols ", cols);
                const int64_t n = rows * cols;
                const double k = (2.0 * double(cols) + 8.0) * u;
                const std::vector<float> x = masked_rows(rows, cols, static_cast<uint32_t>(n));
                const std::vector<float> dy = uniform_floats(n, static_cast<uint32_t>(n + 1));
                std::vector<float> y(n), y_ref(n), dx(n), dx_ref(n);
                std::vector<double> tol(n);
                // masked entries outside the NaN rows (rows 3 and 4 of 5) must come out exactly 0
                int64_t masked_not_zero = 0;
                const int64_t finite_rows_end = rows == 5 ? 3 * cols : n;

                // softmax forward; masked entries exactly 0
                softmax_forward(y.data(), x.data(), rows, cols);
                softmax_forward_reference(y_ref.data(), x.data(), rows, cols);
                for (int64_t i = 0; i < n; ++i) tol[i] = k * std::fabs(y_ref[i]) + 1e-37;
                check_within(y, y_ref, tol);
                for (int64_t i = 0; i < finite_rows_end; ++i) masked_not_zero += x[i] == -INFINITY && y[i] != 0.0f;

                // softmax backward, both from the reference's output; masked entries get exactly 0
                softmax_backward(dx.data(), y_ref.data(), dy.data(), rows, cols);
                softmax_backward_reference(dx_ref.data(), y_ref.data(), dy.data(), rows, cols);
                for (int64_t r = 0; r < rows; ++r) {
                    const double dot = row_abs_dot(dy, y_ref.data(), r, cols);
                    for (int64_t i = r * cols; i < (r + 1) * cols; ++i)
                        tol[i] = k * std::fabs(y_ref[i]) * (std::fabs(dy[i]) + dot) + 1e-37;
                }
                check_within(dx, dx_ref, tol);
                for (int64_t i = 0; i < finite_rows_end; ++i) masked_not_zero += x[i] == -INFINITY && dx[i] != 0.0f;

                // log_softmax forward (masked entries -inf: exact through check_within)
                log_softmax_forward(y.data(), x.data(), rows, cols);
                log_softmax_forward_reference(y_ref.data(), x.data(), rows, cols);
                for (int64_t i = 0; i < n; ++i) tol[i] = k * (1.0 + std::fabs(x[i]) + 2.0 * std::fabs(y_ref[i]));
                check_within(y, y_ref, tol);

                // log_softmax backward; the fully masked row gets exactly 0
                log_softmax_backward(dx.data(), y_ref.data(), dy.data(), rows, cols);
                log_softmax_backward_reference(dx_ref.data(), y_ref.data(), dy.data(), rows, cols);
                for (int64_t r = 0; r < rows; ++r) {
                    const double sum_dy = row_abs_dot(dy, nullptr, r, cols);
                    for (int64_t i = r * cols; i < (r + 1) * cols; ++i)
                        tol[i] = k * (std::fabs(dy[i]) + std::exp(double(y_ref[i])) * sum_dy) + 1e-37;
                }
                check_within(dx, dx_ref, tol);
                if (rows == 5)
                    for (int64_t i = cols; i < 2 * cols; ++i) masked_not_zero += dx[i] != 0.0f;
                CHECK(masked_not_zero == 0);
            }
        }
    }
}

TEST_CASE("softmax forward on rows of 1 to 4 whole batches (held in registers, two rows at a time)") {
    // C = 4..64 covers 1-4 batches at every level (W = 4, 8, 16); 5 rows: two pairs and a last row
    // alone, with masked entries, a fully masked row and a NaN row (masked_rows). Tolerance: the
    // bound of the test above, k = (2C + 8) u relative; masked entries outside the NaN rows are 0.
    for (SimdLevel level : simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int64_t cols : {4, 8, 12, 16, 24, 32, 48, 64})
            for (int64_t rows : {1, 2, 5}) {
                INFO("level ", std::string(simd_level_name(level)), ", rows ", rows, ", cols ", cols);
                const int64_t n = rows * cols;
                const double k = (2.0 * double(cols) + 8.0) * kUnitRoundoff;
                const std::vector<float> x = masked_rows(rows, cols, static_cast<uint32_t>(n + 7));
                std::vector<float> y(n), y_ref(n);
                std::vector<double> tol(n);
                softmax_forward(y.data(), x.data(), rows, cols);
                softmax_forward_reference(y_ref.data(), x.data(), rows, cols);
                for (int64_t i = 0; i < n; ++i) tol[i] = k * std::fabs(y_ref[i]) + 1e-37;
                check_within(y, y_ref, tol);
                int64_t masked_not_zero = 0;
                for (int64_t i = 0; i < (rows == 5 ? 3 * cols : n); ++i)
                    masked_not_zero += x[i] == -INFINITY && y[i] != 0.0f;
                CHECK(masked_not_zero == 0);
            }
    }
}

TEST_CASE("softmax, log_softmax: forward and backward give the same bits on 1, 2 and 3 threads") {
    // 1000 rows of 77: 77000 floats, three chunks of row_grain(77) = 425 rows
    const int64_t rows = 1000, cols = 77;
    const std::vector<float> x = ag::testing::uniform_floats(rows * cols, 11, -5.0f, 5.0f);
    const std::vector<float> dy = ag::testing::uniform_floats(rows * cols, 12);
    ag::testing::check_same_bits_on_threads([&] {
        std::vector<float> y(x.size()), dx(x.size()), log_y(x.size()), log_dx(x.size());
        softmax_forward(y.data(), x.data(), rows, cols);
        softmax_backward(dx.data(), y.data(), dy.data(), rows, cols);
        log_softmax_forward(log_y.data(), x.data(), rows, cols);
        log_softmax_backward(log_dx.data(), log_y.data(), dy.data(), rows, cols);
        return ag::testing::concat({&y, &dx, &log_y, &log_dx});
    });
}
