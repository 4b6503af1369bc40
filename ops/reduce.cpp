// reduce.cpp: sum, mean and max over any set of axes (formulas in reduce.hpp).
//
//   x:   (2, 3, 4)      axes {0, 2}      kept: (1, 3, 1)      out: (3,) or, with keepdim, (1, 3, 1)
//
// Every kernel walks x in row-major order and, for each element x[i], finds the output element it
// reduces into, r, through the strides that read `kept` as if it were broadcast to x's shape:
// 0 along reduced axes, so every element of a reduced group lands on the same r. The output's
// layout does not depend on keepdim (size-1 axes add no elements), so `kept` strides serve both.
//
// Sums over trailing axes (the last, or all) or over leading axes run the SIMD kernels of
// ops/reduce_kernel.cpp through simd_dispatch (core/simd.hpp): x read as rows of contiguous columns.
//
//   sum   out[r] = Σ x[i]                 dx[i] = dout[r]
//   mean  out[r] = Σ x[i] / n             dx[i] = dout[r] / n        n = elements per group
//   max   out[r] = max x[i]               dx[i] = dout[r] / ties[r] where x[i] = out[r], else 0
#include "ops/reduce.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/reduce_kernel.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace ag {

namespace {

using Strides = std::array<int64_t, kMaxDims>;

// What a reduction does to a shape; built (and validated) once per call by plan_reduction.
struct Reduction {
    std::array<bool, kMaxDims> reduced{};  // per axis of x: reduced or not
    Shape out;                             // the output's shape (keepdim or not)
    Strides strides{};                     // from x's multi-index to the output position r
    int64_t group = 1;                     // n: elements of x reduced into each output element
};

Reduction plan_reduction(std::string_view op, const Shape& shape, const std::vector<int>& axes, bool keepdim) {
    Reduction plan;
    // which axes: all when none are named; negative ones count from the end; each at most once
    if (axes.empty()) plan.reduced.fill(true);
    for (int axis : axes) {
        int d = normalize_axis(axis, shape, op);
        check(!plan.reduced[d], op, "axis {} appears twice in axes {} for shape {}", d, axes, shape);
        plan.reduced[d] = true;
    }
    // the output shape, and the keepdim shape whose broadcast strides find r
    Shape kept;
    for (int d = 0; d < shape.ndim(); ++d) {
        kept.push_back(plan.reduced[d] ? 1 : shape[d]);
        if (!plan.reduced[d] || keepdim) plan.out.push_back(kept[d]);
        if (plan.reduced[d]) plan.group *= shape[d];
    }
    plan.strides = broadcast_strides(kept, shape);
    return plan;
}

// Calls body(i, r) for every element of a tensor of `shape`, in row-major order: i is the
// element's position, r = Σ index[d] * strides[d] the position of the output it reduces into.
template <class Body>
void for_each_element(const Shape& shape, const Strides& strides, Body body) {
    std::array<int64_t, kMaxDims> index{};
    int64_t r = 0;
    for (int64_t i = 0, n = shape.numel(); i < n; ++i) {
        body(i, r);
        // advance the multi-index like an odometer; r moves with it
        for (int d = shape.ndim() - 1; d >= 0; --d) {
            r += strides[d];
            if (++index[d] < shape[d]) break;
            r -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

// --- the kernels (x has `shape`; out, dout and ties have out_numel elements) ----------------------

// out[r] = Σ x[i], accumulated in float in the order of x
void sum_reference(float* out, const float* x, const Shape& shape, const Strides& strides, int64_t out_numel) {
    std::fill(out, out + out_numel, 0.0f);
    for_each_element(shape, strides, [&](int64_t i, int64_t r) { out[r] += x[i]; });
}

// out[r] = max x[i]
void max_reference(float* out, const float* x, const Shape& shape, const Strides& strides, int64_t out_numel) {
    std::fill(out, out + out_numel, -INFINITY);
    // NOTE: a NaN wins and stays (v > NaN is false), so a NaN in a group gives NaN, as in PyTorch.
    for_each_element(shape, strides, [&](int64_t i, int64_t r) {
        if (x[i] > out[r] || std::isnan(x[i])) out[r] = x[i];
    });
}

// dx[i] = dout[r] / divisor: dout broadcast back to x's shape (divisor 1 for sum, n for mean)
void sum_backward_reference(float* dx, const float* dout, const Shape& shape, const Strides& strides, float divisor) {
    for_each_element(shape, strides, [&](int64_t i, int64_t r) { dx[i] = dout[r] / divisor; });
}

// dx[i] = dout[r] / ties[r] where x[i] equals the max out[r], else 0; `ties` is scratch space.
void max_backward_reference(float* dx, float* ties, const float* dout, const float* x, const float* out,
                            const Shape& shape, const Strides& strides, int64_t out_numel) {
    // count the elements equal to each max
    std::fill(ties, ties + out_numel, 0.0f);
    for_each_element(shape, strides, [&](int64_t i, int64_t r) { ties[r] += (x[i] == out[r]) ? 1.0f : 0.0f; });
    // share dout equally among them
    for_each_element(shape, strides, [&](int64_t i, int64_t r) {
        dx[i] = (x[i] == out[r]) ? dout[r] / ties[r] : 0.0f;
    });
}

// The sum of a reduction, with a SIMD kernel when the reduced axes are a trailing block (x's rows
// are summed along) or a leading block (summed down columns), else with the reference kernel.
void sum_kernel(float* out, const float* x, const Shape& shape, const Reduction& plan, int64_t out_numel) {
    auto reference = [&](auto&&...) { sum_reference(out, x, shape, plan.strides, out_numel); };
    // x as rows × cols, split where the axes change from reduced to kept or back, at most once
    const int ndim = shape.ndim();
    int split = 0;
    while (split < ndim && plan.reduced[split] == plan.reduced[0]) ++split;
    for (int d = split; d < ndim; ++d)
        if (plan.reduced[d] == plan.reduced[0]) return reference();  // a second change
    if (shape.numel() == 0) return reference();
    if (split == ndim) split = 0;  // every axis reduced: one row holding all of x
    int64_t rows = 1, cols = 1;
    for (int d = 0; d < ndim; ++d) (d < split ? rows : cols) *= shape[d];
    if (simd_level() == SimdLevel::scalar) return reference();
    if (split != 0 && plan.reduced[0]) {
        simd_dispatch(SumColumnsKernel{}, reference, out, x, rows, cols);  // the leading axes [0, split)
        return;
    }
    // the trailing axes [split, ndim). Threads take chunks of short rows, or of one long row's
    // columns, whose partial sums are added in chunk order: the chunks depend only on the shape,
    // so the sums are bitwise the same for any thread count.
    if (cols <= kChunkFloats) {
        parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
            simd_dispatch(SumRowsKernel{}, reference, out + r0, x + r0 * cols, r1 - r0, cols);
        });
        return;
    }
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = x + r * cols;
        out[r] = parallel_reduce(
            0, cols, kChunkFloats, 0.0f,
            [&](int64_t c0, int64_t c1) {
                float part = 0.0f;
                simd_dispatch(SumRowsKernel{}, reference, &part, row + c0, 1, c1 - c0);
                return part;
            },
            [](float total, float part) { return total + part; });
    }
}

}  // namespace

// --- the ops ---------------------------------------------------------------------------------------

Tensor sum(const Tensor& x) { return sum(x, {}, false); }
Tensor mean(const Tensor& x) { return mean(x, {}, false); }
Tensor max(const Tensor& x) { return max(x, {}, false); }

Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
    check(x.defined(), "sum", "the input is an undefined tensor");
    Reduction plan = plan_reduction("sum", x.shape(), axes, keepdim);
    Tensor out = empty(plan.out);
    sum_kernel(out.data(), x.data(), x.shape(), plan, out.numel());
    record(out, "sum", {x}, [plan, shape = x.shape()](const Tensor&, const Tensor& dout) -> Grads {
        Tensor dx = empty(shape);
        sum_backward_reference(dx.data(), dout.data(), shape, plan.strides, 1.0f);
        return {dx};
    });
    return out;
}

Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
    check(x.defined(), "mean", "the input is an undefined tensor");
    Reduction plan = plan_reduction("mean", x.shape(), axes, keepdim);
    Tensor out = empty(plan.out);
    // the sum, then divide (an empty group gives 0 / 0 = NaN, as in PyTorch)
    sum_kernel(out.data(), x.data(), x.shape(), plan, out.numel());
    const float n = static_cast<float>(plan.group);
    for (int64_t r = 0; r < out.numel(); ++r) out.data()[r] /= n;
    record(out, "mean", {x}, [plan, n, shape = x.shape()](const Tensor&, const Tensor& dout) -> Grads {
        Tensor dx = empty(shape);
        sum_backward_reference(dx.data(), dout.data(), shape, plan.strides, n);
        return {dx};
    });
    return out;
}

Tensor max(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
    check(x.defined(), "max", "the input is an undefined tensor");
    Reduction plan = plan_reduction("max", x.shape(), axes, keepdim);
    for (int d = 0; d < x.ndim(); ++d)
        check(!plan.reduced[d] || x.shape()[d] > 0, "max", "cannot reduce over axis {} of size 0 in shape {}", d,
              x.shape());
    Tensor out = empty(plan.out);
    max_reference(out.data(), x.data(), x.shape(), plan.strides, out.numel());
    record(out, "max", {x}, [plan, x](const Tensor& out, const Tensor& dout) -> Grads {
        Tensor dx = empty(x.shape());
        Tensor ties = empty(out.shape());
        max_backward_reference(dx.data(), ties.data(), dout.data(), x.data(), out.data(), x.shape(), plan.strides,
                               out.numel());
        return {dx};
    });
    return out;
}

}  // namespace ag
