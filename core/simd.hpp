// simd.hpp: which SIMD instruction set the kernels run with, chosen once at run time, and how a
// kernel file plugs into that choice.
//
// Levels, best first (each is a GCC -march level, so "supported" means exactly what the compiler
// may emit for it):
//   avx512  x86-64-v4: AVX-512 F/BW/CD/DQ/VL    16 floats per register, 32 registers
//   avx2    x86-64-v3: AVX2 + FMA               8 floats per register, 16 registers
//   sse2    x86-64 baseline                     4 floats per register, 16 registers, no FMA
//   scalar  the plain reference kernels         what every faster kernel is tested against
// The active level is the best one the CPU supports, unless the environment variable AG_SIMD
// names a lower one (`AG_SIMD=sse2 ./build/bench/attograd_bench`). An unknown name, or a level
// the CPU lacks, throws ag::Error "[simd] ..." from the first kernel call (and every later one):
// silently falling back would let a benchmark report numbers for a level it never ran.
//
// How a kernel plugs in (ops/gemm_kernel.hpp and ops/gemm_kernel.cpp are the worked example):
//   1. Its header declares a functor whose call operator is a template on the xsimd arch tag,
//        struct FooKernel {
//            template <class Arch> void operator()(Arch, float* out, const float* x, int64_t n) const;
//        };
//      declaration only: no caller can instantiate it, so every call links to a per-arch copy.
//   2. Its kernel file defines the operator once, for any Arch, with xsimd::batch<float, Arch>,
//      and ends by instantiating it for the arch it is being compiled for:
//        template void FooKernel::operator()(KernelArch, float*, const float*, int64_t) const;
//      (xsimd 8.1's fma is a*b+c on avx512: kernel files get -ffp-contract=fast, and code that
//      must have the fused instruction calls the intrinsic, as gemm_kernel.cpp's fmadd does.)
//   3. ops/meson.build lists the kernel file in kernel_sources; it is compiled once per level,
//      with that level's flags, into a static library per level (kernel_archs).
//   4. The op calls `simd_dispatch(FooKernel{}, foo_reference, out, x, n)`: FooKernel runs with
//      the active level's arch tag, or foo_reference runs when the level is scalar.
// NOTE: the ODR trap. A kernel file is compiled three times with different flags. Any function
// in it that is neither static / in an anonymous namespace nor templated on Arch gets the same
// symbol in all three objects; the linker keeps one, and the sse2 path may then run AVX-512
// code (which works on a machine that has everything, and crashes elsewhere). Keep kernel-file
// helpers in an anonymous namespace. To check, list what each per-arch library exports:
//   nm -C build/ops/libattograd_sse2.a | grep ' [TW] '
// must show only the kernels' operator() instantiated for that arch.
#pragma once

// NOTE: GCC 12's AVX-512 intrinsics (_mm512_undefined_ps and its users, e.g. inside xsimd::exp
// and _mm512_max_ps) trip -Wmaybe-uninitialized and -Wuninitialized once inlined into user code
// (GCC bug 105593): silence them for the lines of these system headers only, not for the code
// that includes them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <xsimd/xsimd.hpp>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace ag {

/// The instruction sets kernels are compiled for, worst to best (so levels compare with <).
enum class SimdLevel { scalar, sse2, avx2, avx512 };

/// "scalar", "sse2", "avx2" or "avx512": the spelling AG_SIMD accepts.
const char* simd_level_name(SimdLevel level);
/// The level named `name` (as simd_level_name spells it); throws ag::Error "[simd] ..." otherwise.
SimdLevel parse_simd_level(std::string_view name);
/// The best level this CPU (and OS) supports, detected once.
SimdLevel simd_level_supported();
/// Whether this build compiled the kernels of `level` (meson option simd_levels; scalar, the
/// reference kernels, always). A level left out is never chosen, even on a CPU that has it.
constexpr bool simd_level_compiled(SimdLevel level) {
    switch (level) {
        case SimdLevel::avx512:
#ifdef AG_NO_AVX512_KERNELS
            return false;
#endif
            return true;
        case SimdLevel::avx2:
#ifdef AG_NO_AVX2_KERNELS
            return false;
#endif
            return true;
        case SimdLevel::sse2:
#ifdef AG_NO_SSE2_KERNELS
            return false;
#endif
            return true;
        case SimdLevel::scalar: return true;
    }
    return false;
}
/// The level kernels run with now: AG_SIMD if set, else the best level the CPU supports and the
/// build compiled.
SimdLevel simd_level();
/// Makes kernels run with `level` from now on and returns the previous level (tests switch with
/// it). Throws ag::Error if the CPU lacks `level` or the build did not compile it. Atomic, but
/// not meant to race with kernels.
SimdLevel set_simd_level(SimdLevel level);

/// A 64-byte aligned buffer of at least `floats` floats, owned by the calling thread and kept
/// for its lifetime (it only grows): kernels' packing space without a per-call allocation.
/// Slots are independent buffers. Taken: 0-2 by gemm. A kernel that holds a slot's pointer must
/// not call another kernel using the same slot (the buffer may move when it grows).
float* thread_scratch(int slot, std::size_t floats);
/// How many scratch slots each thread has.
inline constexpr int kScratchSlots = 8;

/// The xsimd arch tag of the avx512 level.
using Avx512Arch = xsimd::avx512bw;
/// The xsimd arch tag of the avx2 level (AVX2 with FMA).
using Avx2Arch = xsimd::fma3<xsimd::avx2>;
/// The xsimd arch tag of the sse2 level.
using Sse2Arch = xsimd::sse2;

/// The arch a kernel file is being compiled for, read from its -march flags (see step 2 above).
// NOTE: this alias differs between the per-arch copies of a kernel file; use it only in the
// explicit instantiation at the end of a kernel file, never inside an inline function.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
using KernelArch = Avx512Arch;
#elif defined(__AVX2__) && defined(__FMA__)
using KernelArch = Avx2Arch;
#else
using KernelArch = Sse2Arch;
#endif

/// Runs `kernel(arch_tag, args...)` for the active level's arch, or `reference(args...)` at scalar.
template <class Kernel, class Reference, class... Args>
decltype(auto) simd_dispatch(const Kernel& kernel, Reference&& reference, Args&&... args) {
    switch (simd_level()) {
        // (a level the build did not compile is never active: set_simd_level refuses it)
        case SimdLevel::avx512:
            if constexpr (simd_level_compiled(SimdLevel::avx512)) return kernel(Avx512Arch{}, std::forward<Args>(args)...);
            break;
        case SimdLevel::avx2:
            if constexpr (simd_level_compiled(SimdLevel::avx2)) return kernel(Avx2Arch{}, std::forward<Args>(args)...);
            break;
        case SimdLevel::sse2:
            if constexpr (simd_level_compiled(SimdLevel::sse2)) return kernel(Sse2Arch{}, std::forward<Args>(args)...);
            break;
        case SimdLevel::scalar: break;
    }
    return reference(std::forward<Args>(args)...);
}

}  // namespace ag
