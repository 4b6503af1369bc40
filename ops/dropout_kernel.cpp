// dropout_kernel.cpp: inverted dropout with Philox4x32-10 computed in SIMD registers, written once
// for any xsimd arch and compiled once per arch (ops/meson.build). Its output is bit-identical to
// dropout_forward_reference (ops/dropout.cpp): same random words, same decision, same division.
//
//   out[i] = u_i >= p ? x[i] / (1 - p) : 0,   u_i = uniform01(word i % 4 of philox4x32(seed, first + i / 4))
//   shapes: out, x: n floats (any tensor, flat). W = floats per register (16 / 8 / 4).
//
// Philox in registers. One Philox round (core/random.cpp) maps a block [c0 c1 c2 c3] to
//   [hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0]     (hi0, lo0) = c0 · M0,  (hi1, lo1) = c2 · M1
// with 32 × 32 -> 64-bit products, and the key (k0, k1) steps by (W0, W1) each round. x86 has a
// widening multiply only for the low 32 bits of each 64-bit lane (_mm*_mul_epu32), so the kernel
// keeps one word per 64-bit lane: register c[k] holds word k of W / 2 blocks, one block per lane.
// A round is then, for W / 2 blocks: two multiplies, two shuffles (the high halves of the
// products) and two three-way xors; the key is the same for every block.
//
// Phases, per step of kSets independent sets of W / 2 blocks (2 W elements each, chains the CPU
// overlaps): counters; 10 rounds; words to element order; decide and scale (with non-temporal
// stores for outputs of 16 MiB and more). Then the last n mod step elements go to the reference
// kernel, which starts at the same counter.
#include "ops/dropout_kernel.hpp"

#include "core/simd.hpp"
#include "ops/dropout.hpp"

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ag {

namespace {

// One Philox word per 64-bit lane, in its low 32 bits. The high 32 bits are don't-care: the
// multiply reads only the low halves, and the words are repacked from the low halves only.
template <class Arch>
using Lanes = xsimd::batch<uint64_t, Arch>;

constexpr uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;   // Philox multipliers
constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;  // key increments per round
constexpr int kRounds = 10;
constexpr int64_t kStreamingBytes = int64_t{16} << 20;  // 16 MiB: far past L2, half of a 32 MiB L3

// Sets of blocks in flight per step: enough to hide the multiply's latency, few enough that the
// 4 kSets state registers fit the register file (32 with AVX-512, 16 otherwise).
template <class Arch>
constexpr int kSets = std::is_same_v<Arch, Avx512Arch> ? 4 : 2;

// a · b on the low 32 bits of each 64-bit lane, as the full 64-bit product.
// NOTE: xsimd 8.1 has no widening multiply (its 64-bit * keeps the low 64 bits of a 64 × 64
// product, emulated without AVX-512): each arch gets its instruction.
template <class Arch>
Lanes<Arch> mul_low(Lanes<Arch> a, Lanes<Arch> b) {
    if constexpr (std::is_same_v<Arch, Avx512Arch>)
        return _mm512_mul_epu32(a, b);
    else if constexpr (std::is_same_v<Arch, Avx2Arch>)
        return _mm256_mul_epu32(a, b);
    else
        return _mm_mul_epu32(a, b);
}

// The high 32 bits of each 64-bit lane, copied to its low half. A shuffle, not `a >> 32`: on
// x86 the vector shifts share a port with the multiplies, which are the bottleneck here.
template <class Arch>
Lanes<Arch> high_half(Lanes<Arch> a) {
    if constexpr (std::is_same_v<Arch, Avx512Arch>)
        return _mm512_shuffle_epi32(a, _MM_PERM_DDBB);
    else if constexpr (std::is_same_v<Arch, Avx2Arch>)
        return _mm256_shuffle_epi32(a, _MM_SHUFFLE(3, 3, 1, 1));
    else
        return _mm_shuffle_epi32(a, _MM_SHUFFLE(3, 3, 1, 1));
}

// Stores a register at `out` (aligned to the register's size) without first reading its cache
// line into the cache (a non-temporal store): for outputs too big to stay in cache anyway.
template <class Arch>
void store_streaming(float* out, xsimd::batch<float, Arch> v) {
    if constexpr (std::is_same_v<Arch, Avx512Arch>)
        _mm512_stream_ps(out, v);
    else if constexpr (std::is_same_v<Arch, Avx2Arch>)
        _mm256_stream_ps(out, v);
    else
        _mm_stream_ps(out, v);
}

// W / 2 Philox blocks, one per 64-bit lane: c[k] holds word k of each.
template <class Arch>
struct Blocks {
    Lanes<Arch> c[4];
};

// The key schedule: round r xors k0 + r W0 and k1 + r W1, the same for every block.
struct RoundKeys {
    uint32_t k0[kRounds], k1[kRounds];
    explicit RoundKeys(uint64_t seed) {
        uint32_t a = static_cast<uint32_t>(seed), b = static_cast<uint32_t>(seed >> 32);
        for (int r = 0; r < kRounds; ++r, a += kWeyl0, b += kWeyl1) k0[r] = a, k1[r] = b;
    }
};

// Ten Philox rounds on every set at once.
template <class Arch>
void philox_rounds(Blocks<Arch> (&sets)[kSets<Arch>], const RoundKeys& keys) {
    using L = Lanes<Arch>;
    const L mul0(kMul0), mul1(kMul1);
    for (int r = 0; r < kRounds; ++r) {
        const L k0(keys.k0[r]), k1(keys.k1[r]);
        for (Blocks<Arch>& b : sets) {
            const L p0 = mul_low(b.c[0], mul0), p1 = mul_low(b.c[2], mul1);  // (hi, lo) = c0 M0, c2 M1
            b.c[0] = high_half(p1) ^ b.c[1] ^ k0;                            // hi1 ^ c1 ^ k0
            b.c[1] = p1;                                                     // lo1
            b.c[2] = high_half(p0) ^ b.c[3] ^ k1;                            // hi0 ^ c3 ^ k1
            b.c[3] = p0;                                                     // lo0
        }
    }
}

// The lanes of a comparison as bits: bit j = lane j (a mask register's bits, or a movemask).
// NOTE: xsimd 8.1's batch_bool has no mask(): each arch gets its instruction.
template <class Arch>
uint32_t lane_bits(xsimd::batch_bool<int32_t, Arch> lanes) {
    if constexpr (std::is_same_v<Arch, Avx512Arch>)
        return static_cast<__mmask16>(lanes);
    else if constexpr (std::is_same_v<Arch, Avx2Arch>)
        return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(lanes)));
    else
        return static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(lanes)));
}

// out = keep ? x / keep_prob : 0 on the W elements whose random words are `words`; returns the
// keep decisions as W bits (lane_bits).
// u = uniform01(w) = (w >> 8) · 2^-24 is exact, and (w >> 8) is an integer, so
//   u >= p  <=>  (w >> 8) >= p · 2^24  <=>  (w >> 8) >= threshold = ceil(p · 2^24)
// (p · 2^24 is exact too): the reference's float compare, done on integers.
template <class Arch>
uint32_t decide_and_scale(float* out, const float* x, xsimd::batch<uint32_t, Arch> words, int32_t threshold,
                          float keep_prob, bool streaming) {
    using B = xsimd::batch<float, Arch>;
    using Ints = xsimd::batch<int32_t, Arch>;
    const auto keep = xsimd::bitwise_cast<Ints>(words >> 8) >= Ints(threshold);
    // NOTE: divide (not multiply by 1 / keep_prob) and write 0 (not x · 0): the reference's bits
    const Ints scaled = xsimd::bitwise_cast<Ints>(B::load_unaligned(x) / B(keep_prob));
    const B result = xsimd::bitwise_cast<B>(xsimd::select(keep, scaled, Ints(0)));
    if (streaming)
        store_streaming(out, result);
    else
        result.store_unaligned(out);
    return lane_bits<Arch>(keep);
}

}  // namespace

template <class Arch>
void DropoutKernel::operator()(Arch, float* out, const float* x, int64_t n, float p, uint64_t seed, uint64_t first,
                               uint8_t* mask) const {
    using L = Lanes<Arch>;
    using Words = xsimd::batch<uint32_t, Arch>;
    constexpr int64_t W = Words::size, G = W / 4;  // G: the blocks of one register of W words
    constexpr int64_t step = kSets<Arch> * 2 * W;  // elements per step
    const float keep_prob = 1.0f - p;
    const auto threshold = static_cast<int32_t>(std::ceil(p * 16777216.0f));
    const RoundKeys keys(seed);
    // The block of each lane of a set, relative to the set's first block: lane 2k holds block k and
    // lane 2k+1 block G + k, so that interleaving the 64-bit lanes of each 128-bit group (zip_lo,
    // zip_hi below) puts blocks 0 .. G-1 in one register of words and G .. 2G-1 in the next.
    alignas(64) uint64_t start[W / 2];
    for (int64_t k = 0; k < G; ++k) start[2 * k] = first + uint64_t(k), start[2 * k + 1] = first + uint64_t(G + k);
    L counter = L::load_aligned(start);  // 64-bit block counters of the next set
    const L low_half(0xFFFFFFFFu);
    // Big outputs (kStreamingBytes and up) skip the cache: a normal store first reads each output
    // line from memory, a third more traffic. Smaller ones stay in cache for the next op.
    const bool streaming =
        n * int64_t(sizeof(float)) >= kStreamingBytes && reinterpret_cast<uintptr_t>(out) % sizeof(Words) == 0;

    int64_t i = 0;
    for (; i + step <= n; i += step) {
        // counters: [c0 c1 c2 c3] = [low word, high word, 0, 0] of each block's counter
        Blocks<Arch> sets[kSets<Arch>];
        for (Blocks<Arch>& b : sets) {
            b.c[0] = counter;
            b.c[1] = counter >> 32;
            b.c[2] = b.c[3] = L(0);
            counter += L(uint64_t(2 * G));
        }
        // 10 rounds
        philox_rounds<Arch>(sets, keys);
        // words to element order: pair (c0, c1) and (c2, c3) of each block into 64-bit lanes, then
        // put each block's two pairs side by side in a 128-bit group; decide and scale
        for (int s = 0; s < kSets<Arch>; ++s) {
            const L* c = sets[s].c;
            const L w01 = (c[0] & low_half) | (c[1] << 32), w23 = (c[2] & low_half) | (c[3] << 32);
            const int64_t e = i + s * 2 * W;  // the set's first element (a multiple of 8)
            const uint32_t low = decide_and_scale<Arch>(out + e, x + e, xsimd::bitwise_cast<Words>(xsimd::zip_lo(w01, w23)),
                                                        threshold, keep_prob, streaming);
            const uint32_t high = decide_and_scale<Arch>(out + e + W, x + e + W,
                                                         xsimd::bitwise_cast<Words>(xsimd::zip_hi(w01, w23)), threshold,
                                                         keep_prob, streaming);
            if (mask) {  // the set's 2W decisions: 2W / 8 whole bytes (x86 is little-endian)
                const uint32_t bits = low | high << W;
                std::memcpy(mask + e / 8, &bits, 2 * W / 8);
            }
        }
    }
    if (streaming) _mm_sfence();  // order the non-temporal stores before whatever reads out next
    // the tail: i is a multiple of 8, so element i starts block first + i / 4 and mask byte i / 8,
    // as the reference expects
    if (i < n)
        dropout_forward_reference(out + i, x + i, n - i, p, seed, first + static_cast<uint64_t>(i / 4),
                                  mask ? mask + i / 8 : nullptr);
}

template <class Arch>
void DropoutMaskKernel::operator()(Arch, float* out, const float* x, int64_t n, float p, const uint8_t* mask) const {
    using B = xsimd::batch<float, Arch>;
    using Ints = xsimd::batch<int32_t, Arch>;
    constexpr int64_t W = B::size;
    const float keep_prob = 1.0f - p;
    // lane j tests bit j of its register's W mask bits
    alignas(64) int32_t lane_bit[W];
    for (int64_t j = 0; j < W; ++j) lane_bit[j] = int32_t{1} << j;
    const Ints bit = Ints::load_aligned(lane_bit);
    int64_t i = 0;
    for (; i + W <= n; i += W) {
        // the W bits of elements i .. i+W-1 (W = 4 takes half a byte: i % 8 is 0 or 4)
        uint32_t bits = 0;
        std::memcpy(&bits, mask + i / 8, (W + 7) / 8);
        bits = (bits >> (i % 8)) & ((uint32_t{1} << W) - 1);
        // NOTE: divide and write 0, as dropout_forward does: its bits
        const B x_i = B::load_unaligned(x + i);
        if constexpr (std::is_same_v<Arch, Avx512Arch>) {
            B(_mm512_maskz_div_ps(static_cast<__mmask16>(bits), x_i, B(keep_prob))).store_unaligned(out + i);
        } else {
            const auto keep = (Ints(static_cast<int32_t>(bits)) & bit) != Ints(0);
            const Ints scaled = xsimd::bitwise_cast<Ints>(x_i / B(keep_prob));
            xsimd::bitwise_cast<B>(xsimd::select(keep, scaled, Ints(0))).store_unaligned(out + i);
        }
    }
    for (; i < n; ++i) out[i] = (mask[i / 8] >> (i % 8)) & 1u ? x[i] / keep_prob : 0.0f;  // the reference's map
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void DropoutKernel::operator()(KernelArch, float*, const float*, int64_t, float, uint64_t, uint64_t,
                                        uint8_t*) const;
template void DropoutMaskKernel::operator()(KernelArch, float*, const float*, int64_t, float, const uint8_t*) const;

}  // namespace ag
