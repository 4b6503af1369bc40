// gemm_kernel.cpp: sgemm in the Goto/BLIS shape, written once for any xsimd arch and compiled once
// per arch (ops/meson.build). Contract: gemm.hpp, C = alpha · op(A) · op(B) + beta · C, row-major.
//
// The loop nest of one product:
//
//   for jc in [0, N) step NC:                  columns of a B block
//     for pc in [0, K) step KC:                a depth slice
//       pack op(B)[pc:+KC, jc:+NC] into Bp     KC×NC, in NR-wide micro-panels        (lives in L2)
//       for each panel of <= MR rows of C:     <- threads split the panels (multiply_block)
//         pack op(A)[rows, pc:+KC] into Ap     MR×KC                                 (lives in L1)
//         for jr in [0, NC) step NR:
//           C[rows, jc+jr:+NR] = alpha · Ap · Bp[:, jr:+NR] + beta' · C             (micro-kernel)
//   beta' is the caller's beta in the first depth slice and 1 in the next ones. A transposed A
//   is packed kPanelsPerBlock panels at a time (MC = 16·MR rows, see multiply_block).
// Transposes never reach the micro-kernel: packing absorbs them (see pack_a, pack_b).
//
// Blocking parameters (W = floats per register: 16 / 8 / 4), per arch in Blocking (gemm_packing.hpp):
//   MR×NR  the C tile held in registers while the micro-kernel runs along k. It must fit the
//          register file: MR·NR/W accumulators + NR/W loaded B vectors (+ a temporary without
//          FMA). Each k step costs NR/W vector loads + MR broadcasts for MR·NR/W FMAs, so a
//          bigger, squarer tile does more arithmetic per load.
//            avx512 14×32: 28 accumulators + 2 B vectors of 32 zmm; 28 FMAs per 16 loads
//            avx2    6×16: 12 accumulators + 2 B vectors + 1 broadcast of 16 ymm
//            sse2    4×8 :  8 accumulators + 2 B vectors + broadcast + product of 16 xmm
//   KC     the depth of a slice. Ap (MR×KC) stays in L1 while the jr loop streams Bp through
//          it; a bigger KC means fewer passes over C (each slice reads and writes C once).
//          KC = 256: Ap is 14 KiB (avx512), under half of Zen 4's 32 KiB L1d.
//   MC     16 panels (224 rows, 224 KiB at avx512): the A block packed in one pass when A is
//          transposed, sitting in L2 next to Bp.
//   NC     Bp (KC×NC) stays in L2 while every A panel sweeps it; a bigger NC packs A fewer times
//          (once per B block). NC is chosen at run time so that Bp fills half of this CPU's L2,
//          leaving room for C tiles and A rows: 512 on Zen 4 (1 MiB L2), 1024 with 2 MiB.
// Measured (bench/, one core, on a 2 MiB-L2 machine): the micro-kernel alone runs at 97-100% of
// the FMA peak with Bp streaming from L2; KC = 128 lost to the extra passes over C, KC = 512
// did not gain; NC = 1024 beat 512 by 2% at 2048³ (A packed half as often), equal at 1024³;
// prefetching the next A panel during the jr loop measured no gain and was dropped.
//
// Threads (core/parallel.hpp): inside one product, the calling thread packs each B block once and
// every thread then multiplies a share of the row panels against it, packing its own A panels
// into its own thread_scratch (multiply_block); a batch of many products, or of small ones,
// gives each thread whole products instead. No thread adds into another's tile of C, and each
// tile is computed by the same micro-kernel calls on the same packed data whatever the thread
// count, so C is bitwise the same on 1 thread or N.
//
// Small products (M <= kInPlaceRows, K <= KC) skip the packing of A, and of B unless B is
// transposed: copying costs about as much as multiplying them once, and they are small enough to
// stay in cache. The micro-kernel then reads them where they are, with their leading dimensions
// (see PanelLayout and BPanels); the attention products (64×48×32, 64×32×48 per head) take this
// path. How the operands are packed is in gemm_packing.hpp.
#include "ops/gemm_kernel.hpp"

#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/gemm_packing.hpp"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include <immintrin.h>

namespace ag {

namespace {

// a·b + c, as one FMA instruction wherever the ISA has one (sse2 has none: a·b is rounded first).
// NOTE: xsimd 8.1's fma is plain a*b+c on avx512. -ffp-contract=fast usually fuses it, but not
// when xsimd's functions stay out of line (a sanitizer build did that): call the intrinsic.
template <class Arch>
xsimd::batch<float, Arch> fmadd(xsimd::batch<float, Arch> a, xsimd::batch<float, Arch> b, xsimd::batch<float, Arch> c) {
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
        return _mm512_fmadd_ps(a, b, c);
    else
        return xsimd::fma(a, b, c);
}

// The micro-kernel, for a tile of ROWS <= MR rows (multiply_block picks ROWS per panel).
//   C[0:ROWS, 0:n] = alpha · Σ_k A[i, k] · B[k, j] + beta · C      (beta == 0: C is not read)
//   A: an A panel in `Layout` with leading dimension lda_p (packed or in place, see PanelLayout);
//   B: a kc×NR micro-panel of op(B), row k at b + k·ldb_p (ldb_p = NR packed, ldb in place);
//   C: row-major with leading dimension ldc; n <= NR columns exist.
//   bias: null, or the tile's n columns of a row vector added to every row (linear's bias)
// It computes the first NV·W columns of the micro-panel in registers (NV = 1: a tile of n <= W
// columns, whose other half would be wasted work) and writes the n that exist (a narrow panel is
// zero-padded). Registers: ROWS·NV accumulators, NV vectors of B, one broadcast of A.
template <class Arch, PanelLayout Layout, int ROWS, int NV>
void micro_kernel(int64_t kc, const float* a, int64_t lda_p, const float* b, int64_t ldb_p, float alpha, float beta,
                  const float* bias, float* c, int64_t ldc, int64_t n) {
    using Batch = xsimd::batch<float, Arch>;
    constexpr int W = Batch::size, NR = NV * W;
    constexpr int64_t KC = Blocking<Arch>::KC;

    // start fetching the C tile now: it is needed only after the k loop, and may be far away
    // (a short loop would not hide the fetch, and a small C is in cache anyway)
    if (kc >= 128) {
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; ++i) {
            __builtin_prefetch(c + i * ldc, 1);
            __builtin_prefetch(c + i * ldc + NR - 1, 1);
        }
    }

    // accumulate along k: acc[i][v] holds C[i, v·W : v·W + W]
    Batch acc[ROWS][NV];
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = Batch(0.0f);
    for (int64_t k = 0; k < kc; ++k) {
        Batch bk[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bk[v] = Batch::load_unaligned(b + k * ldb_p + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; ++i) {
            Batch aik(Layout == PanelLayout::by_row_packed ? a[i * KC + k]  // broadcast A[i, k]
                      : Layout == PanelLayout::by_row      ? a[i * lda_p + k]
                                                           : a[k * lda_p + i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i][v] = fmadd(aik, bk[v], acc[i][v]);
        }
    }

    // write the tile: each register of columns that exist straight into C; a register partly
    // past column n (the last tile of a narrow C) with a masked store (AVX-512) or through a
    // buffer. A 48-column C is a full tile and one of 16 columns: no float goes one at a time.
    const Batch va(alpha), vb(beta);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            const int64_t cols = n - v * W;  // of this register's W columns, the ones that exist
            if (cols <= 0) break;
            float* cp = c + i * ldc + v * W;
            const float* bp = bias ? bias + v * W : nullptr;
            if (cols >= W) {
                Batch r = va * acc[i][v];
                if (beta != 0.0f) r = fmadd(vb, Batch::load_unaligned(cp), r);
                if (bp) r = r + Batch::load_unaligned(bp);
                r.store_unaligned(cp);
            } else if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
                const __mmask16 keep = static_cast<__mmask16>((1u << cols) - 1);
                __m512 r = _mm512_mul_ps(va, acc[i][v]);
                if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(keep, cp), r);
                if (bp) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(keep, bp));
                _mm512_mask_storeu_ps(cp, keep, r);
            } else {
                alignas(64) float part[W];
                acc[i][v].store_aligned(part);
                for (int64_t j = 0; j < cols; ++j) {
                    float r = beta == 0.0f ? alpha * part[j] : alpha * part[j] + beta * cp[j];
                    cp[j] = bp ? r + bp[j] : r;
                }
            }
        }
}

// The micro-kernel for every row count: micro_kernels<Arch, Layout>[m] computes an m-row tile.
using MicroKernel = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float, float, const float*, float*,
                             int64_t, int64_t);

template <class Arch, PanelLayout Layout, int NV, int... Rows>
constexpr std::array<MicroKernel, sizeof...(Rows) + 1> micro_kernel_table(std::integer_sequence<int, Rows...>) {
    return {nullptr, &micro_kernel<Arch, Layout, Rows + 1, NV>...};
}

// NV = Blocking::NV registers wide (NR columns), or one register wide for a last tile of at most
// W columns (micro_kernels<Arch, Layout, 1>)
template <class Arch, PanelLayout Layout, int NV = Blocking<Arch>::NV>
constexpr auto micro_kernels =
    micro_kernel_table<Arch, Layout, NV>(std::make_integer_sequence<int, Blocking<Arch>::MR>{});

// The flops below which a chunk of work is not worth sending to another thread: about 20 µs at
// one core's FMA rate, several times what waking a worker and handing it the chunk costs.
constexpr double kMinChunkFlops = 2e6;

// About the time of writing one float of C to memory, in flops at one core's FMA rate: a 64-byte
// line of 16 floats written at ~20 GB/s takes ~3 ns, ~300 flops at ~100 GFLOP/s.
constexpr double kFlopsPerStore = 20.0;

// The loops under one block of op(B) (the A block, panel and jr loops of the file header):
//   C[0:M, 0:nc] = alpha · op(A)[0:M, 0:kc] · B + beta · C (+ bias[0:nc] on every row, if not null)
// `a` points at op(A)[0, 0] of the slice. `pack`: copy A into this thread's packing space
// (kPanelsPerBlock panels of MR×KC, thread_scratch slot 0), else read A in place.
// Threads split the row panels (parallel_for, core/parallel.hpp). Every tile of C is computed by
// one micro-kernel call with the same inputs whichever thread runs it, so C is bitwise the same
// on 1 thread or N, and the grain below may depend on the thread count.
template <class Arch, PanelLayout Layout>
void multiply_block(const float* a, int64_t lda, const BPanels& b, float* c, int64_t ldc, int64_t M, int64_t nc,
                    int64_t kc, float alpha, float beta, const float* bias, bool pack, const int64_t* k_index,
                    const RowList& listed) {
    constexpr int MR = Blocking<Arch>::MR;
    constexpr int64_t NR = kNR<Arch>, panel_size = MR * Blocking<Arch>::KC;
    // op(A)[i, 0] is row i of A, or column i when A is stored transposed
    auto a_rows = [&](int64_t i) { return Layout == PanelLayout::by_row ? a + i * lda : a + i; };
    // a packed panel: by_row becomes by_row_packed, by_depth stays by_depth with ld = MR
    constexpr PanelLayout packed = Layout == PanelLayout::by_row ? PanelLayout::by_row_packed : Layout;
    const auto& kernels = pack ? micro_kernels<Arch, packed> : micro_kernels<Arch, Layout>;
    const auto& narrow = pack ? micro_kernels<Arch, packed, 1> : micro_kernels<Arch, Layout, 1>;
    constexpr int64_t W = xsimd::batch<float, Arch>::size;
    // NOTE: read in place, a by_row panel has a run-time row stride, so every row costs an
    // address register; past ~8 rows x86-64 runs out and reloads them from the stack on every k
    // step. Such panels hold at most 8 rows (measured: 128×(64×64×32) went 0.88× -> 0.94×).
    const int panel_rows = !pack && Layout == PanelLayout::by_row ? std::min(MR, 8) : MR;
    const RowPanels panels = listed.of == RowList::Of::output ? RowPanels(listed.index, listed.count, panel_rows)
                                                               : RowPanels(M, panel_rows);

    // How many panels to pack at a time. A transposed A is read along its rows, which cross
    // every panel of a block: packing kPanelsPerBlock panels per pass turns short strided reads
    // into long streaming ones (TN 384×128×2048 went from 0.95× to 1.1× OpenBLAS). An A that is
    // not transposed is read along rows inside one panel anyway: packing each panel just before
    // its jr loop keeps it in L1 (3% faster at 1024³ than going through L2).
    constexpr int64_t per_block = Layout == PanelLayout::by_row ? 1 : Blocking<Arch>::kPanelsPerBlock;

    // panels per chunk: enough flops to pay for a thread, and (transposed A) up to a whole packed
    // block, but small enough that every thread gets a few chunks to even out their speeds
    const double panel_flops = 2.0 * MR * double(nc) * double(std::max<int64_t>(kc, 1));  // (a listed slice may be empty)
    const int64_t share = (panels.count + 2 * num_threads() - 1) / (2 * num_threads());
    const int64_t grain = std::max({int64_t(kMinChunkFlops / panel_flops) + 1, std::min(per_block, share), int64_t(1)});

    parallel_for(0, panels.count, grain, [&](int64_t q0, int64_t q1) {
        float* ap = pack ? thread_scratch(0, Blocking<Arch>::kPanelsPerBlock * panel_size) : nullptr;
        for (int64_t p0 = q0; p0 < q1; p0 += per_block) {
            int64_t p1 = std::min(p0 + per_block, q1);
            if (pack) pack_a<Arch, packed>(ap, a, lda, panels, p0, p1, kc, k_index, listed.sums);
            for (int64_t p = p0; p < p1; ++p) {
                int64_t i0 = panels.start(p), m = panels.end(p) - i0;
                const float* panel = pack ? ap + (p - p0) * panel_size : a_rows(i0);
                int64_t panel_ld = pack ? MR : lda;  // (by_row_packed ignores it)
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t n = std::min(NR, nc - jr);
                    MicroKernel kernel = n <= W ? narrow[m] : kernels[m];
                    float* tile = c + i0 * ldc + jr;
                    const float* tile_bias = bias ? bias + jr : nullptr;
                    if (n < NR && b.edge != nullptr)
                        kernel(kc, panel, panel_ld, b.edge, NR, alpha, beta, tile_bias, tile, ldc, n);
                    else
                        kernel(kc, panel, panel_ld, b.data + jr * b.panel_step, b.row_stride, alpha, beta, tile_bias,
                               tile, ldc, n);
                }
            }
        }
    });
}

// Chooses the A panel layout from trans_a (see PanelLayout).
template <class Arch>
void multiply_block(bool trans_a, const float* a, int64_t lda, const BPanels& b, float* c, int64_t ldc, int64_t M,
                    int64_t nc, int64_t kc, float alpha, float beta, const float* bias, bool pack,
                    const int64_t* k_index = nullptr, const RowList& listed = {}) {
    if (trans_a)
        multiply_block<Arch, PanelLayout::by_depth>(a, lda, b, c, ldc, M, nc, kc, alpha, beta, bias, pack, k_index,
                                                    listed);
    else
        multiply_block<Arch, PanelLayout::by_row>(a, lda, b, c, ldc, M, nc, kc, alpha, beta, bias, pack, k_index,
                                                  listed);
}

// The B packing space of the calling thread, kept between calls (core/simd.hpp: thread_scratch).
// (Each thread's A packing space is slot 0, taken in multiply_block by the thread that packs.)
template <class Arch>
struct BWorkspace {
    float* bp = thread_scratch(1, Blocking<Arch>::KC * block_columns<Arch>());  // a B block
    float* edge = thread_scratch(2, Blocking<Arch>::KC * kNR<Arch>);            // one B micro-panel
};

// Whether a product is small enough to read A where it is (see the file header). K <= KC keeps
// A's rows short, so the few rows of a panel stay in L1 however far apart lda puts them.
template <class Arch>
bool a_in_place(int64_t M, int64_t K) {
    return M <= Blocking<Arch>::kInPlaceRows && K <= Blocking<Arch>::KC;
}

// Whether B can be read where it is too. NOTE: B must not be transposed: the micro-kernel loads
// rows of op(B). A transposed B is packed, however small (Q·Kᵀ in attention).
template <class Arch>
bool in_place(bool trans_b, int64_t M, int64_t K) {
    return !trans_b && a_in_place<Arch>(M, K);
}

// One product, the whole loop nest of the file header.
// listed (see RowList):
//   depth   (trans_a, not trans_b) only the listed k take part. The depth slices stay
//           [pc, pc + KC) of the full K, each packing only its listed rows, so that C gets the same
//           bits as the full product would with the other rows of A zero (a zero term leaves a
//           sum's bits as they are).
//   output  (not trans_a) only the listed rows of C are computed, each exactly as the full product
//           computes it (RowPanels cuts the runs of listed rows into panels).
template <class Arch>
void gemm_one(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, const float* bias, float* C, int64_t ldc,
              const RowList& listed) {
    const BWorkspace<Arch> ws;  // this thread's: a batch may run products on several threads
    constexpr int64_t KC = Blocking<Arch>::KC;
    const int64_t NC = block_columns<Arch>();
    const bool by_depth = listed.of == RowList::Of::depth;  // the index reads rows through packing: no operand in place
    const bool small = !by_depth && in_place<Arch>(trans_b, M, K), pack_a = by_depth || !a_in_place<Arch>(M, K);
    // (depth) op(A)'s row sums are taken while the first block of columns packs A; the next
    // blocks pack the same A again and must not add it twice
    RowList block_list = listed;
    if (listed.sums) std::fill_n(listed.sums, M, 0.0f);
    for (int64_t jc = 0; jc < N; jc += NC, block_list.sums = nullptr) {
        int64_t nc = std::min(NC, N - jc);
        const int64_t* next = listed.index;  // (depth) the first listed row not yet in a slice
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = std::min(KC, K - pc);
            const int64_t* slice = nullptr;  // (depth) the listed rows of this slice, kc of them
            if (by_depth) {
                slice = next;
                while (next < listed.index + listed.count && *next < pc + kc) ++next;
                kc = next - slice;
            }
            // op(B)[pc, jc] and op(A)[0, pc], wherever the transposes put them (depth: row 0, the
            // index giving the rows)
            const int64_t k0 = by_depth ? 0 : pc;
            const float* b = trans_b ? B + jc * ldb + k0 : B + k0 * ldb + jc;
            const float* a = trans_a ? A + k0 * lda : A + k0;
            // B is packed once by this thread, then read by every thread that multiplies panels
            BPanels panels = small ? b_in_place<Arch>(ws.edge, b, ldb, kc, nc)
                                   : pack_b<Arch>(ws.bp, b, ldb, trans_b, kc, nc, slice);
            // beta applies with the first depth slice (later ones add to C), the bias with the last:
            // C = (Σ slices) + bias, rounded as gemm followed by adding the bias
            const bool first = pc == 0, last = pc + KC >= K;
            multiply_block<Arch>(trans_a, a, lda, panels, C + jc, ldc, M, nc, kc, alpha, first ? beta : 1.0f,
                                 last && bias ? bias + jc : nullptr, pack_a, slice, block_list);
        }
    }
}

// C = beta · C (+ bias), for products with nothing to add (K == 0 or alpha == 0); beta == 0
// does not read C.
void scale_c(float* c, int64_t ldc, int64_t M, int64_t N, float beta, const float* bias) {
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            float r = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
            c[i * ldc + j] = bias ? r + bias[j] : r;
        }
}

}  // namespace

template <class Arch>
void GemmKernel::operator()(Arch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                            const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                            int64_t stride_b, float beta, const float* bias, float* C, int64_t ldc,
                            int64_t stride_c, int64_t batch, RowList listed) const {
    const bool output_rows = listed.of == RowList::Of::output;
    if (M <= 0 || N <= 0 || batch <= 0 || (output_rows && listed.count == 0)) return;
    if (K <= 0 || alpha == 0.0f) {
        if (output_rows)  // the listed rows only, one at a time
            for (int64_t r = 0; r < listed.count; ++r) scale_c(C + listed.index[r] * ldc, ldc, 1, N, beta, bias);
        else
            for (int64_t i = 0; i < batch; ++i) scale_c(C + i * stride_c, ldc, M, N, beta, bias);
        return;
    }
    // A batch that broadcasts one B (stride_b == 0) that fits a single block packs it once for
    // all its products, unless each product is small enough to read B in place anyway.
    const bool shared_b = listed.of == RowList::Of::every &&
        stride_b == 0 && K <= Blocking<Arch>::KC && N <= block_columns<Arch>() && !in_place<Arch>(trans_b, M, K);
    const BPanels panels = shared_b ? pack_b<Arch>(BWorkspace<Arch>().bp, B, ldb, trans_b, K, N) : BPanels{};
    const bool pack_a = !a_in_place<Arch>(M, K);  // (as gemm_one decides)

    // Threads take whole products when there are enough to go around (or each is too small to
    // split); otherwise the products run one after the other and each splits its row panels.
    // Either way each element of C comes out of the same micro-kernel calls: bitwise the same
    // for any thread count.
    // A product's cost in flops, or in writes of C when those take longer: a product with a short
    // K is bound by storing C (the masked pooling's backward is 32 outer products, K = 1).
    const double product_flops = std::max(2.0 * double(M) * double(N) * double(K), kFlopsPerStore * double(M) * double(N));
    const bool split_batch = batch >= 2 * num_threads() || product_flops < 4 * kMinChunkFlops;
    const int64_t grain = split_batch ? int64_t(kMinChunkFlops / product_flops) + 1 : batch;
    parallel_for(0, batch, grain, [&](int64_t b0, int64_t b1) {
        for (int64_t i = b0; i < b1; ++i) {
            if (shared_b)
                multiply_block<Arch>(trans_a, A + i * stride_a, lda, panels, C + i * stride_c, ldc, M, N, K, alpha,
                                     beta, bias, pack_a);
            else
                gemm_one<Arch>(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta,
                               bias, C + i * stride_c, ldc, listed);
        }
    });
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void GemmKernel::operator()(KernelArch, bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                                     int64_t, const float*, int64_t, int64_t, float, const float*, float*, int64_t,
                                     int64_t, int64_t, RowList) const;

}  // namespace ag
