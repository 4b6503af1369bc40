// thread_testing.hpp: helpers for the "1, 2 and 3 threads give the same bits" tests of the
// kernels that run on the thread pool (core/parallel.hpp): a scope that sets the thread count,
// and a check that runs a computation at several counts and compares the results with memcmp.
//
// NOTE: a test only means something if its sizes split into several chunks: each caller picks
// sizes above kChunkFloats (or, for gemm, above the flop threshold of a chunk) and says so.
#pragma once

#include "core/parallel.hpp"
#include "testing.hpp"

#include <cstring>
#include <vector>

namespace ag::testing {

/// Sets the pool's thread count for one scope and restores the previous count after.
struct ScopedThreads {
    explicit ScopedThreads(int n) : previous_(num_threads()) { set_num_threads(n); }
    ~ScopedThreads() { set_num_threads(previous_); }
    ScopedThreads(const ScopedThreads&) = delete;
    ScopedThreads& operator=(const ScopedThreads&) = delete;
    int previous_;
};

/// Runs `compute` (which returns a std::vector<float>) on 1, 2 and 3 threads and checks that the
/// results are bitwise identical (memcmp: signed zeros and NaN payloads count).
template <class Compute>
void check_same_bits_on_threads(Compute compute) {
    std::vector<float> one;
    {
        ScopedThreads threads(1);
        one = compute();
    }
    REQUIRE(!one.empty());
    for (int n : {2, 3}) {
        ScopedThreads threads(n);
        const std::vector<float> many = compute();
        CAPTURE(n);
        REQUIRE(many.size() == one.size());
        CHECK(std::memcmp(many.data(), one.data(), one.size() * sizeof(float)) == 0);
    }
}

/// The floats of several buffers one after the other: what check_same_bits_on_threads compares.
inline std::vector<float> concat(std::initializer_list<const std::vector<float>*> parts) {
    std::vector<float> all;
    for (const std::vector<float>* p : parts) all.insert(all.end(), p->begin(), p->end());
    return all;
}

}  // namespace ag::testing
