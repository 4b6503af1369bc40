// simd_testing.hpp: helpers for the "SIMD matches reference at every level" tests: the levels
// this machine runs, a scope that switches level, seeded inputs, and an element-wise comparison
// with a tolerance per element (each test derives it from a rounding-error bound, in its comments).
#pragma once

#include "core/simd.hpp"
#include "testing.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ag::testing {

/// Row lengths the SIMD tests run: below, at and around each batch width (4, 8, 16), and long.
inline const std::vector<int64_t> kAwkwardCols = {1, 7, 8, 9, 15, 16, 17, 33, 1000};

/// u = 2^-24, the unit roundoff of float: one rounding moves a value by at most u times itself.
inline constexpr double kUnitRoundoff = 1.0 / 16777216.0;

/// The levels this machine can run and this build compiled, best first, down to scalar (the
/// reference kernels).
inline std::vector<SimdLevel> simd_levels() {
    std::vector<SimdLevel> levels;
    for (int l = static_cast<int>(simd_level_supported()); l >= 0; --l)
        if (simd_level_compiled(static_cast<SimdLevel>(l))) levels.push_back(static_cast<SimdLevel>(l));
    return levels;
}

/// Sets a SIMD level for one scope and restores the previous one after.
struct ScopedSimdLevel {
    explicit ScopedSimdLevel(SimdLevel level) : previous_(set_simd_level(level)) {}
    ~ScopedSimdLevel() { set_simd_level(previous_); }
    ScopedSimdLevel(const ScopedSimdLevel&) = delete;
    ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;
    SimdLevel previous_;
};

/// n floats uniform in [low, high) from a seeded std::mt19937.
inline std::vector<float> uniform_floats(int64_t n, uint32_t seed, float low = -1.0f, float high = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(low, high);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

/// Checks |got[i] - expected[i]| <= tolerance[i] for every i; a non-finite expected value
/// (NaN, ±inf) must be matched exactly. Reports the count and the first mismatch.
inline void check_within(const std::vector<float>& got, const std::vector<float>& expected,
                         const std::vector<double>& tolerance) {
    REQUIRE(got.size() == expected.size());
    REQUIRE(tolerance.size() == expected.size());
    int64_t bad = 0;
    std::string first;
    for (size_t i = 0; i < got.size(); ++i) {
        const float g = got[i], e = expected[i];
        const bool ok = std::isfinite(e) ? std::fabs(double(g) - double(e)) <= tolerance[i]  // NaN got fails
                                         : (std::isnan(e) ? std::isnan(g) : g == e);
        if (!ok && bad++ == 0)
            first = fmt::format("element {}: got {} expected {} (tolerance {:.3g})", i, g, e, tolerance[i]);
    }
    INFO("mismatches: ", bad, ", first: ", first);
    CHECK(bad == 0);
}

/// Checks got == expected bit for bit: for kernels that must reproduce the reference exactly.
inline void check_identical(const std::vector<float>& got, const std::vector<float>& expected) {
    REQUIRE(got.size() == expected.size());
    int64_t bad = 0;
    std::string first;
    for (size_t i = 0; i < got.size(); ++i)
        if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(expected[i]) && bad++ == 0)
            first = fmt::format("element {}: got {} expected {}", i, got[i], expected[i]);
    INFO("mismatches: ", bad, ", first: ", first);
    CHECK(bad == 0);
}

}  // namespace ag::testing
