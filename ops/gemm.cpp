// gemm.cpp: the reference sgemm and the entry points ops call (contract in gemm.hpp).
//
// gemm, gemm_bias, gemm_batched, gemm_tn_rows and gemm_rows run the packed SIMD kernel of ops/gemm_kernel.cpp for the active SIMD
// level (core/simd.hpp), or the reference below when the level is scalar.
#include "ops/gemm.hpp"

#include "core/simd.hpp"
#include "ops/gemm_kernel.hpp"

#include <algorithm>

namespace ag {

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < N; ++j) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; ++k) {
                float a = trans_a ? A[k * lda + i] : A[i * lda + k];
                float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            // beta == 0 must not read C: it may be uninitialised
            C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
        }
    }
}

void gemm_bias_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                         int64_t lda, const float* B, int64_t ldb, const float* bias, float* C, int64_t ldc) {
    gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, 0.0f, C, ldc);
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) C[i * ldc + j] += bias[j];
}

namespace {

// sums[i] = Σ_r A[rows[r], i] for i < M, added from 0 in ascending r (gemm_tn_rows' a_sums).
void listed_column_sums(float* sums, const float* A, int64_t lda, int64_t M, const int64_t* rows, int64_t count) {
    std::fill_n(sums, std::max<int64_t>(M, 0), 0.0f);
    for (int64_t r = 0; r < count; ++r)
        for (int64_t i = 0; i < M; ++i) sums[i] += A[rows[r] * lda + i];
}

}  // namespace

void gemm_tn_rows_reference(int64_t M, int64_t N, const int64_t* rows, int64_t count, float alpha, const float* A,
                            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                            float* a_sums) {
    if (a_sums) listed_column_sums(a_sums, A, lda, M, rows, count);
    for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < N; ++j) {
            float acc = 0.0f;
            for (int64_t r = 0; r < count; ++r) acc += A[rows[r] * lda + i] * B[rows[r] * ldb + j];
            C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
        }
    }
}

namespace {

// The scalar level of gemm_batched, gemm_bias, gemm_tn_rows and gemm_rows: the reference, once per
// matrix (or per listed row).
void gemm_batched_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                            int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta,
                            const float* bias, float* C, int64_t ldc, int64_t stride_c, int64_t batch, RowList listed) {
    if (listed.of == RowList::Of::depth) {  // gemm_tn_rows: one product, no bias
        gemm_tn_rows_reference(M, N, listed.index, listed.count, alpha, A, lda, B, ldb, beta, C, ldc, listed.sums);
        return;
    }
    if (listed.of == RowList::Of::output) {  // gemm_rows: each listed row is a 1-row product, then + bias
        for (int64_t r = 0; r < listed.count; ++r) {
            float* c = C + listed.index[r] * ldc;
            gemm_reference(false, trans_b, 1, N, K, alpha, A + listed.index[r] * lda, lda, B, ldb, beta, c, ldc);
            if (bias)
                for (int64_t j = 0; j < N; ++j) c[j] += bias[j];
        }
        return;
    }
    for (int64_t b = 0; b < batch; ++b) {
        float* c = C + b * stride_c;
        if (bias)
            gemm_bias_reference(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, bias,
                                c, ldc);
        else
            gemm_reference(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta, c,
                           ldc);
    }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    gemm_batched(trans_a, trans_b, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, const float* bias, float* C, int64_t ldc) {
    simd_dispatch(GemmKernel{}, gemm_batched_reference, trans_a, trans_b, M, N, K, alpha, A, lda, int64_t{0}, B, ldb,
                  int64_t{0}, 0.0f, bias, C, ldc, int64_t{0}, int64_t{1}, RowList{});
}

void gemm_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                  int64_t ldc, int64_t stride_c, int64_t batch) {
    simd_dispatch(GemmKernel{}, gemm_batched_reference, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb,
                  stride_b, beta, static_cast<const float*>(nullptr), C, ldc, stride_c, batch, RowList{});
}

void gemm_tn_rows(int64_t M, int64_t N, int64_t K, const int64_t* rows, int64_t count, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, float* a_sums) {
    // the kernel takes the sums while it packs A, which a product with nothing to multiply never does
    if (a_sums && (N <= 0 || K <= 0 || alpha == 0.0f)) {
        listed_column_sums(a_sums, A, lda, M, rows, count);
        a_sums = nullptr;
    }
    simd_dispatch(GemmKernel{}, gemm_batched_reference, true, false, M, N, K, alpha, A, lda, int64_t{0}, B, ldb,
                  int64_t{0}, beta, static_cast<const float*>(nullptr), C, ldc, int64_t{0}, int64_t{1},
                  RowList{RowList::Of::depth, rows, count, a_sums});
}

void gemm_rows(bool trans_b, int64_t M, int64_t N, int64_t K, const int64_t* rows, int64_t count, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
               const float* bias) {
    simd_dispatch(GemmKernel{}, gemm_batched_reference, false, trans_b, M, N, K, alpha, A, lda, int64_t{0}, B, ldb,
                  int64_t{0}, beta, bias, C, ldc, int64_t{0}, int64_t{1}, RowList{RowList::Of::output, rows, count});
}

}  // namespace ag
