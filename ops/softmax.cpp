// softmax.cpp: softmax and log_softmax over the last axis.
//
// Shapes: x, out, dout, dx: [..., C], read as R rows of C contiguous columns.
// Dimension letters: R rows (the product of every dimension but the last), C columns (last axis).
//
//   m = max_j x_j,   s = Σ_j e^(x_j - m)
//   softmax:      y_i = e^(x_i - m) / s               dx_i = y_i (dy_i - Σ_j dy_j y_j)
//   log_softmax:  y_i = x_i - m - log s               dx_i = dy_i - e^(y_i) Σ_j dy_j
// Subtracting m changes nothing mathematically (it cancels in the ratio) but keeps every exponent
// <= 0, so e^(...) cannot overflow, and the largest term is e^0 = 1, so s >= 1.
//
// Non-finite inputs, row by row:
//   -inf entries   masked out: softmax 0, log_softmax -inf. The gradient of a softmax entry is
//                  y_i (...) = 0; log_softmax keeps PyTorch's dx_i = dy_i - 0 (the limit x_i → -inf).
//   all -inf       nothing to normalise. softmax: zeros; log_softmax: -inf everywhere; gradient:
//                  zero for both. PyTorch gives NaN (m = -inf and -inf - (-inf) = NaN); we shift by
//                  0 instead of m, so every term is e^-inf = 0 and s = 0, and treat s = 0 specially.
//   NaN or +inf    NaN spreads to the whole row (as PyTorch): NaN makes s NaN, and +inf makes
//                  m = +inf and +inf - m = NaN.
#include "ops/softmax.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/softmax_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace ag {

namespace {

// R: the number of rows of length C = the product of every dimension but the last.
int64_t leading_rows(const Shape& shape) {
    int64_t rows = 1;
    for (int d = 0; d + 1 < shape.ndim(); ++d) rows *= shape[d];
    return rows;
}

// The shift that makes the exponents <= 0: the row max, or 0 for a fully masked row (max -inf),
// where subtracting the max would compute -inf - (-inf) = NaN.
float row_shift(float max) { return max == -INFINITY ? 0.0f : max; }

}  // namespace

// --- reference kernels ------------------------------------------------------------------------

void softmax_forward_reference(float* out, const float* x, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;  // [C]
        float* yr = out + r * cols;      // [C]
        // max (NOTE: std::max skips NaN here; a NaN still reaches the sum below and spreads)
        float max = -INFINITY;
        for (int64_t c = 0; c < cols; ++c) max = std::max(max, xr[c]);
        // exp and sum
        const float shift = row_shift(max);
        float sum = 0.0f;
        for (int64_t c = 0; c < cols; ++c) {
            yr[c] = std::exp(xr[c] - shift);
            sum += yr[c];
        }
        // scale: sum >= 1 unless the row is fully masked (sum = 0), whose zeros stay zeros
        const float inv_sum = sum == 0.0f ? 0.0f : 1.0f / sum;
        for (int64_t c = 0; c < cols; ++c) yr[c] *= inv_sum;
    }
}

void softmax_backward_reference(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* yr = out + r * cols;    // [C]
        const float* dyr = dout + r * cols;  // [C]
        float* dxr = dx + r * cols;          // [C]
        // Σ_j dy_j y_j
        float dot = 0.0f;
        for (int64_t c = 0; c < cols; ++c) dot += dyr[c] * yr[c];
        // dx_i = y_i (dy_i - dot): zero wherever y_i = 0, so masked entries and masked rows get 0
        for (int64_t c = 0; c < cols; ++c) dxr[c] = yr[c] * (dyr[c] - dot);
    }
}

void log_softmax_forward_reference(float* out, const float* x, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;  // [C]
        float* yr = out + r * cols;      // [C]
        // max
        float max = -INFINITY;
        for (int64_t c = 0; c < cols; ++c) max = std::max(max, xr[c]);
        // sum of exponentials
        const float shift = row_shift(max);
        float sum = 0.0f;
        for (int64_t c = 0; c < cols; ++c) sum += std::exp(xr[c] - shift);
        // subtract the log-sum-exp. NOTE: a fully masked row has sum = 0 and log 0 = -inf, and
        // -inf - (-inf) would be NaN: subtract 0 instead, leaving -inf everywhere.
        const float log_sum_exp = sum == 0.0f ? 0.0f : shift + std::log(sum);
        for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] - log_sum_exp;
    }
}

void log_softmax_backward_reference(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* yr = out + r * cols;    // [C]
        const float* dyr = dout + r * cols;  // [C]
        float* dxr = dx + r * cols;          // [C]
        // Σ_j dy_j, and whether every output is -inf (a fully masked row; NaN does not count)
        float sum_dy = 0.0f;
        bool masked = true;
        for (int64_t c = 0; c < cols; ++c) {
            sum_dy += dyr[c];
            masked = masked && yr[c] == -INFINITY;
        }
        // dx_i = dy_i - e^(y_i) Σ_j dy_j. NOTE: for a fully masked row this formula would give
        // dy_i; the row's output is -inf whatever x is, so its gradient is 0.
        for (int64_t c = 0; c < cols; ++c) dxr[c] = masked ? 0.0f : dyr[c] - std::exp(yr[c]) * sum_dy;
    }
}

// --- the kernels at the active SIMD level ------------------------------------------------------
// Rows are independent: threads take chunks of rows (row_grain, core/parallel.hpp), and every row
// is computed the same way whichever thread has it, so results do not depend on the thread count.

void softmax_forward(float* out, const float* x, int64_t rows, int64_t cols) {
    parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
        simd_dispatch(SoftmaxForwardKernel{}, softmax_forward_reference, out + r0 * cols, x + r0 * cols, r1 - r0,
                      cols);
    });
}

void softmax_backward(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols) {
    parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
        const int64_t o = r0 * cols;
        simd_dispatch(SoftmaxBackwardKernel{}, softmax_backward_reference, dx + o, out + o, dout + o, r1 - r0, cols);
    });
}

void log_softmax_forward(float* out, const float* x, int64_t rows, int64_t cols) {
    parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
        simd_dispatch(LogSoftmaxForwardKernel{}, log_softmax_forward_reference, out + r0 * cols, x + r0 * cols,
                      r1 - r0, cols);
    });
}

void log_softmax_backward(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols) {
    parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
        const int64_t o = r0 * cols;
        simd_dispatch(LogSoftmaxBackwardKernel{}, log_softmax_backward_reference, dx + o, out + o, dout + o, r1 - r0,
                      cols);
    });
}

// --- the ops ----------------------------------------------------------------------------------

namespace {

// The shared shape of both ops: a row kernel forward over the last axis, and a row kernel
// backward that reads the forward's output.
using RowForward = void (*)(float* out, const float* x, int64_t rows, int64_t cols);
using RowBackward = void (*)(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols);

Tensor row_op(std::string_view name, RowForward forward, RowBackward backward, const Tensor& x) {
    check(x.defined(), name, "the input is an undefined tensor");
    check(x.ndim() >= 1, name, "needs at least one dimension to normalise over, got shape {}", x.shape());
    const int64_t rows = leading_rows(x.shape()), cols = x.shape()[-1];
    Tensor out = empty(x.shape());
    forward(out.data(), x.data(), rows, cols);
    record(out, name, {x}, [backward, rows, cols](const Tensor& out, const Tensor& dout) -> Grads {
        Tensor dx = empty(out.shape());
        backward(dx.data(), out.data(), dout.data(), rows, cols);
        return {dx};
    });
    return out;
}

}  // namespace

Tensor softmax(const Tensor& x) { return row_op("softmax", softmax_forward, softmax_backward, x); }

Tensor log_softmax(const Tensor& x) { return row_op("log_softmax", log_softmax_forward, log_softmax_backward, x); }

}  // namespace ag
