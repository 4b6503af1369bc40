// shape.cpp: Shape, strides and broadcasting (see shape.hpp).
#include "core/shape.hpp"

#include "core/error.hpp"

#include <algorithm>

namespace ag {

Shape::Shape(std::initializer_list<int64_t> sizes) : Shape(std::span<const int64_t>(sizes.begin(), sizes.size())) {}

Shape::Shape(std::span<const int64_t> sizes) {
    for (int64_t size : sizes) push_back(size);
}

void Shape::push_back(int64_t size) {
    check(ndim_ < kMaxDims, "shape", "at most {} dimensions are supported", kMaxDims);
    check(size >= 0, "shape", "sizes must be non-negative: got {}", size);
    // NOTE: numel() multiplies the sizes; a product past INT64_MAX would be undefined behaviour
    int64_t count = 0;
    check(!__builtin_mul_overflow(numel(), size, &count), "shape",
          "{} elements times a dimension of {} overflows the element count", numel(), size);
    sizes_[ndim_++] = size;
}

int64_t Shape::numel() const {
    int64_t n = 1;
    for (int64_t size : *this) n *= size;
    return n;
}

bool Shape::operator==(const Shape& other) const {
    if (ndim_ != other.ndim_) return false;
    for (int d = 0; d < ndim_; ++d)
        if (sizes_[d] != other.sizes_[d]) return false;
    return true;
}

std::array<int64_t, kMaxDims> contiguous_strides(const Shape& shape) {
    std::array<int64_t, kMaxDims> strides{};
    int64_t stride = 1;
    for (int d = shape.ndim() - 1; d >= 0; --d) {
        strides[d] = stride;
        stride *= shape[d];
    }
    return strides;
}

std::array<int64_t, kMaxDims> broadcast_strides(const Shape& shape, const Shape& target) {
    std::array<int64_t, kMaxDims> own = contiguous_strides(shape);
    std::array<int64_t, kMaxDims> strides{};
    int offset = target.ndim() - shape.ndim();  // shape is aligned at the last dimension
    for (int d = 0; d < shape.ndim(); ++d)
        strides[d + offset] = (shape[d] == 1 && target[d + offset] != 1) ? 0 : own[d];
    return strides;
}

bool broadcastable(const Shape& a, const Shape& b) {
    for (int d = 1; d <= std::min(a.ndim(), b.ndim()); ++d)
        if (a[-d] != b[-d] && a[-d] != 1 && b[-d] != 1) return false;
    return true;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op) {
    check(broadcastable(a, b), op, "shapes cannot be broadcast: {} and {}", a, b);
    int ndim = std::max(a.ndim(), b.ndim());
    Shape out;
    for (int d = 0; d < ndim; ++d) {
        // walk both shapes aligned at their last dimension; a missing dimension counts as 1
        int da = d - (ndim - a.ndim()), db = d - (ndim - b.ndim());
        int64_t sa = da >= 0 ? a[da] : 1, sb = db >= 0 ? b[db] : 1;
        out.push_back(sa == 1 ? sb : sa);
    }
    return out;
}

int normalize_axis(int axis, const Shape& shape, std::string_view op) {
    int ndim = shape.ndim();
    check(axis >= -ndim && axis < ndim, op, "axis {} out of range for shape {}", axis, shape);
    return axis < 0 ? axis + ndim : axis;
}

}  // namespace ag

auto fmt::formatter<ag::Shape>::format(const ag::Shape& shape, fmt::format_context& ctx) const
    -> decltype(ctx.out()) {
    std::string text = "(";
    for (int d = 0; d < shape.ndim(); ++d) text += (d ? ", " : "") + std::to_string(shape[d]);
    text += shape.ndim() == 1 ? ",)" : ")";
    return fmt::formatter<std::string_view>::format(text, ctx);
}
