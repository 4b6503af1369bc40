// gemm_packing.hpp: how ops/gemm_kernel.cpp cuts its operands into blocks (Blocking, per arch;
// the reasons for each size are in gemm_kernel.cpp's header) and copies them into panels (its
// "packing"), and how the micro-kernel finds them when they are read in place. Included by
// gemm_kernel.cpp only, once per SIMD level.
//
//   Ap: MR rows of op(A) × kc, each panel MR·KC floats (by_row_packed or by_depth, see PanelLayout)
//   Bp: op(B)[0:kc, 0:nc] as micro-panels of NR columns: column j of panel p at depth k is
//       Bp[p·kc·NR + k·NR + j]; columns past nc are zero
// NOTE: everything here is in an anonymous namespace, like the rest of the kernel file: each
// SIMD level's copy must stay its own (the ODR trap of ../shared/XSIMD-8.1.md: a shared inline
// function compiled for AVX-512 could end up serving the sse2 path).
#pragma once

#include "core/simd.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include <immintrin.h>

namespace ag {

namespace {

// The blocking of each arch (the reasons are in gemm_kernel.cpp's header).
template <class Arch>
struct Blocking;
template <>
struct Blocking<Avx512Arch> {
    static constexpr int MR = 14, NV = 2;  // NV vectors of W floats: NR = NV · W = 32
    static constexpr int64_t KC = 256, kPanelsPerBlock = 16, kInPlaceRows = 64;
};
template <>
struct Blocking<Avx2Arch> {
    static constexpr int MR = 6, NV = 2;  // NR = 16
    static constexpr int64_t KC = 256, kPanelsPerBlock = 16, kInPlaceRows = 64;
};
template <>
struct Blocking<Sse2Arch> {
    static constexpr int MR = 4, NV = 2;  // NR = 8
    static constexpr int64_t KC = 256, kPanelsPerBlock = 16, kInPlaceRows = 64;
};

template <class Arch>
constexpr int64_t kNR = Blocking<Arch>::NV * xsimd::batch<float, Arch>::size;

// NC for this CPU: the B block (KC×NC floats) takes half of its L2 (gemm_kernel.cpp's header).
template <class Arch>
int64_t block_columns() {
    static const int64_t nc = [] {
        long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        if (l2 <= 0) l2 = 1 << 20;  // unknown: assume Zen 4's 1 MiB
        int64_t columns = l2 / 2 / int64_t(Blocking<Arch>::KC * sizeof(float)) / kNR<Arch> * kNR<Arch>;
        return std::clamp<int64_t>(columns, kNR<Arch>, 4096);
    }();
    return nc;
}

// How the micro-kernel finds element (i, k) of an A panel, given the panel's leading dimension:
//   by_row         A not transposed, row i contiguous along k:    a[i·ld + k]   (in place, ld = lda)
//   by_row_packed  the same, packed: ld is the constant KC        a[i·KC + k]
//   by_depth       A transposed (stored K×M), contiguous along i:  a[k·ld + i]   (packed, ld = MR)
// Packing keeps the source's order, so it is always a plain copy and never a transpose.
// NOTE: by_row_packed exists for speed only. With a constant row stride, the MR broadcasts of a
// k step address a + i·KC + k with constant offsets; with a run-time stride the compiler needs
// an index register per row, runs out of them and reloads from the stack (measured ~10% slower).
// by_depth needs no such case: its stride only advances one pointer per k step.
enum class PanelLayout { by_row, by_row_packed, by_depth };

// The rows of C split into panels of at most MR rows, as even as possible: 64 rows become
// 13+13+13+13+12 rather than 14+14+14+14+8, so no panel runs a thin tile that does less work per
// load. Panel p holds rows [start(p), end(p)).
// Listed rows (gemm_rows): only the rows in the list, each run of consecutive ones split the same
// way; a panel never spans a gap, so its rows of A and C stay ld apart.
struct RowPanels {
    int64_t count, rows = 0, taller = 0;
    std::vector<int64_t> bounds;  // listed rows: panel p is [bounds[2p], bounds[2p + 1])
    RowPanels(int64_t M, int MR) : count((M + MR - 1) / MR), rows(M / count), taller(M % count) {}
    RowPanels(const int64_t* listed, int64_t n, int MR) : count(0) {
        for (int64_t r0 = 0, r1; r0 < n; r0 = r1) {
            for (r1 = r0 + 1; r1 < n && listed[r1] == listed[r1 - 1] + 1; ++r1) {}
            const RowPanels run(r1 - r0, MR);  // the run [listed[r0], listed[r1 - 1]] as its own M
            for (int64_t p = 0; p < run.count; ++p)
                bounds.insert(bounds.end(), {listed[r0] + run.start(p), listed[r0] + run.end(p)});
            count += run.count;
        }
    }
    int64_t start(int64_t p) const { return bounds.empty() ? p * rows + std::min(p, taller) : bounds[2 * p]; }
    int64_t end(int64_t p) const { return bounds.empty() ? start(p + 1) : bounds[2 * p + 1]; }
};

// Packs panels [p0, p1) of op(A)[:, 0:kc] into Ap, one MR×KC panel after the other, in
// by_row_packed or by_depth layout (from trans_a). `a` points at op(A)[0, 0] of the slice.
// k_index (by_depth only): null, or the rows of A to read for k = 0 .. kc-1 (gemm_tn_rows).
// sums (by_depth only): null, or op(A)'s row sums to add this slice to: sums[i] += op(A)[i, k]
// for each packed k, in ascending k (gemm_tn_rows' a_sums).
template <class Arch, PanelLayout Layout>
void pack_a(float* ap, const float* a, int64_t lda, const RowPanels& panels, int64_t p0, int64_t p1, int64_t kc,
            const int64_t* k_index, float* sums) {
    constexpr int MR = Blocking<Arch>::MR;
    constexpr int64_t KC = Blocking<Arch>::KC;
    if constexpr (Layout == PanelLayout::by_row_packed) {
        // row i of A holds op(A)[i, 0:kc] contiguously: copy it into its panel. The rows are short
        // (kc <= KC), so an inline vector copy beats a call to memcpy.
        using Batch = xsimd::batch<float, Arch>;
        constexpr int W = Batch::size;
        for (int64_t p = p0; p < p1; ++p, ap += MR * KC)
            for (int64_t i = panels.start(p), r = 0; i < panels.end(p); ++i, ++r) {
                int64_t k = 0;
                for (; k + W <= kc; k += W) Batch::load_unaligned(a + i * lda + k).store_aligned(ap + r * KC + k);
                for (; k < kc; ++k) ap[r * KC + k] = a[i * lda + k];
            }
    } else {
        // A is stored K×M: row k holds op(A)[i, k] for every i of the block contiguously. Walk k
        // outer, so the reads stream along rows of A, and hand each panel its MR floats.
        // A copy of the fixed size MR compiles to a few vector moves; for a panel of m < MR rows
        // it also copies the next MR - m floats of the row, which the m-row micro-kernel never
        // reads. Only a panel within MR of the end of the row must stop at m.
        const int64_t M = panels.end(panels.count - 1);  // (never listed: A is not transposed then)
        for (int64_t k = 0; k < kc; ++k) {
            float* dst = ap + k * MR;
            const float* row = a + (k_index ? k_index[k] : k) * lda;
            for (int64_t p = p0; p < p1; ++p, dst += MR * KC) {
                const float* src = row + panels.start(p);
                if (panels.start(p) + MR <= M)
                    std::memcpy(dst, src, sizeof(float) * MR);
                else
                    for (int64_t i = 0; i < M - panels.start(p); ++i) dst[i] = src[i];
            }
            // the row sums of op(A), while this row of A is in L1 (the panels' rows are contiguous)
            if (sums) {
                using Batch = xsimd::batch<float, Arch>;
                constexpr int W = Batch::size;
                int64_t i = panels.start(p0);
                const int64_t end = panels.end(p1 - 1);
                for (; i + W <= end; i += W)
                    (Batch::load_unaligned(sums + i) + Batch::load_unaligned(row + i)).store_unaligned(sums + i);
                for (; i < end; ++i) sums[i] += row[i];
            }
        }
    }
}

// A block of op(B) (kc×nc) as the micro-kernel reads it: the micro-panel of columns jr..jr+NR
// starts at data + jr·panel_step and its rows are row_stride floats apart. Packed, the panels are
// contiguous (panel_step = kc, row_stride = NR); read in place, they are B itself
// (panel_step = 1, row_stride = ldb), except a last panel narrower than NR, which is packed into
// `edge` so that the micro-kernel never reads past the end of a row of B.
struct BPanels {
    const float* data;
    int64_t panel_step, row_stride;
    const float* edge = nullptr;  // the packed last panel, when read in place and nc % NR != 0
};

// Transposes a W×W block held in W registers (W = floats per register): afterwards r[c] holds
// what was column c. Three rounds of shuffles, as in any SIMD transpose: interleave pairs of rows,
// then pairs of pairs, then (wider registers) whole 128-bit lanes.
// NOTE: xsimd 8.1's zip_lo/zip_hi interleave within 128-bit lanes on avx/avx512 but across the
// register on sse2, so they cannot spell one transpose for every arch: each arch gets intrinsics.
template <class Arch>
void transpose_square(xsimd::batch<float, Arch>* r) {
    if constexpr (std::is_same_v<Arch, Avx512Arch>) {
        __m512 t[16];
        for (int i = 0; i < 16; i += 2) {  // per 128-bit lane: [a0 b0 a1 b1], [a2 b2 a3 b3]
            t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
            t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
        }
        __m512 u[16];
        for (int i = 0; i < 16; i += 4) {  // u[i + c], lane L: column 4L + c of rows i .. i+3
            u[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
            u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
        }
        for (int c = 0; c < 4; ++c) {  // gather the four row groups' lanes: 0x88 picks lanes 0, 2
            t[c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);       // columns c, 8+c; rows 0..7
            t[4 + c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);   // columns 4+c, 12+c; rows 0..7
            t[8 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);   // ...; rows 8..15
            t[12 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        }
        for (int c = 0; c < 4; ++c) {
            r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
            r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);
            r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
            r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);
        }
    } else if constexpr (std::is_same_v<Arch, Avx2Arch>) {
        __m256 t[8], u[8];
        for (int i = 0; i < 8; i += 2) {
            t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
            t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
        }
        for (int i = 0; i < 8; i += 4) {  // u[i + c], lane L: column 4L + c of rows i .. i+3
            u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
            u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
        }
        for (int c = 0; c < 4; ++c) {
            r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);      // low lanes: column c
            r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);  // high lanes: column 4+c
        }
    } else {
        __m128 r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        r[0] = r0, r[1] = r1, r[2] = r2, r[3] = r3;
    }
}

// Packs op(B)[0:kc, 0:nc] into Bp as micro-panels of NR columns: column j of panel p, depth k is
// Bp[p·kc·NR + k·NR + j]. Columns past nc are zero. `b` points at op(B)[0, 0] of the block.
// k_index (B not transposed only): null, or the rows of B to read for k = 0 .. kc-1 (gemm_tn_rows).
template <class Arch>
BPanels pack_b(float* bp, const float* b, int64_t ldb, bool trans_b, int64_t kc, int64_t nc,
               const int64_t* k_index = nullptr) {
    using Batch = xsimd::batch<float, Arch>;
    constexpr int W = Batch::size, NV = Blocking<Arch>::NV;
    constexpr int64_t NR = kNR<Arch>;
    int64_t full = nc / NR * NR;  // columns in whole panels
    // A last panel narrower than NR is zeroed first: the micro-kernel computes the columns past nc
    // and throws them away, and zeros keep stale scratch (possibly denormals, slow on some CPUs)
    // out of its FMAs. NOTE: one memset of the panel; zeroing only the unused columns of each of
    // its kc rows became kc small memset calls, a quarter of the time of packing a 48-column B.
    if (full < nc) std::memset(bp + full * kc, 0, sizeof(float) * static_cast<size_t>(kc * NR));
    if (!trans_b) {
        // op(B)[k, j] = B[k·ldb + j]. Walk B row by row (k outer): reading along the rows of B
        // keeps the hardware prefetcher and the TLB happy; the writes go to the panels, in L2.
        for (int64_t k = 0; k < kc; ++k) {
            const float* row = b + (k_index ? k_index[k] : k) * ldb;
            for (int64_t j0 = 0; j0 < full; j0 += NR)
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v)
                    Batch::load_unaligned(row + j0 + v * W).store_aligned(bp + j0 * kc + k * NR + v * W);
            for (int64_t j = full; j < nc; ++j) bp[full * kc + k * NR + (j - full)] = row[j];
        }
    } else {
        // op(B)[k, j] = B[j·ldb + k]: column j of op(B) is row j of B. Take W rows of B at a time
        // (they fall in one panel, NR being a multiple of W), W floats of each, and transpose the
        // W×W block in registers: each register is then W columns at one depth k, stored whole.
        // A copy one float at a time ran at about a quarter of this speed.
        int64_t j = 0;
        for (; j + W <= nc; j += W) {
            float* panel = bp + (j / NR * NR) * kc + j % NR;
            const float* rows = b + j * ldb;
            int64_t k = 0;
            for (; k + W <= kc; k += W) {
                Batch r[W];
                for (int i = 0; i < W; ++i) r[i] = Batch::load_unaligned(rows + i * ldb + k);
                transpose_square<Arch>(r);
                for (int i = 0; i < W; ++i) r[i].store_aligned(panel + (k + i) * NR);
            }
            for (; k < kc; ++k)
                for (int i = 0; i < W; ++i) panel[k * NR + i] = rows[i * ldb + k];
        }
        for (; j < nc; ++j) {  // the last nc mod W columns, one at a time
            const float* row = b + j * ldb;
            float* column = bp + (j / NR * NR) * kc + j % NR;
            for (int64_t k = 0; k < kc; ++k) column[k * NR] = row[k];
        }
    }
    return {bp, kc, NR};
}

// op(B)[0:kc, 0:nc] read where it is (B not transposed); only a narrow last panel is packed,
// into `edge` (kc×NR floats).
template <class Arch>
BPanels b_in_place(float* edge, const float* b, int64_t ldb, int64_t kc, int64_t nc) {
    constexpr int64_t NR = kNR<Arch>;
    int64_t full = nc / NR * NR;
    if (full == nc) return {b, 1, ldb};
    pack_b<Arch>(edge, b + full, ldb, false, kc, nc - full);
    return {b, 1, ldb, edge};
}

}  // namespace

}  // namespace ag
