// where.cpp: choosing elements by a condition (formulas in where.hpp).
//
//   where(cond, a, b)[i]     = cond[i] != 0 ? a[i] : b[i]     cond, a, b broadcast to one shape
//   masked_fill(x, mask, v)  = mask[i] != 0 ? v    : x[i]     mask broadcasts to x's shape
// The gradient flows only to the element that was chosen, so each backward is itself a where:
//   da = where(cond, dout, 0)    db = where(cond, 0, dout)    dx = masked_fill(dout, mask, 0)
// NOTE: the gradient is chosen, not multiplied by a 0/1 mask: if dout holds an inf or NaN where
// an element was not chosen, inf * 0 would be NaN, while a chosen 0 is 0.
// The condition and mask are not differentiable (they only pick), so they are not recorded as
// inputs: they never receive a gradient, and requiring grad on them alone does not make the
// output require grad (as a bool tensor in PyTorch).
#include "ops/where.hpp"

#include "core/anomaly.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "ops/binary.hpp"

#include <algorithm>
#include <cmath>

namespace ag {

namespace {

// out[i] = cond[ic] != 0 ? a[ia] : b[ib] over every index of `shape`; ic, ia, ib follow broadcast
// strides (0 along a dimension an input is broadcast along).
void where_reference(float* out, const float* cond, const float* a, const float* b, const Shape& shape,
                     const std::array<int64_t, kMaxDims>& cond_strides, const std::array<int64_t, kMaxDims>& a_strides,
                     const std::array<int64_t, kMaxDims>& b_strides) {
    std::array<int64_t, kMaxDims> index{};
    int64_t ic = 0, ia = 0, ib = 0;
    for (int64_t i = 0, n = shape.numel(); i < n; ++i) {
        out[i] = cond[ic] != 0.0f ? a[ia] : b[ib];
        // advance the multi-index like an odometer; the three input positions move with it
        for (int d = shape.ndim() - 1; d >= 0; --d) {
            ic += cond_strides[d];
            ia += a_strides[d];
            ib += b_strides[d];
            if (++index[d] < shape[d]) break;
            ic -= cond_strides[d] * shape[d];
            ia -= a_strides[d] * shape[d];
            ib -= b_strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

// out[i] = mask[im] != 0 ? value : x[i] over every index of `shape` (x's), im following the mask's
// broadcast strides.
void masked_fill_reference(float* out, const float* x, const float* mask, float value, const Shape& shape,
                           const std::array<int64_t, kMaxDims>& mask_strides) {
    std::array<int64_t, kMaxDims> index{};
    int64_t im = 0;
    for (int64_t i = 0, n = shape.numel(); i < n; ++i) {
        out[i] = mask[im] != 0.0f ? value : x[i];
        for (int d = shape.ndim() - 1; d >= 0; --d) {
            im += mask_strides[d];
            if (++index[d] < shape[d]) break;
            im -= mask_strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

}  // namespace

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
    check(condition.defined() && a.defined() && b.defined(), "where", "an operand is an undefined tensor");
    const Shape &sc = condition.shape(), &sa = a.shape(), &sb = b.shape();
    bool ok = broadcastable(sc, sa) && broadcastable(sc, sb) && broadcastable(sa, sb);
    check(ok, "where", "shapes cannot be broadcast: condition {}, a {}, b {}", sc, sa, sb);
    Shape shape = broadcast_shapes(broadcast_shapes(sc, sa, "where"), sb, "where");

    Tensor out = empty(shape);
    where_reference(out.data(), condition.data(), a.data(), b.data(), shape, broadcast_strides(sc, shape),
                    broadcast_strides(sa, shape), broadcast_strides(sb, shape));
    record(out, "where", {a, b}, [condition](const Tensor&, const Tensor& dout) -> Grads {
        // each gradient has the output's shape; the engine sums it back over broadcast dimensions
        Tensor zero = scalar(0.0f);
        return {where(condition, dout, zero), where(condition, zero, dout)};
    });
    return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
    check(x.defined() && mask.defined(), "masked_fill", "an operand is an undefined tensor");
    // NOTE: the mask may not enlarge x: the result is x with some elements replaced, so it keeps
    // x's shape (torch's in-place masked_fill_ has the same rule)
    const Shape &sx = x.shape(), &sm = mask.shape();
    bool ok = broadcastable(sx, sm) && broadcast_shapes(sx, sm, "masked_fill") == sx;
    check(ok, "masked_fill", "mask of shape {} does not broadcast to x's shape {}", sm, sx);

    Tensor out = empty(sx);
    masked_fill_reference(out.data(), x.data(), mask.data(), value, sx, broadcast_strides(sm, sx));
    // -inf is how attention forbids a key: not an anomaly (core/anomaly.hpp)
    InfinitiesExpected expected(std::isinf(value));
    record(out, "masked_fill", {x}, [mask](const Tensor&, const Tensor& dout) -> Grads {
        return {masked_fill(dout, mask, 0.0f)};  // filled elements did not come from x
    });
    return out;
}

}  // namespace ag
