// random.cpp: Philox4x32-10 and the Generator's fills (see random.hpp).
#include "core/random.hpp"

#include "core/error.hpp"

#include <cmath>

namespace ag {

std::array<uint32_t, 4> philox4x32_block(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
    // constants from the paper: two multipliers and the Weyl increments of the key
    constexpr uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
    constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;
    auto [c0, c1, c2, c3] = counter;
    auto [k0, k1] = key;
    for (int round = 0; round < 10; ++round) {
        uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
        uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
        uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
        uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += kWeyl0;
        k1 += kWeyl1;
    }
    return {c0, c1, c2, c3};
}

void Generator::fill_uniform(float* out, int64_t n, float low, float high) {
    uint64_t first = reserve(static_cast<uint64_t>((n + 3) / 4));
    float scale = high - low;
    for (int64_t i = 0; i < n; i += 4) {
        std::array<uint32_t, 4> words = philox4x32(seed_, first + static_cast<uint64_t>(i / 4));
        for (int64_t j = 0; j < 4 && i + j < n; ++j) out[i + j] = low + scale * uniform01(words[j]);
    }
}

void Generator::fill_normal(float* out, int64_t n) {
    uint64_t first = reserve(static_cast<uint64_t>((n + 3) / 4));
    constexpr double kTwoPi = 6.283185307179586;
    for (int64_t i = 0; i < n; i += 4) {
        std::array<uint32_t, 4> words = philox4x32(seed_, first + static_cast<uint64_t>(i / 4));
        // each word pair (u1, u2) gives two normals: r cos(theta) and r sin(theta)
        for (int pair = 0; pair < 2; ++pair) {
            double u1 = (static_cast<double>(words[2 * pair]) + 1.0) / 4294967296.0;  // (0, 1]: log is finite
            double u2 = static_cast<double>(words[2 * pair + 1]) / 4294967296.0;
            double r = std::sqrt(-2.0 * std::log(u1));
            int64_t j = i + 2 * pair;
            if (j < n) out[j] = static_cast<float>(r * std::cos(kTwoPi * u2));
            if (j + 1 < n) out[j + 1] = static_cast<float>(r * std::sin(kTwoPi * u2));
        }
    }
}

uint64_t Generator::next_below(uint64_t n) {
    check(n > 0, "next_below", "the bound must be positive: got {}", n);  // UINT64_MAX % 0 would trap
    // 64 random bits reduced by rejection, so every value in [0, n) is equally likely
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        std::array<uint32_t, 4> w = philox4x32(seed_, reserve(1));
        uint64_t x = (static_cast<uint64_t>(w[0]) << 32) | w[1];
        if (x < limit) return x % n;
    }
}

}  // namespace ag
