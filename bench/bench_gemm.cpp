// bench_gemm.cpp: gemm against OpenBLAS cblas_sgemm (on as many threads as us), against the FMA
// roof (one thread), and with --threads N > 1 against attograd itself on one thread.
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
// for its ISA inside this baseline file; fma_chains checks the CPU has it.
__attribute__((target("avx512f,fma"))) double fma_chains_avx512(long iters) {
    __m512 acc[16], x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    }
    volatile float sink = 0;  // keep the chains alive
    for (int i = 0; i < 16; ++i) sink = sink + _mm512_cvtss_f32(acc[i]);
    return 2.0 * 16 * 16 * double(iters);
}

__attribute__((target("avx2,fma"))) double fma_chains_avx2(long iters) {
    __m256 acc[12], x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i));
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    }
    volatile float sink = 0;
    for (int i = 0; i < 12; ++i) sink = sink + _mm256_cvtss_f32(acc[i]);
    return 2.0 * 8 * 12 * double(iters);
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

std::vector<Row> run_gemm(const GemmCase& g, bool roof_row) {
    int64_t lda = g.ta ? g.M : g.K, ldb = g.tb ? g.K : g.N, ldc = g.N;
    int64_t stride_a = g.M * g.K, stride_b = g.broadcast_b ? 0 : g.K * g.N, stride_c = g.M * g.N;
    std::vector<float> a = random_floats(stride_a * g.batch, 1);
    std::vector<float> b = random_floats(g.broadcast_b ? g.K * g.N : stride_b * g.batch, 2);
    std::vector<float> c(static_cast<size_t>(stride_c * g.batch));

    const int n_threads = threads();
    auto run_ours = [&] {
        ag::gemm_batched(g.ta, g.tb, g.M, g.N, g.K, 1.0f, a.data(), lda, stride_a, b.data(), ldb, stride_b, 0.0f,
                         c.data(), ldc, stride_c, g.batch);
    };
    // NOTE: set_num_threads returns at once when the pool already has that size, so only the
    // first call of each sample resizes it (a few threads started, amortised over >= 30 ms)
    auto ours = [&] {
        ag::set_num_threads(n_threads);
        run_ours();
    };
    auto ours_one_thread = [&] {
        ag::set_num_threads(1);
        run_ours();
    };
    auto openblas = [&] {
        for (int64_t i = 0; i < g.batch; ++i)
            cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, int(g.M),
                        int(g.N), int(g.K), 1.0f, a.data() + i * stride_a, int(lda), b.data() + i * stride_b,
                        int(ldb), 0.0f, c.data() + i * stride_c, int(ldc));
    };
    // the roof (one core) is timed in the same alternation: its FLOPs per call over its median time
    constexpr long kRoofIters = 100'000;
    double roof_flop = fma_chains(kRoofIters);
    auto roof = [] { fma_chains(kRoofIters); };
    std::vector<std::function<void()>> functions{ours, openblas};
    roof_row = roof_row && n_threads == 1;
    if (roof_row) functions.push_back(roof);
    if (n_threads > 1) functions.push_back(ours_one_thread);
    std::vector<double> t = time_alternating(functions);
    ag::set_num_threads(n_threads);

    double flop = 2.0 * double(g.M) * double(g.N) * double(g.K) * double(g.batch);
    double ours_gflops = flop / t[0] * 1e-9;
    std::string kernel = g.batch == 1 ? "gemm" : "gemm_batched";
    std::vector<Row> rows{
        make_row(kernel, shape_name(g), n_threads, ours_gflops, flop / t[1] * 1e-9, "openblas", "GFLOP/s", true)};
    if (roof_row)
        rows.push_back(make_row(kernel, shape_name(g), 1, ours_gflops, roof_flop / t[2] * 1e-9, "fma_peak", "GFLOP/s",
                                true));
    if (n_threads > 1) {
        rows.push_back(make_row(kernel, shape_name(g), n_threads, ours_gflops, flop / t[2] * 1e-9, "attograd_1t",
                                "GFLOP/s", true));
        // On a loaded machine the wall clock gives our threads whatever share of the cores is
        // left. The CPU time of the whole process does not depend on that share: N threads doing
        // the one-thread work with no extra would use the same CPU time, and on N idle cores
        // would be N times faster. "ours" here is that estimate, N x (1-thread CPU time) /
        // (N-thread process CPU time): an upper bound, blind to threads waiting for each other.
        const double cpu_n = time_on(ours, process_seconds), cpu_1 = time_on(ours_one_thread, process_seconds);
        ag::set_num_threads(n_threads);
        const double ideal = n_threads * cpu_1 / cpu_n;
        rows.push_back(make_row(kernel, shape_name(g), n_threads, ideal, 1.0, "1t_cpu_est", "speedup", true));
    }
    return rows;
}

}  // namespace

double fma_chains(long iters) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return fma_chains_avx512(iters);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return fma_chains_avx2(iters);
    return 0.0;
}

std::vector<Case> gemm_cases() {
    openblas_set_num_threads(threads());  // the anchor is OpenBLAS on as many threads as us
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
                         [g = g, roof = roof] { return run_gemm(g, roof); }});
    }
    return cases;
}

}  // namespace bench
