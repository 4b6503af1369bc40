// harness.cpp: timing and rows (see harness.hpp).
#include "harness.hpp"

#include "core/parallel.hpp"

#include <algorithm>
#include <ctime>

namespace bench {

Row make_row(std::string kernel, std::string shape, int threads, double ours, double anchor, std::string anchor_name,
             std::string unit, bool higher_is_better) {
    double ratio = higher_is_better ? ours / anchor : anchor / ours;
    return Row{std::move(kernel), std::move(shape), threads, ours, anchor, std::move(anchor_name), std::move(unit),
               ratio};
}

namespace {
int g_threads = 1;
}  // namespace

int threads() { return g_threads; }

void set_threads(int n) {
    ag::set_num_threads(n);
    g_threads = n;
}

double now_seconds() {
    if (g_threads == 1) return thread_seconds();
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double process_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
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
    double t0 = now_seconds();
    for (int i = 0; i < calls; ++i) f();
    return (now_seconds() - t0) / calls;
}

}  // namespace

std::vector<double> time_alternating(const std::vector<std::function<void()>>& functions) {
    constexpr double kSampleSeconds = 0.03;
    constexpr int kSamples = 15;
    // warm up (caches, page faults, packing buffers), then calibrate the calls per sample
    std::vector<int> calls;
    for (const auto& f : functions) {
        sample(f, 1);
        calls.push_back(std::max(1, int(kSampleSeconds / std::max(sample(f, 1), 1e-9))));
    }
    std::vector<std::vector<double>> times(functions.size());
    for (int s = 0; s < kSamples; ++s)
        for (size_t i = 0; i < functions.size(); ++i) times[i].push_back(sample(functions[i], calls[i]));
    std::vector<double> medians;
    for (auto& t : times) medians.push_back(median(t));
    return medians;
}

double time_on(const std::function<void()>& f, double (*clock)()) {
    auto sample_on = [&](int calls) {
        double t0 = clock();
        for (int i = 0; i < calls; ++i) f();
        return (clock() - t0) / calls;
    };
    sample_on(1);
    const int calls = std::max(1, int(0.03 / std::max(sample_on(1), 1e-9)));
    std::vector<double> times;
    for (int s = 0; s < 15; ++s) times.push_back(sample_on(calls));
    return median(times);
}

}  // namespace bench
