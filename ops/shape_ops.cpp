// shape_ops.cpp: ops that move elements without arithmetic (formulas in shape_ops.hpp).
//
// Every attograd tensor is contiguous and row-major, so there are two kinds of shape op:
//   views   reshape, view, unsqueeze, squeeze: the same elements in the same order, only the shape
//           changes, so the result shares the input's Storage and offset (no copy at all);
//   copies  permute, transpose, slice, narrow, concat, broadcast_to: the order changes, so the
//           result is a new contiguous tensor. Two kernels do all the copying:
//             gather_reference  walks the output, reading the input through arbitrary strides
//                               (permuted strides for permute, 0 along expanded axes for broadcast_to)
//             slice_reference   copies every step-th row of an (outer, n, inner) block.
// Each backward is the inverse movement: reshape back, permute by the inverse permutation, put the
// slice back into zeros, cut dout into the pieces that were concatenated.
#include "ops/shape_ops.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <string>

namespace ag {

namespace {

// "(4, -1)" for the sizes a caller asked for (a Shape cannot hold -1, so it cannot print them).
template <class T>
std::string format_list(const std::vector<T>& values) {
    std::string text = "(";
    for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
    return text + (values.size() == 1 ? ",)" : ")");
}

// --- kernels -----------------------------------------------------------------------------------

// out[i] = x[ix] over every index of `shape` in row-major order, where ix moves by x_strides[d]
// along dimension d. Permuted strides give permute; strides of 0 repeat elements (broadcast_to).
void gather_reference(float* out, const float* x, const Shape& shape, const std::array<int64_t, kMaxDims>& x_strides) {
    std::array<int64_t, kMaxDims> index{};
    int64_t ix = 0;
    for (int64_t i = 0, n = shape.numel(); i < n; ++i) {
        out[i] = x[ix];
        // advance the multi-index like an odometer; ix moves with it
        for (int d = shape.ndim() - 1; d >= 0; --d) {
            ix += x_strides[d];
            if (++index[d] < shape[d]) break;
            ix -= x_strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

// x seen as (outer, n, inner), out as (outer, length, inner):
//   out[o, i, :] = x[o, start + i*step, :]
void slice_reference(float* out, const float* x, int64_t outer, int64_t n, int64_t inner, int64_t start,
                     int64_t step, int64_t length) {
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < length; ++i)
            std::copy_n(x + (o * n + start + i * step) * inner, inner, out + (o * length + i) * inner);
}

// The reverse movement, into a zeroed dx of shape (outer, n, inner):
//   dx[o, start + i*step, :] = dout[o, i, :]
// NOTE: step > 0, so no two i land on the same row and plain assignment is enough (no +=).
void slice_backward(float* dx, const float* dout, int64_t outer, int64_t n, int64_t inner, int64_t start,
                    int64_t step, int64_t length) {
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < length; ++i)
            std::copy_n(dout + (o * length + i) * inner, inner, dx + (o * n + start + i * step) * inner);
}

// Sizes before and after `axis`: any shape is (outer, shape[axis], inner) in memory.
int64_t outer_size(const Shape& shape, int axis) {
    int64_t outer = 1;
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    return outer;
}
int64_t inner_size(const Shape& shape, int axis) {
    int64_t inner = 1;
    for (int d = axis + 1; d < shape.ndim(); ++d) inner *= shape[d];
    return inner;
}

// --- views -------------------------------------------------------------------------------------

// A tensor of `shape` over x's storage, recorded as op `name` (its backward views dout back).
Tensor view_as(const Tensor& x, const Shape& shape, std::string_view name) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = x.impl()->storage;  // shared: writes through either tensor are seen by both
    impl->offset = x.impl()->offset;
    impl->shape = shape;
    Tensor out(std::move(impl));
    record(out, name, {x}, [shape = x.shape(), name](const Tensor&, const Tensor& dout) -> Grads {
        return {view_as(dout, shape, name)};  // grad mode is off here: nothing is recorded
    });
    return out;
}

// reshape and view: resolve the -1, check the element count, then view.
Tensor reshape_to(const Tensor& x, const std::vector<int64_t>& sizes, std::string_view name) {
    check(x.defined(), name, "the input is an undefined tensor");
    check(sizes.size() <= kMaxDims, name, "at most {} dimensions are supported: got {}", kMaxDims, format_list(sizes));
    int inferred = -1;  // position of the -1, if any
    int64_t known = 1;  // product of the other sizes
    for (size_t d = 0; d < sizes.size(); ++d) {
        if (sizes[d] == -1) {
            check(inferred < 0, name, "only one size may be -1: got {}", format_list(sizes));
            inferred = static_cast<int>(d);
        } else {
            check(sizes[d] >= 0, name, "invalid size {} in {}", sizes[d], format_list(sizes));
            // NOTE: a product that wrapped around could "match" x's element count
            if (__builtin_mul_overflow(known, sizes[d], &known))
                fail(name, "sizes {} overflow the element count", format_list(sizes));
        }
    }
    // NOTE: with a 0 among the other sizes, any value of the -1 gives 0 elements: it is ambiguous
    check(inferred < 0 || known != 0, name, "cannot infer the -1 in {}: the other sizes multiply to 0",
          format_list(sizes));
    bool fits = inferred >= 0 ? x.numel() % known == 0 : x.numel() == known;
    check(fits, name, "cannot reshape {} ({} elements) to {}", x.shape(), x.numel(), format_list(sizes));

    Shape shape;
    for (size_t d = 0; d < sizes.size(); ++d)
        shape.push_back(static_cast<int>(d) == inferred ? x.numel() / known : sizes[d]);
    return view_as(x, shape, name);
}

// --- copies that reorder axes ------------------------------------------------------------------

// out.shape[i] = x.shape[dims[i]]; dims must already be a valid permutation.
Tensor permute_to(const Tensor& x, const std::vector<int>& dims, std::string_view name) {
    Shape shape;
    std::array<int64_t, kMaxDims> x_strides = contiguous_strides(x.shape());
    std::array<int64_t, kMaxDims> strides{};
    for (int d = 0; d < x.ndim(); ++d) {
        shape.push_back(x.shape()[dims[d]]);
        strides[d] = x_strides[dims[d]];  // stepping along output axis d steps along input axis dims[d]
    }
    Tensor out = empty(shape);
    gather_reference(out.data(), x.data(), shape, strides);
    record(out, name, {x}, [dims, name](const Tensor&, const Tensor& dout) -> Grads {
        // out axis i came from x axis dims[i], so x axis dims[i] comes back from dout axis i
        std::vector<int> inverse(dims.size());
        for (size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<int>(i);
        return {permute_to(dout, inverse, name)};
    });
    return out;
}

// --- copies of a range along one axis ----------------------------------------------------------

// out = x[..., start : start + length*step : step, ...] along `axis`, all values already in range.
Tensor slice_range(const Tensor& x, int axis, int64_t start, int64_t step, int64_t length, std::string_view name) {
    Shape shape = x.shape();
    shape[axis] = length;
    int64_t outer = outer_size(x.shape(), axis), n = x.shape()[axis], inner = inner_size(x.shape(), axis);
    Tensor out = empty(shape);
    slice_reference(out.data(), x.data(), outer, n, inner, start, step, length);
    record(out, name, {x}, [x_shape = x.shape(), outer, n, inner, start, step, length](const Tensor&,
                                                                                      const Tensor& dout) -> Grads {
        // the elements that were not taken get no gradient: start from zeros
        Tensor dx = zeros(x_shape);
        slice_backward(dx.data(), dout.data(), outer, n, inner, start, step, length);
        return {dx};
    });
    return out;
}

}  // namespace

// --- views -------------------------------------------------------------------------------------

Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape) { return reshape_to(x, shape, "reshape"); }

Tensor view(const Tensor& x, const std::vector<int64_t>& shape) { return reshape_to(x, shape, "view"); }

Tensor unsqueeze(const Tensor& x, int axis) {
    check(x.defined(), "unsqueeze", "the input is an undefined tensor");
    const Shape& s = x.shape();
    // NOTE: the new axis may go after the last one, so the valid range is one wider than x's axes
    check(axis >= -s.ndim() - 1 && axis <= s.ndim(), "unsqueeze", "axis {} out of range for shape {}", axis, s);
    check(s.ndim() < kMaxDims, "unsqueeze", "shape {} already has the most dimensions supported ({})", s, kMaxDims);
    int at = axis < 0 ? axis + s.ndim() + 1 : axis;
    Shape shape;
    for (int d = 0; d <= s.ndim(); ++d) {
        if (d == at) shape.push_back(1);
        if (d < s.ndim()) shape.push_back(s[d]);
    }
    return view_as(x, shape, "unsqueeze");
}

Tensor squeeze(const Tensor& x, int axis) {
    check(x.defined(), "squeeze", "the input is an undefined tensor");
    const Shape& s = x.shape();
    int at = normalize_axis(axis, s, "squeeze");
    check(s[at] == 1, "squeeze", "cannot squeeze axis {} of shape {}: its size is {}, not 1", axis, s, s[at]);
    Shape shape;
    for (int d = 0; d < s.ndim(); ++d)
        if (d != at) shape.push_back(s[d]);
    return view_as(x, shape, "squeeze");
}

// --- permute, transpose ------------------------------------------------------------------------

Tensor transpose(const Tensor& x, int axis0, int axis1) {
    check(x.defined(), "transpose", "the input is an undefined tensor");
    int a0 = normalize_axis(axis0, x.shape(), "transpose");
    int a1 = normalize_axis(axis1, x.shape(), "transpose");
    std::vector<int> dims(x.ndim());
    for (int d = 0; d < x.ndim(); ++d) dims[d] = d;
    std::swap(dims[a0], dims[a1]);
    return permute_to(x, dims, "transpose");
}

Tensor permute(const Tensor& x, const std::vector<int>& dims) {
    check(x.defined(), "permute", "the input is an undefined tensor");
    check(static_cast<int>(dims.size()) == x.ndim(), "permute", "dims {} has {} entries for shape {} of {} dimensions",
          format_list(dims), dims.size(), x.shape(), x.ndim());
    std::vector<int> axes(dims.size());
    std::array<bool, kMaxDims> seen{};
    for (size_t i = 0; i < dims.size(); ++i) {
        axes[i] = normalize_axis(dims[i], x.shape(), "permute");
        check(!seen[axes[i]], "permute", "dims {} is not a permutation: axis {} repeats", format_list(dims), axes[i]);
        seen[axes[i]] = true;
    }
    return permute_to(x, axes, "permute");
}

// --- slice, narrow -----------------------------------------------------------------------------

Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end, int64_t step) {
    check(x.defined(), "slice", "the input is an undefined tensor");
    int at = normalize_axis(axis, x.shape(), "slice");
    check(step > 0, "slice", "step must be positive: got {}", step);
    // Python's rules: negative bounds count from the end, then both are clamped to [0, n]
    int64_t n = x.shape()[at];
    auto resolve = [n](int64_t i) { return std::clamp(i < 0 ? i + n : i, int64_t{0}, n); };
    int64_t first = resolve(start), last = resolve(end);
    // NOTE: not (last - first + step - 1) / step, which overflows for a step near INT64_MAX
    int64_t length = last > first ? (last - first - 1) / step + 1 : 0;
    return slice_range(x, at, first, step, length, "slice");
}

Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length) {
    check(x.defined(), "narrow", "the input is an undefined tensor");
    int at = normalize_axis(axis, x.shape(), "narrow");
    int64_t n = x.shape()[at];
    check(length >= 0, "narrow", "length must be non-negative: got {}", length);
    check(start >= -n && start <= n, "narrow", "start {} out of range for axis {} of shape {}", start, axis, x.shape());
    int64_t first = start < 0 ? start + n : start;
    // unlike slice, narrow does not clamp: asking for more than is there is an error (as torch.narrow)
    check(length <= n - first, "narrow", "start {} + length {} exceeds size {} of axis {} of shape {}", first, length,
          n, axis, x.shape());
    return slice_range(x, at, first, 1, length, "narrow");
}

// --- concat ------------------------------------------------------------------------------------

Tensor concat(const std::vector<Tensor>& xs, int axis) {
    check(!xs.empty(), "concat", "needs at least one tensor: got an empty list");
    for (size_t k = 0; k < xs.size(); ++k) check(xs[k].defined(), "concat", "tensor {} is undefined", k);
    const Shape& first = xs[0].shape();
    int at = normalize_axis(axis, first, "concat");
    // every size but the axis must match the first tensor's
    Shape shape = first;
    shape[at] = 0;
    for (size_t k = 0; k < xs.size(); ++k) {
        const Shape& s = xs[k].shape();
        bool match = s.ndim() == first.ndim();
        for (int d = 0; match && d < s.ndim(); ++d) match = d == at || s[d] == first[d];
        check(match, "concat",
              "tensor {} has shape {} but tensor 0 has shape {}: sizes must match except along axis {}", k, s, first,
              axis);
        shape[at] += s[at];
    }

    // out seen as (outer, total, inner): each input fills its band of rows [offset, offset + size)
    Tensor out = empty(shape);
    int64_t outer = outer_size(shape, at), inner = inner_size(shape, at), total = shape[at];
    std::vector<int64_t> offsets;  // where each input starts along the axis
    int64_t offset = 0;
    for (const Tensor& x : xs) {
        int64_t n = x.shape()[at];
        for (int64_t o = 0; o < outer; ++o)
            std::copy_n(x.data() + o * n * inner, n * inner, out.data() + (o * total + offset) * inner);
        offsets.push_back(offset);
        offset += n;
    }
    record(out, "concat", std::span<const Tensor>(xs), [offsets, at](const Tensor&, const Tensor& dout) -> Grads {
        // each input's gradient is its band of dout
        Grads grads;
        for (size_t k = 0; k < offsets.size(); ++k) {
            int64_t end = k + 1 < offsets.size() ? offsets[k + 1] : dout.shape()[at];
            grads.push_back(narrow(dout, at, offsets[k], end - offsets[k]));
        }
        return grads;
    });
    return out;
}

// --- broadcast_to ------------------------------------------------------------------------------

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
    check(x.defined(), "broadcast_to", "the input is an undefined tensor");
    // x broadcasts to `shape` when each of its sizes, aligned at the end, is 1 or equal
    bool ok = x.ndim() <= shape.ndim();
    for (int d = 1; ok && d <= x.ndim(); ++d) ok = x.shape()[-d] == 1 || x.shape()[-d] == shape[-d];
    check(ok, "broadcast_to", "cannot broadcast {} to {}", x.shape(), shape);

    Tensor out = empty(shape);
    gather_reference(out.data(), x.data(), shape, broadcast_strides(x.shape(), shape));
    // NOTE: the gradient of a broadcast is a sum over the expanded axes. The engine already does
    // exactly that for every input whose gradient comes back larger than it is (sum_to), so the
    // backward hands dout over unchanged rather than repeating the same loop here.
    record(out, "broadcast_to", {x}, [](const Tensor&, const Tensor& dout) -> Grads { return {dout}; });
    return out;
}

}  // namespace ag
