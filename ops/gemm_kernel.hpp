// gemm_kernel.hpp: the SIMD sgemm, one copy per instruction set (ops/gemm_kernel.cpp).
//
// gemm() and gemm_batched() (ops/gemm.cpp) call it through simd_dispatch; the contract is
// gemm_batched's in gemm.hpp: for b in [0, batch),
//   C_b = alpha · op(A_b) · op(B_b) + beta · C_b (+ bias on every row)     with X_b = X + b · stride_x
// bias: null, or N floats (the same for every b): gemm_bias's row vector.
// listed: every row, or (batch 1) only the listed k (gemm_tn_rows, no bias) or rows of C (gemm_rows).
#pragma once

#include <cstdint>

namespace ag {

/// Which rows of a product take part, the others being left out (gemm.hpp: gemm_tn_rows,
/// gemm_rows). `index` lists `count` of them, ascending.
struct RowList {
    /// What the listed rows are rows of.
    enum class Of {
        every,  ///< no list: all rows (index is null)
        depth,  ///< the k of a TN product: rows of A [K, M] and B [K, N]       (gemm_tn_rows)
        output  ///< the rows of A (not transposed) and of C; the others of C are untouched (gemm_rows)
    };
    /// What `index` lists.
    Of of = Of::every;
    /// The listed rows, ascending (null for Of::every).
    const int64_t* index = nullptr;
    /// How many rows `index` lists.
    int64_t count = 0;
    /// (depth) null, or M floats that get Σ_k op(A)[m, k] over the listed k, added in ascending k
    /// while A is packed (gemm_tn_rows' a_sums: linear's bias gradient). Only for a product
    /// that has something to multiply (N, K > 0, alpha != 0): gemm_tn_rows sums the others itself.
    float* sums = nullptr;
};

/// The packed, register-tiled sgemm for one xsimd arch (instantiated per arch in gemm_kernel.cpp).
struct GemmKernel {
    template <class Arch>
    void operator()(Arch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta,
                    const float* bias, float* C, int64_t ldc, int64_t stride_c, int64_t batch, RowList listed) const;
};

}  // namespace ag
