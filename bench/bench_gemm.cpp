// bench_gemm.cpp: gemm against OpenBLAS cblas_sgemm (one thread) and against the FMA roof.
//
// Shapes (M×N×K): square 64..2048; the linear-layer shapes of the benchmark config (2048 tokens,
// d_model 128, QKV 384) in their forward (NN) and backward forms: for C = A·B,
// dA = dC·Bᵀ is (M×K×N, NT) and dB = Aᵀ·dC is (K×N×M, TN); and the attention batches,
// 128 heads × batch of 64×64×32 (Q·Kᵀ, NT) and 64×32×64 (P·V, NN; dV = Pᵀ·dO, TN).
#include "harness.hpp"

#include "attograd.hpp"
#include "core/simd.hpp"

#include <cblas.h>
#include <fmt/format.h>
#include <immintrin.h>

#include <random>
#include <vector>

namespace bench {

namespace {

// The FMA roof: 16 (AVX-512) or 12 (AVX2) independent accumulator chains, more than FMA latency ×
// FMA units, so the FMA units never wait on a result. The target attribute compiles each loop
// for its ISA inside this baseline file; the caller checks the CPU has it.
constexpr long kPeakIters = 20'000'000;

__attribute__((target("avx512f,fma"))) double fma_peak_avx512() {
    __m512 acc[16], x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
    double t0 = thread_seconds();
    for (long it = 0; it < kPeakIters; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    }
    double seconds = thread_seconds() - t0;
    volatile float sink = 0;  // keep the chains alive
    for (int i = 0; i < 16; ++i) sink = sink + _mm512_cvtss_f32(acc[i]);
    return 2.0 * 16 * 16 * double(kPeakIters) / seconds * 1e-9;
}

__attribute__((target("avx2,fma"))) double fma_peak_avx2() {
    __m256 acc[12], x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i));
    double t0 = thread_seconds();
    for (long it = 0; it < kPeakIters; ++it) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    }
    double seconds = thread_seconds() - t0;
    volatile float sink = 0;
    for (int i = 0; i < 12; ++i) sink = sink + _mm256_cvtss_f32(acc[i]);
    return 2.0 * 8 * 12 * double(kPeakIters) / seconds * 1e-9;
}

std::vector<float> random_floats(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

// One (batched) product, both sides on the same buffers; C = A·B, beta 0, as a layer's forward.
struct GemmCase {
    int64_t M, N, K;
    bool ta, tb;
    int64_t batch = 1;         // > 1: gemm_batched against a loop of cblas_sgemm
    bool broadcast_b = false;  // stride_b == 0
};

std::string shape_name(const GemmCase& g) {
    std::string t = std::string(g.ta ? "T" : "N") + (g.tb ? "T" : "N");
    if (g.batch == 1) return fmt::format("{}x{}x{} {}", g.M, g.N, g.K, t);
    return fmt::format("{}x({}x{}x{}) {}", g.batch, g.M, g.N, g.K, t);
}

std::vector<Row> run_gemm(const GemmCase& g, bool roof_row, double fma_peak) {
    int64_t lda = g.ta ? g.M : g.K, ldb = g.tb ? g.K : g.N, ldc = g.N;
    int64_t stride_a = g.M * g.K, stride_b = g.broadcast_b ? 0 : g.K * g.N, stride_c = g.M * g.N;
    std::vector<float> a = random_floats(stride_a * g.batch, 1);
    std::vector<float> b = random_floats(g.broadcast_b ? g.K * g.N : stride_b * g.batch, 2);
    std::vector<float> c(static_cast<size_t>(stride_c * g.batch));

    auto ours = [&] {
        ag::gemm_batched(g.ta, g.tb, g.M, g.N, g.K, 1.0f, a.data(), lda, stride_a, b.data(), ldb, stride_b, 0.0f,
                         c.data(), ldc, stride_c, g.batch);
    };
    auto anchor = [&] {
        for (int64_t i = 0; i < g.batch; ++i)
            cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, int(g.M),
                        int(g.N), int(g.K), 1.0f, a.data() + i * stride_a, int(lda), b.data() + i * stride_b,
                        int(ldb), 0.0f, c.data() + i * stride_c, int(ldc));
    };
    Timing t = time_both(ours, anchor);
    double flop = 2.0 * double(g.M) * double(g.N) * double(g.K) * double(g.batch);
    double ours_gflops = flop / t.ours * 1e-9, anchor_gflops = flop / t.anchor * 1e-9;
    std::string kernel = g.batch == 1 ? "gemm" : "gemm_batched";
    std::vector<Row> rows{make_row(kernel, shape_name(g), 1, ours_gflops, anchor_gflops, "openblas", "GFLOP/s", true)};
    if (roof_row) rows.push_back(make_row(kernel, shape_name(g), 1, ours_gflops, fma_peak, "fma_peak", "GFLOP/s", true));
    return rows;
}

}  // namespace

double measure_fma_peak() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return std::max(fma_peak_avx512(), fma_peak_avx512());
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return std::max(fma_peak_avx2(), fma_peak_avx2());
    return 0.0;
}

std::vector<Case> gemm_cases(double fma_peak) {
    openblas_set_num_threads(1);  // the anchor is OpenBLAS on one thread, like us
    std::vector<std::pair<GemmCase, bool>> list;  // (case, also compare with the FMA roof)
    for (int64_t n : {64, 128, 256, 512, 1024, 2048}) list.push_back({{n, n, n, false, false}, true});
    for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{2048, 384, 128}, {2048, 128, 128}, {2048, 128, 384}}) {
        list.push_back({{M, N, K, false, false}, false});  // C = A·B
        list.push_back({{M, K, N, false, true}, false});   // dA = dC·Bᵀ
        list.push_back({{K, N, M, true, false}, false});   // dB = Aᵀ·dC
    }
    list.push_back({{64, 64, 32, false, true, 128}, false});        // scores = Q·Kᵀ
    list.push_back({{64, 32, 64, false, false, 128}, false});       // out = P·V
    list.push_back({{64, 32, 64, true, false, 128}, false});        // dV = Pᵀ·dO
    list.push_back({{64, 64, 32, false, false, 128, true}, false});  // one B for the whole batch

    std::vector<Case> cases;
    for (auto [g, roof] : list) {
        std::string kernel = g.batch == 1 ? "gemm" : "gemm_batched";
        cases.push_back({kernel + " " + shape_name(g) + (g.broadcast_b ? " stride_b=0" : ""),
                         [g = g, roof = roof, fma_peak] { return run_gemm(g, roof, fma_peak); }});
    }
    return cases;
}

}  // namespace bench
