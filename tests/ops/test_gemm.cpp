// test_gemm.cpp: gemm against hand-computed values and against gemm_reference, at every SIMD level
// the machine supports (core/simd.hpp), on sizes that are not multiples of any tile or block.
//
// Tolerance. A float sum of K products is within K·u·Σ_k |a_ik·b_kj| of the exact sum (u = 2⁻²⁴,
// the standard bound for recursive summation), whatever the order of the additions. Two correct
// kernels may each sit at that bound on opposite sides, so each element of C may differ from the
// reference by at most 2·(K+2)·u·(|alpha|·Σ_k |a_ik·b_kj| + |beta·c_ij|) (+2: the alpha and beta
// roundings). A lost, doubled or misplaced product moves an element by about |a·b|, far more.
#include "core/simd.hpp"
#include "core/tensor.hpp"
#include "ops/gemm.hpp"
#include "ops/reduce.hpp"
#include "simd_testing.hpp"
#include "testing.hpp"
#include "thread_testing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace ag;
using ag::testing::error_of;
using ag::testing::ScopedSimdLevel;

namespace {

// One product: gemm at the active level against gemm_reference (tolerance in the file header).
// The leading dimensions exceed the minimum by `pad`; the padding must be left untouched.
void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta, int64_t pad = 0,
                uint32_t seed = 1) {
    INFO("level ", std::string(simd_level_name(simd_level())), ", ", (ta ? "T" : "N"), (tb ? "T" : "N"),
         " M=", M, " N=", N, " K=", K, " alpha=", alpha, " beta=", beta, " pad=", pad);
    int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    std::vector<float> a = ag::testing::uniform_floats((ta ? K : M) * lda, seed);
    std::vector<float> b = ag::testing::uniform_floats((tb ? N : K) * ldb, seed + 1);
    std::vector<float> c0 = ag::testing::uniform_floats(M * ldc, seed + 2);
    // beta == 0 must not read C: fill it with NaN, which would poison any result that read it
    if (beta == 0.0f) c0.assign(c0.size(), std::numeric_limits<float>::quiet_NaN());

    std::vector<float> c = c0, expected = c0;
    gemm(ta, tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
    gemm_reference(ta, tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, expected.data(), ldc);

    // Σ_k |a_ik·b_kj|, for the tolerance: the reference on absolute values
    std::vector<float> abs_a(a), abs_b(b), abs_sum(static_cast<size_t>(M * ldc));
    for (float& x : abs_a) x = std::fabs(x);
    for (float& x : abs_b) x = std::fabs(x);
    gemm_reference(ta, tb, M, N, K, 1.0f, abs_a.data(), lda, abs_b.data(), ldb, 0.0f, abs_sum.data(), ldc);

    const double u = std::ldexp(1.0, -24);
    int64_t bad = 0;
    std::string first_bad;
    for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < ldc; ++j) {
            size_t e = static_cast<size_t>(i * ldc + j);
            if (j >= N) {  // padding between rows: untouched
                if (!(std::isnan(c[e]) && std::isnan(c0[e])) && c[e] != c0[e]) ++bad;
                continue;
            }
            double c_term = beta == 0.0f ? 0.0 : std::fabs(double(beta) * c0[e]);
            double tol = 2.0 * double(K + 2) * u * (std::fabs(alpha) * abs_sum[e] + c_term) + 1e-30;
            if (!(std::fabs(double(c[e]) - expected[e]) <= tol) && bad++ == 0)  // NaN fails too
                first_bad = fmt::format("C[{}, {}] = {} expected {} (tolerance {})", i, j, c[e], expected[e], tol);
        }
    }
    INFO("first mismatch: ", first_bad);
    CHECK(bad == 0);
}

}  // namespace

TEST_CASE("gemm: hand-computed 2x2 in all four transpose combinations") {
    // A = [1 2; 3 4], B = [5 6; 7 8]
    // A·B   = [1·5+2·7  1·6+2·8; 3·5+4·7  3·6+4·8] = [19 22; 43 50]
    // A·Bᵀ  = [1·5+2·6  1·7+2·8; 3·5+4·6  3·7+4·8] = [17 23; 39 53]
    // Aᵀ·B  = [1·5+3·7  1·6+3·8; 2·5+4·7  2·6+4·8] = [26 30; 38 44]
    // Aᵀ·Bᵀ = [1·5+3·6  1·7+3·8; 2·5+4·6  2·7+4·8] = [23 31; 34 46]
    // then C = 2·(that) + 0.5·[1 1; 1 1]
    const float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    const float products[4][4] = {{19, 22, 43, 50}, {17, 23, 39, 53}, {26, 30, 38, 44}, {23, 31, 34, 46}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int t = 0; t < 4; ++t) {
            bool ta = t / 2, tb = t % 2;
            INFO("level ", std::string(simd_level_name(level)), " trans_a ", ta, " trans_b ", tb);
            float c[] = {1, 1, 1, 1};
            gemm(ta, tb, 2, 2, 2, 2.0f, a, 2, b, 2, 0.5f, c, 2);
            for (int e = 0; e < 4; ++e) CHECK(c[e] == 2.0f * products[t][e] + 0.5f);
        }
    }
}

TEST_CASE("gemm: matches the reference on awkward sizes, all transposes, every SIMD level") {
    const int64_t sizes[] = {1, 7, 8, 9, 15, 16, 17, 33};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int t = 0; t < 4; ++t)
            for (int64_t M : sizes)
                for (int64_t N : sizes)
                    for (int64_t K : sizes) check_gemm(t / 2, t % 2, M, N, K, 1.0f, 0.0f);
    }
}

TEST_CASE("gemm: matches the reference on long and block-crossing shapes") {
    // 1000 in each dimension; 33x17x65 and 100x1x100 as odd combinations; K = 530 and 600 cross
    // depth slices (KC = 256), N = 1100 crosses B blocks (NC = 512 or 1024 with this L2), M = 1000
    // crosses A blocks (16 panels) when A is transposed.
    const int64_t shapes[][3] = {{1000, 7, 9},  {9, 1000, 7},   {7, 9, 1000},  {1, 1000, 1},   {1000, 1, 1},
                                 {1, 1, 1000},  {33, 17, 65},   {100, 1, 100}, {1, 100, 100},  {17, 33, 1000},
                                 {33, 1000, 17}, {37, 1100, 530}, {130, 70, 600}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int t = 0; t < 4; ++t)
            for (const auto& s : shapes) check_gemm(t / 2, t % 2, s[0], s[1], s[2], 1.0f, 0.0f);
    }
}

TEST_CASE("gemm: alpha, beta and leading dimensions larger than the minimum") {
    const float alpha_beta[][2] = {{1.0f, 1.0f},  {-0.5f, 2.0f}, {0.3f, 0.0f},
                                   {2.0f, -1.0f}, {0.0f, 0.5f},  {0.0f, 0.0f}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int t = 0; t < 4; ++t)
            for (const auto& ab : alpha_beta) {
                check_gemm(t / 2, t % 2, 33, 17, 65, ab[0], ab[1], 5);
                check_gemm(t / 2, t % 2, 50, 70, 300, ab[0], ab[1], 3);
            }
    }
}

TEST_CASE("gemm_bias: the bias is added to every row exactly once, at every SIMD level") {
    // gemm_bias rounds alpha·(A·B) as gemm with beta = 0 does and then adds the bias: the two
    // must agree to the bit, also when K crosses depth slices (530 > KC: a bias added per slice
    // would show) and for K = 0 (C = bias). The padding past column N stays untouched.
    const int64_t shapes[][3] = {{1, 1, 1},   {7, 9, 5},   {33, 17, 65}, {64, 48, 32},
                                 {15, 16, 0}, {37, 70, 530}, {100, 33, 7}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int t = 0; t < 4; ++t)
            for (const auto& sh : shapes) {
                const bool ta = t / 2, tb = t % 2;
                const int64_t M = sh[0], N = sh[1], K = sh[2], pad = 3;
                INFO("level ", std::string(simd_level_name(level)), " trans ", ta, tb, " M N K ", M, " ", N, " ", K);
                const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                std::vector<float> a = ag::testing::uniform_floats((ta ? K : M) * lda + 1, 3);
                std::vector<float> b = ag::testing::uniform_floats((tb ? N : K) * ldb + 1, 4);
                std::vector<float> bias = ag::testing::uniform_floats(N, 5);
                std::vector<float> c(static_cast<size_t>(M * ldc), std::numeric_limits<float>::quiet_NaN());
                std::vector<float> expected = c;
                gemm_bias(ta, tb, M, N, K, 0.5f, a.data(), lda, b.data(), ldb, bias.data(), c.data(), ldc);
                gemm(ta, tb, M, N, K, 0.5f, a.data(), lda, b.data(), ldb, 0.0f, expected.data(), ldc);
                int64_t bad = 0;
                for (int64_t i = 0; i < M; ++i)
                    for (int64_t j = 0; j < ldc; ++j) {
                        const size_t e = static_cast<size_t>(i * ldc + j);
                        if (j < N) expected[e] += bias[static_cast<size_t>(j)];
                        const bool same = j < N ? c[e] == expected[e] : std::isnan(c[e]);
                        bad += same ? 0 : 1;
                    }
                CHECK(bad == 0);
            }
    }
}

TEST_CASE("gemm_tn_rows: the listed rows give the bits of the full product with the others zeroed") {
    // gemm_tn_rows leaves the unlisted rows out of its depth slices; it must agree to the bit with
    // gemm(T, N) over A whose unlisted rows are zero: at every SIMD level, with beta 0 (C not
    // read: NaN) and 2, on 1 and 2 threads. K = 600 crosses two slice boundaries and its middle
    // slice [256, 512) lists no row at all; 48x32x64 is small enough that gemm reads A in place.
    const int64_t shapes[][3] = {{1, 1, 1}, {7, 9, 5}, {33, 17, 65}, {48, 32, 64}, {130, 70, 600}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (const auto& sh : shapes)
            for (float beta : {0.0f, 2.0f}) {
                const int64_t M = sh[0], N = sh[1], K = sh[2], pad = 3, lda = M + pad, ldb = N + pad, ldc = N + pad;
                INFO("level ", std::string(simd_level_name(level)), " M N K ", M, " ", N, " ", K, " beta ", beta);
                std::vector<int64_t> rows;  // the padding pattern of the example: 3 of every 4 rows
                for (int64_t k = 0; k < K; ++k)
                    if (k % 4 != 3 && (K < 512 || k < 256 || k >= 512)) rows.push_back(k);
                std::vector<float> a = ag::testing::uniform_floats(K * lda, 6), zeroed = a;
                for (int64_t k = 0, r = 0; k < K; ++k) {
                    if (r < static_cast<int64_t>(rows.size()) && rows[static_cast<size_t>(r)] == k) ++r;
                    else std::fill_n(zeroed.begin() + k * lda, lda, 0.0f);
                }
                const std::vector<float> b = ag::testing::uniform_floats(K * ldb, 7);
                std::vector<float> c0 = ag::testing::uniform_floats(M * ldc, 8);
                if (beta == 0.0f) c0.assign(c0.size(), std::numeric_limits<float>::quiet_NaN());
                std::vector<float> expected = c0;
                gemm(true, false, M, N, K, 0.5f, zeroed.data(), lda, b.data(), ldb, beta, expected.data(), ldc);
                ag::testing::check_same_bits_on_threads([&] {
                    std::vector<float> c = c0;
                    gemm_tn_rows(M, N, K, rows.data(), static_cast<int64_t>(rows.size()), 0.5f, a.data(), lda,
                                 b.data(), ldb, beta, c.data(), ldc);
                    int64_t bad = 0;
                    for (int64_t i = 0; i < M; ++i)
                        for (int64_t j = 0; j < ldc; ++j) {
                            const size_t e = static_cast<size_t>(i * ldc + j);
                            const bool untouched = c[e] == c0[e] || (std::isnan(c[e]) && std::isnan(c0[e]));  // padding
                            bad += (j < N ? c[e] == expected[e] : untouched) ? 0 : 1;
                        }
                    CHECK(bad == 0);
                    return c;
                });
            }
    }
}

TEST_CASE("gemm_tn_rows: a_sums are the sum op's column sums of A with the unlisted rows zeroed, to the bit") {
    // The sums are taken while A is packed: each listed row once (N = 1100 needs two or more blocks
    // of columns, which pack A again), in ascending order across the depth slices (K = 600). They
    // must equal sum(A, {0}) over A with the unlisted rows zero, bit for bit: linear's bias
    // gradient was that sum op. Also with no listed row, and on the paths that do not pack A
    // (alpha = 0, N = 0). At every SIMD level, on 1 and 2 threads.
    const int64_t shapes[][3] = {{1, 1, 1}, {7, 9, 5}, {33, 17, 65}, {20, 1100, 600}, {29, 0, 40}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (const auto& sh : shapes)
            for (float alpha : {0.5f, 0.0f})
                for (bool none : {false, true}) {
                    const int64_t M = sh[0], N = sh[1], K = sh[2], lda = M + 3, ldb = N + 2;
                    INFO("level ", std::string(simd_level_name(level)), " M N K ", M, " ", N, " ", K, " alpha ",
                         alpha, " none listed ", none);
                    std::vector<int64_t> rows;
                    for (int64_t k = 0; k < K && !none; ++k)
                        if (k % 4 != 3 && (K < 512 || k < 256 || k >= 512)) rows.push_back(k);
                    std::vector<float> a = ag::testing::uniform_floats(K * lda, 16), zeroed(a.size(), 0.0f);
                    for (int64_t k : rows) std::copy_n(a.begin() + k * lda, lda, zeroed.begin() + k * lda);
                    const Tensor expected = sum(tensor(zeroed, {K, lda}), {0});
                    const std::vector<float> b = ag::testing::uniform_floats(std::max<int64_t>(K * ldb, 1), 17);
                    ag::testing::check_same_bits_on_threads([&] {
                        std::vector<float> c(static_cast<size_t>(std::max<int64_t>(M * ldb, 1)));
                        std::vector<float> sums(static_cast<size_t>(M), std::numeric_limits<float>::quiet_NaN());
                        gemm_tn_rows(M, N, K, rows.data(), static_cast<int64_t>(rows.size()), alpha, a.data(), lda,
                                     b.data(), ldb, 0.0f, c.data(), ldb, sums.data());
                        int64_t bad = 0;
                        for (int64_t m = 0; m < M; ++m) bad += sums[static_cast<size_t>(m)] == expected.data()[m] ? 0 : 1;
                        CHECK(bad == 0);
                        return sums;
                    });
                }
    }
}

TEST_CASE("gemm_rows: each listed row has gemm's bits (+ bias as added after it), and the other rows are not touched") {
    // Runs of listed rows become panels of their own (RowPanels); a run may be one row, or all of
    // them. M = 40 reads A in place, M = 150 packs it; K = 270 crosses a depth slice; K = 0 scales
    // the listed rows by beta. At every SIMD level, both op(B), beta 0 (C not read) and 2, 1-3
    // threads; half of the cases (each pattern and beta, with and without) add a bias (gemm_bias'
    // rounding: the product's, then + bias).
    const int64_t shapes[][3] = {{40, 33, 20}, {150, 40, 270}, {150, 17, 0}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (const auto& sh : shapes)
            for (bool tb : {false, true})
                for (int pattern = 0; pattern < 3; ++pattern)
                    for (float beta : {0.0f, 2.0f}) {
                        const bool with_bias = (pattern + (beta != 0.0f ? 1 : 0) + (tb ? 1 : 0)) % 2 == 1;
                        const int64_t M = sh[0], N = sh[1], K = sh[2], pad = 2;
                        const int64_t lda = K + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                        INFO("level ", std::string(simd_level_name(level)), " M N K ", M, " ", N, " ", K, " tb ", tb,
                             " pattern ", pattern, " beta ", beta, " bias ", with_bias);
                        std::vector<int64_t> rows;  // 0: the example's 48 of every 64; 1: every third; 2: all
                        for (int64_t i = 0; i < M; ++i)
                            if (pattern == 0 ? i % 64 < 48 : pattern == 1 ? i % 3 == 1 : true) rows.push_back(i);
                        const std::vector<float> a = ag::testing::uniform_floats(M * lda + 1, 9);
                        const std::vector<float> b = ag::testing::uniform_floats((tb ? N : K) * ldb + 1, 10);
                        std::vector<float> c0 = ag::testing::uniform_floats(M * ldc, 11);
                        std::vector<float> expected = c0;
                        if (beta == 0.0f)  // C is not read: NaN in the listed rows would show
                            for (int64_t i : rows) std::fill_n(c0.begin() + i * ldc, N, std::numeric_limits<float>::quiet_NaN());
                        gemm(false, tb, M, N, K, 0.5f, a.data(), lda, b.data(), ldb, beta, expected.data(), ldc);
                        const std::vector<float> bias = ag::testing::uniform_floats(N, 12);
                        if (with_bias)
                            for (int64_t i = 0; i < M; ++i)
                                for (int64_t j = 0; j < N; ++j) expected[static_cast<size_t>(i * ldc + j)] += bias[static_cast<size_t>(j)];
                        std::vector<bool> is_listed(static_cast<size_t>(M), false);
                        for (int64_t i : rows) is_listed[static_cast<size_t>(i)] = true;
                        ag::testing::check_same_bits_on_threads([&] {
                            std::vector<float> c = c0;
                            gemm_rows(tb, M, N, K, rows.data(), static_cast<int64_t>(rows.size()), 0.5f, a.data(), lda,
                                      b.data(), ldb, beta, c.data(), ldc, with_bias ? bias.data() : nullptr);
                            int64_t bad = 0;
                            for (int64_t i = 0; i < M; ++i)
                                for (int64_t j = 0; j < ldc; ++j) {
                                    const size_t e = static_cast<size_t>(i * ldc + j);
                                    const bool computed = is_listed[static_cast<size_t>(i)] && j < N;
                                    bad += (computed ? c[e] == expected[e] : c[e] == c0[e]) ? 0 : 1;
                                }
                            CHECK(bad == 0);
                            return c;
                        });
                    }
    }
}

TEST_CASE("gemm: K = 0 scales C by beta, and M = 0 or N = 0 does nothing") {
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        INFO("level ", std::string(simd_level_name(level)));
        float c[] = {1, 2, 3, 4};
        gemm(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 3.0f, c, 2);
        CHECK(c[0] == 3.0f);
        CHECK(c[3] == 12.0f);
        float nan = std::numeric_limits<float>::quiet_NaN();
        float d[] = {nan, nan};
        gemm(false, false, 1, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.0f, d, 2);
        CHECK(d[0] == 0.0f);
        CHECK(d[1] == 0.0f);
        gemm(false, false, 0, 2, 3, 1.0f, nullptr, 3, nullptr, 2, 0.0f, d, 2);
        gemm(false, false, 2, 0, 3, 1.0f, nullptr, 3, nullptr, 2, 0.0f, d, 2);
        CHECK(d[0] == 0.0f);
    }
}

TEST_CASE("gemm_batched: matches a loop of reference gemms, with broadcast (stride 0) operands") {
    struct Case {
        int64_t M, N, K, batch;
        bool broadcast_a, broadcast_b;
    };
    // 64x64x32 and 64x32x64: the attention shapes; 100x70x50 with a broadcast B: B packed once for
    // the whole batch; K = 300 or 600: broadcast B larger than one depth slice
    const Case cases[] = {{64, 64, 32, 5, false, true},   {64, 32, 64, 4, false, false}, {17, 33, 9, 3, true, false},
                          {100, 70, 50, 3, false, true},  {9, 600, 300, 2, false, true}, {7, 9, 600, 3, false, true},
                          {1, 1, 1, 4, true, true}};
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (const Case& cs : cases)
            for (int t = 0; t < 4; ++t) {
                bool ta = t / 2, tb = t % 2;
                INFO("level ", std::string(simd_level_name(level)), " ", (ta ? "T" : "N"), (tb ? "T" : "N"),
                     " M=", cs.M, " N=", cs.N, " K=", cs.K, " batch=", cs.batch);
                int64_t lda = ta ? cs.M : cs.K, ldb = tb ? cs.K : cs.N, ldc = cs.N;
                int64_t stride_a = cs.broadcast_a ? 0 : cs.M * cs.K, stride_b = cs.broadcast_b ? 0 : cs.K * cs.N;
                int64_t stride_c = cs.M * cs.N;
                std::vector<float> a = ag::testing::uniform_floats(cs.broadcast_a ? cs.M * cs.K : stride_a * cs.batch, 7);
                std::vector<float> b = ag::testing::uniform_floats(cs.broadcast_b ? cs.K * cs.N : stride_b * cs.batch, 8);
                std::vector<float> c = ag::testing::uniform_floats(stride_c * cs.batch, 9), expected = c;
                gemm_batched(ta, tb, cs.M, cs.N, cs.K, 0.5f, a.data(), lda, stride_a, b.data(), ldb, stride_b, 2.0f,
                             c.data(), ldc, stride_c, cs.batch);
                for (int64_t i = 0; i < cs.batch; ++i)
                    gemm_reference(ta, tb, cs.M, cs.N, cs.K, 0.5f, a.data() + i * stride_a, lda,
                                   b.data() + i * stride_b, ldb, 2.0f, expected.data() + i * stride_c, ldc);
                // the file header's bound with |a|, |b| <= 1 and |beta·c| <= 2: Σ|a·b| <= K
                double tol = 2.0 * double(cs.K + 2) * std::ldexp(1.0, -24) * (0.5 * double(cs.K) + 2.0);
                int64_t bad = 0;
                for (size_t e = 0; e < c.size(); ++e) bad += !(std::fabs(double(c[e]) - expected[e]) <= tol);
                CHECK(bad == 0);
            }
    }
}

TEST_CASE("gemm: each SIMD level runs its own kernel") {
    // With K <= KC, alpha 1 and beta 0, every kernel sums the K products of an element in order,
    // like the reference. Without FMA (sse2) each product is rounded before the add, as in the
    // reference: the results are identical. With FMA (avx2, avx512) the product is not rounded,
    // so some of the 4096 elements differ. A dispatch that ignored the level would fail one side.
    const int64_t n = 64;
    std::vector<float> a = ag::testing::uniform_floats(n * n, 11), b = ag::testing::uniform_floats(n * n, 12), expected(n * n);
    gemm_reference(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, expected.data(), n);
    for (SimdLevel level : ag::testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        INFO("level ", std::string(simd_level_name(level)));
        std::vector<float> c(n * n);
        gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
        bool identical = c == expected;
        CHECK(identical == (level <= SimdLevel::sse2));
    }
}

TEST_CASE("simd_level: names, parsing, and switching level at run time") {
    for (SimdLevel level : ag::testing::simd_levels()) CHECK(parse_simd_level(simd_level_name(level)) == level);
    CHECK(std::string(simd_level_name(SimdLevel::avx512)) == "avx512");
    std::string message = error_of([] { parse_simd_level("avx1024"); });
    CHECK(message.find("[simd]") == 0);
    CHECK(message.find("avx1024") != std::string::npos);

    SimdLevel before = simd_level();
    CHECK(set_simd_level(SimdLevel::scalar) == before);
    CHECK(simd_level() == SimdLevel::scalar);
    CHECK(set_simd_level(before) == SimdLevel::scalar);
    CHECK(simd_level() == before);
    CHECK(simd_level_supported() >= SimdLevel::sse2);  // every x86-64 CPU has SSE2

    // a level the build left out (meson option simd_levels; CI's sanitizer build has no avx2)
    // is refused with a clear error, and is not among the levels the tests run
    CHECK(simd_level_compiled(simd_level()));
    for (int l = static_cast<int>(simd_level_supported()); l > 0; --l) {
        const auto level = static_cast<SimdLevel>(l);
        if (simd_level_compiled(level)) continue;
        const SimdLevel active = simd_level();
        CHECK(error_of([&] { set_simd_level(level); }).find("did not compile its kernels") != std::string::npos);
        set_simd_level(active);  // (had the refusal failed, the next tests would run at `level`)
        for (SimdLevel run : ag::testing::simd_levels()) CHECK(run != level);
    }
}

TEST_CASE("gemm, gemm_batched: the same bits on 1, 2 and 3 threads") {
    // Each shape is big enough to split (see kMinChunkFlops in ops/gemm_kernel.cpp):
    //   301x257x300     22 row panels per block, two depth slices, a partial last column panel
    //   37x(45x33x29)   threads take whole products (many small ones)
    //   3x(200x150x300) threads split each product's panels (few big ones)
    //   9x(70x50x40)    one B shared by the batch, packed once (stride_b = 0)
    struct Case {
        int64_t M, N, K, batch;
        bool broadcast_b;
    };
    const Case cases[] = {{301, 257, 300, 1, false}, {45, 33, 29, 37, false}, {200, 150, 300, 3, false},
                          {70, 50, 40, 9, true}};
    for (const Case& cs : cases)
        for (int t = 0; t < 4; ++t) {
            const bool ta = t / 2, tb = t % 2;
            INFO((ta ? "T" : "N"), (tb ? "T" : "N"), " M=", cs.M, " N=", cs.N, " K=", cs.K, " batch=", cs.batch);
            const int64_t lda = ta ? cs.M : cs.K, ldb = tb ? cs.K : cs.N, ldc = cs.N;
            const int64_t stride_a = cs.M * cs.K, stride_b = cs.broadcast_b ? 0 : cs.K * cs.N, stride_c = cs.M * cs.N;
            const std::vector<float> a = ag::testing::uniform_floats(stride_a * cs.batch, 3);
            const std::vector<float> b = ag::testing::uniform_floats(cs.broadcast_b ? cs.K * cs.N : stride_b * cs.batch, 4);
            const std::vector<float> c0 = ag::testing::uniform_floats(stride_c * cs.batch, 5);
            ag::testing::check_same_bits_on_threads([&] {
                std::vector<float> c = c0;
                gemm_batched(ta, tb, cs.M, cs.N, cs.K, 0.5f, a.data(), lda, stride_a, b.data(), ldb, stride_b, 2.0f,
                             c.data(), ldc, stride_c, cs.batch);
                return c;
            });
        }
}
