// matmul.cpp: a @ b with torch.matmul's rules (formulas in matmul.hpp).
//
// Dimension letters: M rows of a, K the inner size they share, N columns of b; "batch" is the
// broadcast of the two operands' leading dimensions.
//   a (..., M, K) @ b (..., K, N) -> out (batch, M, N)
//   a (K,) is read as (1, K) and b (K,) as (K, 1); the added dimension is dropped from the output.
// Promotion costs nothing: (K,) and (1, K) are the same bytes.
//
// Every product is a gemm (ops/gemm.hpp) on the row-major buffers, and the backward's transposes
// are gemm's trans flags, never copies:
//   da = dout @ bᵀ    gemm(no, trans)    (M×N)·(N×K) -> M×K
//   db = aᵀ @ dout    gemm(trans, no)    (K×M)·(M×N) -> K×N
// Undoing the batch broadcast: a gradient computed over the whole batch is summed back to its
// operand's shape by the engine (sum_to), which checks the shape too. One case is common enough to
// do better: b a single matrix, as a linear layer's weight in (B, T, C) @ (C, D). a's matrices then
// lie one after another, so they are the rows of one (batch·M)×K matrix: the forward and da are one
// gemm with batch·M rows, and db = Σ_batch aᵀ·dout is one gemm whose inner size is batch·M, so the
// sum over the batch happens inside the product and no (batch, K, N) partial gradients are stored.
#include "ops/matmul.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "ops/gemm.hpp"

#include <algorithm>

namespace ag {

namespace {

// The leading (batch) dimensions of a shape of at least two dimensions: all but the last two.
Shape batch_of(const Shape& shape) { return Shape(std::span<const int64_t>(shape.begin(), shape.ndim() - 2)); }

// `batch` followed by a rows×cols matrix.
Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
    batch.push_back(rows);
    batch.push_back(cols);
    return batch;
}

// C[i] = op(A[ia]) · op(B[ib]) for every index i of `batch`, where ia and ib are the indices of
// the matching matrices in A's and B's own batches (a_batch and b_batch broadcast to `batch`).
// Sizes are gemm's: op(A) is M×K, op(B) is K×N, and C holds one M×N matrix per batch index.
void matmul_batched(float* C, const float* A, const Shape& a_batch, const float* B, const Shape& b_batch,
                    const Shape& batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
    const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
    const int64_t a_size = M * K, b_size = K * N, c_size = M * N;  // elements per matrix
    const int64_t count = batch.numel(), a_count = a_batch.numel(), b_count = b_batch.numel();

    // one B for the whole batch (then A has every matrix, in order): A's matrices stacked are the
    // rows of one (count·M)×K matrix, and so are C's
    if (b_count == 1 && !trans_a) {
        gemm(false, trans_b, count * M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
        return;
    }
    // each operand has either every matrix of the batch or one for all: a constant stride each
    if ((a_count == count || a_count == 1) && (b_count == count || b_count == 1)) {
        gemm_batched(trans_a, trans_b, M, N, K, 1.0f, A, lda, a_count == 1 ? 0 : a_size, B, ldb,
                     b_count == 1 ? 0 : b_size, 0.0f, C, N, c_size, count);
        return;
    }
    // mixed broadcasting, as batches (2, 1) and (5,): walk the batch, one gemm per matrix
    std::array<int64_t, kMaxDims> a_strides = broadcast_strides(a_batch, batch);  // in matrices
    std::array<int64_t, kMaxDims> b_strides = broadcast_strides(b_batch, batch);
    std::array<int64_t, kMaxDims> index{};
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < count; ++i) {
        gemm(trans_a, trans_b, M, N, K, 1.0f, A + ia * a_size, lda, B + ib * b_size, ldb, 0.0f, C + i * c_size, N);
        // advance the batch index like an odometer; ia and ib move with it
        for (int d = batch.ndim() - 1; d >= 0; --d) {
            ia += a_strides[d];
            ib += b_strides[d];
            if (++index[d] < batch[d]) break;
            ia -= a_strides[d] * batch[d];
            ib -= b_strides[d] * batch[d];
            index[d] = 0;
        }
    }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    check(a.defined() && b.defined(), "matmul", "an operand is an undefined tensor");
    check(a.ndim() >= 1 && b.ndim() >= 1, "matmul", "both operands need at least one dimension: got {} @ {}",
          a.shape(), b.shape());

    // promote vectors to matrices, then check the inner and batch dimensions
    Shape sa = a.ndim() == 1 ? Shape{1, a.shape()[0]} : a.shape();
    Shape sb = b.ndim() == 1 ? Shape{b.shape()[0], 1} : b.shape();
    const int64_t M = sa[-2], K = sa[-1], N = sb[-1];
    check(sb[-2] == K, "matmul", "inner dimensions differ: {} @ {}", a.shape(), b.shape());
    const Shape a_batch = batch_of(sa), b_batch = batch_of(sb);
    check(broadcastable(a_batch, b_batch), "matmul", "batch dimensions cannot be broadcast: {} @ {}", a.shape(),
          b.shape());
    const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");

    // the output is (batch, M, N) without the dimensions that promotion added
    Shape shape = batch;
    if (a.ndim() > 1) shape.push_back(M);
    if (b.ndim() > 1) shape.push_back(N);
    Tensor out = empty(shape);
    matmul_batched(out.data(), a.data(), a_batch, b.data(), b_batch, batch, false, false, M, N, K);

    // an operand that needs no gradient (a constant pooling matrix, say) gets none computed
    const bool grad_a = a.requires_grad(), grad_b = b.requires_grad();
    record(out, "matmul", {a, b},
           [a, b, a_batch, b_batch, batch, M, N, K, grad_a, grad_b](const Tensor&, const Tensor& dout) -> Grads {
        const int64_t count = batch.numel();
        // An operand with every matrix of the batch gets its gradient in its own shape (same bytes);
        // a broadcast one gets the whole batch's, which the engine sums back to its shape.
        // da = dout @ bᵀ: (M×N)·(N×K) per batch index
        Tensor da;
        if (grad_a) {
            da = empty(a_batch.numel() == count ? a.shape() : with_matrix(batch, M, K));
            matmul_batched(da.data(), dout.data(), batch, b.data(), b_batch, batch, false, true, M, K, N);
        }

        // db = aᵀ @ dout: (K×M)·(M×N) per batch index
        Tensor db;
        if (grad_b && b_batch.numel() == 1) {
            // one b for the whole batch: db = Σ_batch aᵀ·dout, one gemm over batch·M inner rows
            db = empty(b.shape());
            gemm(true, false, K, N, count * M, 1.0f, a.data(), K, dout.data(), N, 0.0f, db.data(), N);
        } else if (grad_b) {
            db = empty(b_batch.numel() == count ? b.shape() : with_matrix(batch, K, N));
            matmul_batched(db.data(), a.data(), a_batch, dout.data(), batch, batch, true, false, K, N, M);
        }
        return {da, db};
    });
    return out;
}

}  // namespace ag
