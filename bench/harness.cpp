// harness.cpp: timing and rows (see harness.hpp).
#include "harness.hpp"

#include <algorithm>
#include <ctime>

namespace bench {

Row make_row(std::string kernel, std::string shape, int threads, double ours, double anchor, std::string anchor_name,
             std::string unit, bool higher_is_better) {
    double ratio = higher_is_better ? ours / anchor : anchor / ours;
    return Row{std::move(kernel), std::move(shape), threads, ours, anchor, std::move(anchor_name), std::move(unit),
               ratio};
}

double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Seconds per call of `f`, over one sample of `calls` calls.
double sample(const std::function<void()>& f, int calls) {
    double t0 = thread_seconds();
    for (int i = 0; i < calls; ++i) f();
    return (thread_seconds() - t0) / calls;
}

}  // namespace

Timing time_both(const std::function<void()>& ours, const std::function<void()>& anchor) {
    constexpr double kSampleSeconds = 0.02;
    constexpr int kSamples = 9;
    // warm up (caches, page faults, packing buffers) and calibrate the calls per sample
    double once = std::max(sample(ours, 1), sample(anchor, 1));
    once = std::max(sample(ours, 1), sample(anchor, 1));
    int calls = std::max(1, int(kSampleSeconds / std::max(once, 1e-9)));
    // alternate, so both see the same machine state
    std::vector<double> t_ours, t_anchor;
    for (int s = 0; s < kSamples; ++s) {
        t_ours.push_back(sample(ours, calls));
        t_anchor.push_back(sample(anchor, calls));
    }
    return {median(t_ours), median(t_anchor)};
}

}  // namespace bench
