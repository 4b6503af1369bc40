// simd.cpp: run-time choice of the SIMD level and the per-thread scratch buffers (see simd.hpp).
#include "core/simd.hpp"

#include "core/error.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

namespace ag {

namespace {

constexpr SimdLevel kLevels[] = {SimdLevel::scalar, SimdLevel::sse2, SimdLevel::avx2, SimdLevel::avx512};

// NOTE: GCC's __builtin_cpu_supports("x86-64-v4") checks every feature -march=x86-64-v4 may use
// (AVX-512 VL included) and that the OS saves the wider registers (XGETBV); xsimd 8.1's own
// detector reads the CPUID bits only.
SimdLevel detect_level() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return SimdLevel::avx512;
    if (__builtin_cpu_supports("x86-64-v3")) return SimdLevel::avx2;
    return SimdLevel::sse2;  // part of x86-64 itself
#else
    return SimdLevel::scalar;
#endif
}

void check_supported(SimdLevel level, std::string_view source) {
    check(level <= simd_level_supported(), "simd", "{} asks for {}, but this CPU supports at most {}", source,
          simd_level_name(level), simd_level_name(simd_level_supported()));
    check(simd_level_compiled(level), "simd",
          "{} asks for {}, but this build did not compile its kernels (meson option simd_levels)", source,
          simd_level_name(level));
}

// The best level the CPU supports and the build compiled (scalar always is).
SimdLevel best_available() {
    SimdLevel level = simd_level_supported();
    while (!simd_level_compiled(level)) level = static_cast<SimdLevel>(static_cast<int>(level) - 1);
    return level;
}

// The level chosen at start-up: AG_SIMD if set, else the best available.
SimdLevel initial_level() {
    const char* env = std::getenv("AG_SIMD");
    if (env == nullptr || *env == '\0') return best_available();
    SimdLevel level = parse_simd_level(env);
    check_supported(level, "AG_SIMD");
    return level;
}

// The active level. Read on every kernel call, so it is a relaxed atomic: a load is one mov.
std::atomic<SimdLevel>& active_level() {
    // A function-local static: initialised (thread-safely) on first use, after main's environment
    // is set. If AG_SIMD is invalid the initialiser throws, and the next call tries again.
    static std::atomic<SimdLevel> level{initial_level()};
    return level;
}

// One grow-only, 64-byte aligned buffer.
struct ScratchBuffer {
    struct Free {
        void operator()(float* p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> data;
    std::size_t capacity = 0;  // floats
};

}  // namespace

const char* simd_level_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::scalar: return "scalar";
        case SimdLevel::sse2: return "sse2";
        case SimdLevel::avx2: return "avx2";
        case SimdLevel::avx512: return "avx512";
    }
    return "?";
}

SimdLevel parse_simd_level(std::string_view name) {
    for (SimdLevel level : kLevels)
        if (name == simd_level_name(level)) return level;
    fail("simd", "unknown SIMD level '{}': expected avx512, avx2, sse2 or scalar", name);
}

SimdLevel simd_level_supported() {
    static const SimdLevel supported = detect_level();
    return supported;
}

SimdLevel simd_level() { return active_level().load(std::memory_order_relaxed); }

SimdLevel set_simd_level(SimdLevel level) {
    check_supported(level, "set_simd_level");
    return active_level().exchange(level);
}

float* thread_scratch(int slot, std::size_t floats) {
    thread_local std::array<ScratchBuffer, kScratchSlots> buffers;
    ScratchBuffer& buffer = buffers.at(static_cast<std::size_t>(slot));
    if (floats > buffer.capacity) {
        // aligned_alloc wants a multiple of the alignment: round up to whole cache lines
        std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
        float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
        if (p == nullptr) throw std::bad_alloc();
        buffer.data.reset(p);
        buffer.capacity = bytes / sizeof(float);
    }
    return buffer.data.get();
}

}  // namespace ag
