// gemm.hpp: single-precision general matrix multiply on raw row-major buffers (BLAS sgemm).
//
//   C = alpha · op(A) · op(B) + beta · C        op(X) = X or Xᵀ
//   op(A) is M×K: A is stored M×K (lda >= K), or K×M when trans_a (lda >= M)
//   op(B) is K×N: B is stored K×N (ldb >= N), or N×K when trans_b (ldb >= K)
//   C is M×N (ldc >= N)
// The argument order is cblas_sgemm's (row-major), so code moves between the two unchanged.
// When beta == 0, C is written without being read (it may hold garbage or NaN).
//
// gemm_bias adds a row vector to every row as the tiles are written (linear's bias):
//   C = alpha · op(A) · op(B) + bias        bias: N floats; C is not read
// which saves filling C with the bias first and reading it back (two passes over C).
#pragma once

#include <cstdint>

namespace ag {

/// The reference: a plain triple loop, what every faster gemm is tested against.
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

/// The gemm ops use: the fastest kernel for this CPU (see simd_level()).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

/// The reference of gemm_bias: gemm_reference with beta = 0, then + bias[j] on every row.
void gemm_bias_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                         int64_t lda, const float* B, int64_t ldb, const float* bias, float* C, int64_t ldc);
/// C = alpha · op(A) · op(B) + bias (a row vector of N floats, added to every row of C).
void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, const float* bias, float* C, int64_t ldc);
/// The reference of gemm_tn_rows: the sum over the listed rows only, in their order.
void gemm_tn_rows_reference(int64_t M, int64_t N, const int64_t* rows, int64_t count, float alpha, const float* A,
                            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                            float* a_sums = nullptr);
/// C = alpha · Aᵀ B + beta · C over the rows of A [K, M] and B [K, N] listed in rows[0 .. count)
/// (ascending, each in [0, K)), as if the other rows of A were zero: it has the same bits as
/// gemm(true, false, ...) on A with those rows zeroed. (Linear's dW = dyᵀ x, where the rows of dy
/// at padding positions are zero.)
/// a_sums: null, or M floats that get the column sums of A over the listed rows,
///   a_sums[m] = Σ_r A[rows[r], m], added from 0 in ascending r: the bits of sum(A, {0}) with the
///   other rows zero (adding a zero to a sum that starts at +0 changes no bit). They are taken while
///   A is packed, so they cost no pass over A of their own (linear's bias gradient Σ_n dy[n, :],
///   as llm.c's matmul_backward sums it in its dW loop).
void gemm_tn_rows(int64_t M, int64_t N, int64_t K, const int64_t* rows, int64_t count, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                  float* a_sums = nullptr);
/// C[i, :] = alpha · A[i, :] · op(B) + beta · C[i, :] for the rows i listed in rows[0 .. count)
/// (ascending, each in [0, M)); the other rows of C are not touched. Each listed row has the bits
/// gemm(false, trans_b, ...) gives it. (Linear's dx = dy W, where the rows of dy at padding
/// positions are zero and so are those of dx; linear_rows' y = x Wᵀ + b over its listed rows.)
/// bias: null, or N floats added to every listed row as gemm_bias adds them (its bits with beta 0).
void gemm_rows(bool trans_b, int64_t M, int64_t N, int64_t K, const int64_t* rows, int64_t count, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
               const float* bias = nullptr);
/// `batch` independent gemms; matrix b of each operand starts at b * stride_{a,b,c} elements.
/// A stride of 0 reuses one matrix for every batch (broadcasting).
void gemm_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                  int64_t ldc, int64_t stride_c, int64_t batch);

}  // namespace ag
