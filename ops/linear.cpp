// linear.cpp: y = x Wᵀ + b as one gemm with a transposed operand (formulas in linear.hpp).
//
// Composing matmul(x, transpose(W)) would copy W on every forward and copy dWᵀ back on every
// backward; here each product is a single gemm whose flags say which operand is transposed:
//   forward   y[N, O]  = x[N, I] · W[O, I]ᵀ        gemm(N, T)
//   backward  dx[N, I] = dy[N, O] · W[O, I]        gemm(N, N)
//             dW[O, I] = dy[N, O]ᵀ · x[N, I]       gemm(T, N)
//             db[O]    = Σ_n dy[n, :]              summed by the dW gemm as it packs dy
// linear_rows runs the same products over its listed rows only (gemm_rows, gemm_tn_rows).
#include "ops/linear.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "ops/gemm.hpp"
#include "ops/nonzero.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace ag {

namespace {

// The rows of dy [N, O] that are not all zero, in order, among `candidates` (every row if null).
// Threads scan chunks of rows (each row's first float is usually a cache miss: dy was written by
// the op after this one), and the chunks' lists are joined in chunk order.
std::vector<int64_t> nonzero_rows(const float* dy, int64_t N, int64_t O, const std::vector<int64_t>* candidates) {
    const int64_t count = candidates ? static_cast<int64_t>(candidates->size()) : N, grain = row_grain(O);
    std::vector<std::vector<int64_t>> found(static_cast<size_t>(num_chunks(0, count, grain)));
    parallel_for(0, count, grain, [&](int64_t i0, int64_t i1) {
        std::vector<int64_t>& rows = found[static_cast<size_t>(i0 / grain)];
        for (int64_t i = i0; i < i1; ++i) {
            const int64_t n = candidates ? (*candidates)[static_cast<size_t>(i)] : i;
            const float* row = dy + n * O;
            // a dense row nearly always shows it in its first float: the whole row is read only otherwise
            if ((O > 0 && row[0] != 0.0f) || any_nonzero(row, O)) rows.push_back(n);
        }
    });
    std::vector<int64_t> rows;
    rows.reserve(static_cast<size_t>(count));
    for (const std::vector<int64_t>& chunk : found) rows.insert(rows.end(), chunk.begin(), chunk.end());
    return rows;
}

// Sets the rows of y [N, cols] that are not in `listed` (ascending) to 0.
void zero_unlisted_rows(float* y, int64_t N, int64_t cols, const std::vector<int64_t>& listed) {
    for (int64_t n = 0, r = 0; n < N; ++n) {
        if (r < static_cast<int64_t>(listed.size()) && listed[static_cast<size_t>(r)] == n) ++r;
        else std::fill_n(y + n * cols, cols, 0.0f);
    }
}

// linear (`listed` null) and linear_rows (the rows it lists): the formulas are in linear.hpp.
Tensor linear_op(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                 std::shared_ptr<const std::vector<int64_t>> listed) {
    check(x.defined() && weight.defined(), op, "the input or the weight is an undefined tensor");
    check(weight.ndim() == 2, op, "weight must be 2-D (out_features, in_features), got shape {}", weight.shape());
    check(x.ndim() >= 1 && x.size(-1) == weight.size(1), op,
          "input's last dimension must equal in_features: {} with weight {}", x.shape(), weight.shape());
    const int64_t I = weight.size(1), O = weight.size(0);
    int64_t N = 1;  // rows: the product of x's leading dimensions (not numel / I, which fails at I = 0)
    for (int d = 0; d + 1 < x.ndim(); ++d) N *= x.shape()[d];
    check(!bias.defined() || bias.shape() == Shape{O}, op, "bias must have shape {}, got {}", Shape{O},
          bias.defined() ? bias.shape() : Shape{});
    if (listed)
        for (size_t r = 0; r < listed->size(); ++r) {
            const int64_t n = (*listed)[r];
            // NOTE: the message is only built for a bad row: check() would format its arguments for every row
            if (n < 0 || n >= N || (r > 0 && n <= (*listed)[r - 1]))
                fail(op, "rows must be ascending row numbers in [0, {}) (input {}), got {} at position {}{}", N,
                     x.shape(), n, r, r == 0 ? "" : fmt::format(" after {}", (*listed)[r - 1]));
        }

    Shape out_shape = x.shape();
    out_shape[-1] = O;
    Tensor y = empty(out_shape);
    // y = x Wᵀ + b: gemm_bias adds b as it writes each tile of y, so the bias costs no pass of its
    // own; linear_rows: the same over the listed rows (gemm_rows), the others 0
    const float* b = bias.defined() ? bias.data() : nullptr;
    if (listed) {
        zero_unlisted_rows(y.data(), N, O, *listed);
        gemm_rows(true, N, O, I, listed->data(), static_cast<int64_t>(listed->size()), 1.0f, x.data(), I,
                  weight.data(), I, 0.0f, y.data(), O, b);
    } else if (b) {
        gemm_bias(false, true, N, O, I, 1.0f, x.data(), I, weight.data(), I, b, y.data(), O);
    } else {
        gemm(false, true, N, O, I, 1.0f, x.data(), I, weight.data(), I, 0.0f, y.data(), O);
    }

    const bool has_bias = bias.defined();
    record(y, op, {x, weight, bias}, [x, weight, has_bias, N, O, I, listed](const Tensor&, const Tensor& dy) -> Grads {
        Tensor dx = empty(x.shape()), dweight = empty(weight.shape()), dbias = has_bias ? empty({O}) : Tensor();
        // A zero row of dy (a padding position the loss ignores, as after masked pooling) gives a
        // zero row of dx and adds nothing to dW: both products leave such rows out, and their
        // other rows and dW have the bits the full products give them (gemm.hpp). linear_rows
        // leaves out the rows it does not list as well, whatever dy holds there.
        const std::vector<int64_t> rows = nonzero_rows(dy.data(), N, O, listed.get());
        const auto count = static_cast<int64_t>(rows.size());
        auto input_grad = [&] {
            zero_unlisted_rows(dx.data(), N, I, rows);  // the rows left out are zero
            gemm_rows(false, N, I, O, rows.data(), count, 1.0f, dy.data(), O, weight.data(), I, 0.0f, dx.data(), I);
        };
        // dW = dyᵀ x, and dbias[o] = Σ_n dy[n, o] taken while gemm packs dy (gemm.hpp: a_sums): the
        // bits of the sum op down the columns of dy, without a pass over dy of its own
        auto weight_grad = [&] {
            gemm_tn_rows(O, I, N, rows.data(), count, 1.0f, dy.data(), O, x.data(), I, 0.0f, dweight.data(), I,
                         has_bias ? dbias.data() : nullptr);
        };
        // On 2 threads the two products run side by side, one per thread: each gemm splits its
        // work between threads less well than two independent products do (dW's depth slices
        // are short, and its B is packed by one thread while the other waits). A gemm's bits do
        // not depend on its thread count, so this changes none.
        if (num_threads() == 2)
            parallel_for(0, 2, 1, [&](int64_t task, int64_t) { task == 0 ? input_grad() : weight_grad(); });
        else
            input_grad(), weight_grad();
        return {dx, dweight, dbias};
    });
    return y;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) { return linear_op("linear", x, weight, bias, nullptr); }

Tensor linear_rows(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& rows) {
    return linear_op("linear_rows", x, weight, bias, std::make_shared<const std::vector<int64_t>>(rows));
}

}  // namespace ag
