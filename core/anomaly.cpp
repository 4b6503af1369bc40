// anomaly.cpp: anomaly mode's per-thread switches and checks (see anomaly.hpp).
#include "core/anomaly.hpp"

#include "core/error.hpp"
#include "core/parallel.hpp"

#include <cmath>
#include <cstring>
#include <optional>
#include <string>

namespace ag {

namespace {

thread_local bool t_detect_anomaly = false;
thread_local bool t_infinities_expected = false;

constexpr int64_t kGrain = 1 << 16;  // floats per chunk of all_finite: ~10 µs of work

// A float is NaN or ±inf exactly when its 8 exponent bits are all ones. Testing the bits keeps
// the loop a plain integer OR that the compiler vectorises (std::isfinite per element does not).
constexpr uint32_t kExponentBits = 0x7f800000u;

int any_non_finite(const float* x, int64_t n) {
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &x[i], sizeof bits);
        bad |= static_cast<uint32_t>((bits & kExponentBits) == kExponentBits);
    }
    return static_cast<int>(bad);
}

// The first index of `t` holding NaN (if any), else the first holding ±inf, else none.
// NaN first: it is the worse of the two, and the one anomaly mode always reports.
std::optional<int64_t> first_non_finite(const Tensor& t) {
    const float* x = t.data();
    std::optional<int64_t> first_inf;
    for (int64_t i = 0, n = t.numel(); i < n; ++i) {
        if (std::isnan(x[i])) return i;
        if (std::isinf(x[i]) && !first_inf) first_inf = i;
    }
    return first_inf;
}

// "nan", "inf" or "-inf" (fmt would print a NaN with its sign bit set as "-nan")
std::string describe(float value) { return std::isnan(value) ? "nan" : fmt::format("{}", value); }

bool has_nan(const Tensor& t) {
    const float* x = t.data();
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
        if (std::isnan(x[i])) return true;
    return false;
}

}  // namespace

bool detect_anomaly() { return t_detect_anomaly; }
void set_detect_anomaly(bool on) { t_detect_anomaly = on; }

AnomalyGuard::AnomalyGuard(bool on) : previous_(t_detect_anomaly) { t_detect_anomaly = on; }
AnomalyGuard::~AnomalyGuard() { t_detect_anomaly = previous_; }

InfinitiesExpected::InfinitiesExpected(bool expected) : previous_(t_infinities_expected) {
    t_infinities_expected = expected;
}
InfinitiesExpected::~InfinitiesExpected() { t_infinities_expected = previous_; }

bool all_finite(const Tensor& t) {
    check(t.defined(), "all_finite", "the tensor is undefined");
    const float* x = t.data();
    int bad = parallel_reduce(int64_t{0}, t.numel(), kGrain, 0,
                              [x](int64_t b, int64_t e) { return any_non_finite(x + b, e - b); },
                              [](int a, int b) { return a | b; });
    return bad == 0;
}

void check_finite(const Tensor& t, std::string_view what) {
    if (all_finite(t)) return;
    int64_t i = *first_non_finite(t);
    fail(what, "non-finite value: {} at index {} of shape {}", describe(t.data()[i]), i, t.shape());
}

void detail::check_forward_anomaly(const Tensor& out, std::string_view op, std::span<const Tensor> inputs) {
    if (all_finite(out)) return;
    int64_t i = *first_non_finite(out);
    bool nan = std::isnan(out.data()[i]);
    // the first input holding a NaN, and the first holding any non-finite value
    std::optional<size_t> nan_input, non_finite_input;
    for (size_t k = 0; k < inputs.size(); ++k) {
        if (!inputs[k].defined() || all_finite(inputs[k])) continue;
        if (!non_finite_input) non_finite_input = k;
        if (!nan_input && has_nan(inputs[k])) nan_input = k;
    }
    // infinities that were passed on, or written on purpose, are not anomalies
    if (!nan && (non_finite_input || t_infinities_expected)) return;
    std::string where = fmt::format("{} at index {} of the output of shape {}", describe(out.data()[i]), i, out.shape());
    if (nan_input)
        fail(op, "anomaly in the forward: {}; input {} already held a NaN, so it came from outside the checked ops "
                 "(the data, a parameter, an op run before anomaly mode)", where, *nan_input);
    if (non_finite_input) fail(op, "anomaly in the forward: {}, from an infinity in input {}", where, *non_finite_input);
    fail(op, "anomaly in the forward: {}, from finite inputs", where);
}

void detail::check_backward_anomaly(const Tensor& grad, std::string_view op, size_t input, const Tensor& dout) {
    if (all_finite(grad)) return;
    int64_t i = *first_non_finite(grad);
    fail(op, "anomaly in the backward: {} at index {} of the gradient of input {}, shape {}{}", describe(grad.data()[i]), i, input,
         grad.shape(), all_finite(dout) ? " (the incoming gradient was finite)" : " (the incoming gradient was not)");
}

}  // namespace ag
