// gemm_kernel.cpp: sgemm in the Goto/BLIS shape, written once for any xsimd arch and compiled once
// per arch (ops/meson.build). Contract: gemm.hpp, C = alpha · op(A) · op(B) + beta · C, row-major.
//
// The loop nest of one product:
//
//   for jc in [0, N) step NC:                  columns of a B block
//     for pc in [0, K) step KC:                a depth slice
//       pack op(B)[pc:+KC, jc:+NC] into Bp     KC×NC, in NR-wide micro-panels        (lives in L2)
//       for ir in [0, M) step MR:              <- a thread pool splits here (see the end of file)
//         pack op(A)[ir:+MR, pc:+KC] into Ap   MR×KC                                 (lives in L1)
//         for jr in [0, NC) step NR:
//           C[ir:+MR, jc+jr:+NR] = alpha · Ap · Bp[:, jr:+NR] + beta' · C           (micro-kernel)
//   beta' is the caller's beta in the first depth slice and 1 in the next ones.
//
// Blocking parameters (W = floats per register: 16 / 8 / 4), per arch in Blocking below:
//   MR×NR  the C tile held in registers while the micro-kernel runs along k. It must fit the
//          register file: MR·NR/W accumulators + NR/W loaded B vectors (+ a temporary without
//          FMA). Each k step costs NR/W vector loads + MR broadcasts for MR·NR/W FMAs, so a
//          squarer, bigger tile does more arithmetic per load.
//            avx512 14×32: 28 accumulators + 2 B vectors of 32 zmm; 28 FMAs per 16 loads
//            avx2    6×16: 12 accumulators + 2 B vectors + 1 broadcast of 16 ymm
//            sse2    4×8 :  8 accumulators + 2 B vectors + broadcast + product of 16 xmm
//   KC     the depth of a slice. Ap (MR×KC) stays in L1 while the jr loop streams Bp through
//          it; a bigger KC means fewer passes over C (each slice reads and writes C once).
//          KC = 256: Ap is 14 KiB (avx512), under half of Zen 4's 32 KiB L1d.
//   NC     Bp (KC×NC) stays in L2 while every A micro-panel sweeps it. NC = 512: Bp is 512 KiB,
//          half of Zen 4's 1 MiB L2, leaving room for the C tiles and Ap.
//   Measured on the build machine (bench/, case filter "gemm"): see the numbers in its report.
#include "ops/gemm_kernel.hpp"

#include "core/simd.hpp"

#include <algorithm>
#include <cstring>

namespace ag {

namespace {

// The blocking of each arch (the reasons are in the file header).
template <class Arch>
struct Blocking;
template <>
struct Blocking<Avx512Arch> {
    static constexpr int MR = 14, NV = 2;  // NV vectors of W floats: NR = NV · W = 32
    static constexpr int64_t KC = 256, NC = 512;
};
template <>
struct Blocking<Avx2Arch> {
    static constexpr int MR = 6, NV = 2;  // NR = 16
    static constexpr int64_t KC = 256, NC = 512;
};
template <>
struct Blocking<Sse2Arch> {
    static constexpr int MR = 4, NV = 2;  // NR = 8
    static constexpr int64_t KC = 256, NC = 512;
};

// Where element (i, k) of a packed A micro-panel (MR×KC) lives. Both are plain copies of the
// source, so packing A never transposes:
//   by_row    A not transposed (row i contiguous along k):  Ap[i·KC + k]
//   by_depth  A transposed (stored K×M, rows i contiguous):  Ap[k·MR + i]
enum class PanelLayout { by_row, by_depth };

// Packs op(A)[0:m, 0:kc] (m <= MR) into Ap; rows m..MR are zero so the micro-kernel can always
// compute a full tile. `a` points at op(A)[0, 0] of the block.
template <class Arch, PanelLayout Layout>
void pack_a(float* ap, const float* a, int64_t lda, int64_t m, int64_t kc) {
    constexpr int MR = Blocking<Arch>::MR;
    constexpr int64_t KC = Blocking<Arch>::KC;
    if constexpr (Layout == PanelLayout::by_row) {
        for (int64_t i = 0; i < MR; ++i) {
            if (i < m)
                std::memcpy(ap + i * KC, a + i * lda, sizeof(float) * kc);
            else
                std::memset(ap + i * KC, 0, sizeof(float) * kc);
        }
    } else {
        for (int64_t k = 0; k < kc; ++k) {
            int64_t i = 0;
            for (; i < m; ++i) ap[k * MR + i] = a[k * lda + i];
            for (; i < MR; ++i) ap[k * MR + i] = 0.0f;
        }
    }
}

// Packs op(B)[0:kc, 0:nc] into Bp as micro-panels of NR columns: column j of panel p, depth k is
// Bp[p·kc·NR + k·NR + j]. Columns past nc are zero. `b` points at op(B)[0, 0] of the block.
template <class Arch>
void pack_b(float* bp, const float* b, int64_t ldb, bool trans_b, int64_t kc, int64_t nc) {
    constexpr int64_t NR = Blocking<Arch>::NV * xsimd::batch<float, Arch>::size;
    for (int64_t j0 = 0; j0 < nc; j0 += NR, bp += kc * NR) {
        int64_t n = std::min(NR, nc - j0);
        if (!trans_b) {
            // op(B)[k, j] = B[k·ldb + j]: each depth is a copy of n floats
            for (int64_t k = 0; k < kc; ++k) {
                std::memcpy(bp + k * NR, b + k * ldb + j0, sizeof(float) * n);
                std::memset(bp + k * NR + n, 0, sizeof(float) * (NR - n));
            }
        } else {
            // op(B)[k, j] = B[j·ldb + k]: read each row of B along k, write it as a column of Bp
            for (int64_t j = 0; j < n; ++j) {
                const float* row = b + (j0 + j) * ldb;
                for (int64_t k = 0; k < kc; ++k) bp[k * NR + j] = row[k];
            }
            for (int64_t j = n; j < NR; ++j)
                for (int64_t k = 0; k < kc; ++k) bp[k * NR + j] = 0.0f;
        }
    }
}

// The micro-kernel.
//   C[0:m, 0:n] = alpha · Σ_k Ap[i, k] · Bp[k, j] + beta · C      (beta == 0: C is not read)
//   Ap: one packed MR×KC micro-panel of A (layout above); Bp: one packed kc×NR micro-panel of B,
//   row k at Bp + k·NR, 64-byte aligned; C: row-major with leading dimension ldc; m <= MR, n <= NR.
// It always computes the full MR×NR tile in registers (the packing zero-padded the edges) and
// writes only the m×n corner that exists.
template <class Arch, PanelLayout Layout>
void micro_kernel(int64_t kc, const float* ap, const float* bp, float alpha, float beta, float* c, int64_t ldc,
                  int64_t m, int64_t n) {
    using Batch = xsimd::batch<float, Arch>;
    constexpr int W = Batch::size, MR = Blocking<Arch>::MR, NV = Blocking<Arch>::NV, NR = NV * W;
    constexpr int64_t KC = Blocking<Arch>::KC;

    // accumulate the tile along k: acc[i][v] holds C[i, v·W : v·W + W]
    Batch acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = Batch(0.0f);
    for (int64_t k = 0; k < kc; ++k) {
        Batch b[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) b[v] = Batch::load_aligned(bp + k * NR + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            Batch a(Layout == PanelLayout::by_row ? ap[i * KC + k] : ap[k * MR + i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i][v] = xsimd::fma(a, b[v], acc[i][v]);
        }
    }

    // write the tile: straight into C when it is whole, through a buffer at the edges
    if (m == MR && n == NR) {
        Batch va(alpha), vb(beta);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) {
                float* cp = c + i * ldc + v * W;
                Batch r = va * acc[i][v];
                if (beta != 0.0f) r = xsimd::fma(vb, Batch::load_unaligned(cp), r);
                r.store_unaligned(cp);
            }
        return;
    }
    alignas(64) float tile[MR * NR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v].store_aligned(tile + i * NR + v * W);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            float r = alpha * tile[i * NR + j];
            c[i * ldc + j] = beta == 0.0f ? r : r + beta * c[i * ldc + j];
        }
}

// The loops under one packed B block (jr, ir above):
//   C[0:M, 0:nc] = alpha · op(A)[0:M, 0:kc] · Bp + beta · C
// `a` points at op(A)[0, 0] of the slice; `ap` is scratch for one A micro-panel (MR×KC).
template <class Arch, PanelLayout Layout>
void multiply_block(const float* a, int64_t lda, const float* bp, float* c, int64_t ldc, int64_t M, int64_t nc,
                    int64_t kc, float alpha, float beta, float* ap) {
    constexpr int MR = Blocking<Arch>::MR;
    constexpr int64_t NR = Blocking<Arch>::NV * xsimd::batch<float, Arch>::size;
    for (int64_t ir = 0; ir < M; ir += MR) {
        int64_t m = std::min<int64_t>(MR, M - ir);
        // op(A)[ir, 0] is row ir of A, or column ir when A is stored transposed
        pack_a<Arch, Layout>(ap, Layout == PanelLayout::by_row ? a + ir * lda : a + ir, lda, m, kc);
        for (int64_t jr = 0; jr < nc; jr += NR)
            micro_kernel<Arch, Layout>(kc, ap, bp + jr * kc, alpha, beta, c + ir * ldc + jr, ldc, m,
                                       std::min(NR, nc - jr));
    }
}

// Chooses the A panel layout from trans_a (see PanelLayout).
template <class Arch>
void multiply_block(bool trans_a, const float* a, int64_t lda, const float* bp, float* c, int64_t ldc, int64_t M,
                    int64_t nc, int64_t kc, float alpha, float beta, float* ap) {
    if (trans_a)
        multiply_block<Arch, PanelLayout::by_depth>(a, lda, bp, c, ldc, M, nc, kc, alpha, beta, ap);
    else
        multiply_block<Arch, PanelLayout::by_row>(a, lda, bp, c, ldc, M, nc, kc, alpha, beta, ap);
}

// C = beta · C, for products with nothing to add (K == 0 or alpha == 0); beta == 0 writes zeros.
void scale_c(float* c, int64_t ldc, int64_t M, int64_t N, float beta) {
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

// One product, the whole loop nest of the file header.
template <class Arch>
void gemm_one(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc, float* ap, float* bp) {
    constexpr int64_t KC = Blocking<Arch>::KC, NC = Blocking<Arch>::NC;
    for (int64_t jc = 0; jc < N; jc += NC) {
        int64_t nc = std::min(NC, N - jc);
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = std::min(KC, K - pc);
            // op(B)[pc, jc] and op(A)[0, pc], wherever the transposes put them
            pack_b<Arch>(bp, trans_b ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, trans_b, kc, nc);
            const float* a = trans_a ? A + pc * lda : A + pc;
            multiply_block<Arch>(trans_a, a, lda, bp, C + jc, ldc, M, nc, kc, alpha, pc == 0 ? beta : 1.0f, ap);
        }
    }
}

}  // namespace

template <class Arch>
void GemmKernel::operator()(Arch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                            const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                            int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
                            int64_t batch) const {
    using Blk = Blocking<Arch>;
    constexpr int64_t NR = Blk::NV * xsimd::batch<float, Arch>::size;
    if (M <= 0 || N <= 0 || batch <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        for (int64_t b = 0; b < batch; ++b) scale_c(C + b * stride_c, ldc, M, N, beta);
        return;
    }

    // packing space: one A micro-panel and one B block, kept by the thread between calls
    float* ap = thread_scratch(0, Blk::MR * Blk::KC);
    float* bp = thread_scratch(1, Blk::KC * ((Blk::NC + NR - 1) / NR * NR));

    // A batch that broadcasts one B small enough to be a single block packs it only once.
    if (stride_b == 0 && K <= Blk::KC && N <= Blk::NC) {
        pack_b<Arch>(bp, B, ldb, trans_b, K, N);
        for (int64_t b = 0; b < batch; ++b)
            multiply_block<Arch>(trans_a, A + b * stride_a, lda, bp, C + b * stride_c, ldc, M, N, K, alpha, beta, ap);
        return;
    }
    for (int64_t b = 0; b < batch; ++b)
        gemm_one<Arch>(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
                       C + b * stride_c, ldc, ap, bp);
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void GemmKernel::operator()(KernelArch, bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                                     int64_t, const float*, int64_t, int64_t, float, float*, int64_t, int64_t,
                                     int64_t) const;

}  // namespace ag
