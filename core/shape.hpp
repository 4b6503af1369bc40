// shape.hpp: the shape of a tensor (0 to 6 dimensions), its row-major strides, and broadcasting.
//
// A Shape is a small fixed-capacity array, so creating one never allocates: ops create several
// per call and the per-op overhead budget is about a microsecond.
//
// Broadcasting follows NumPy: shapes are aligned at their last dimension; two sizes are
// compatible when they are equal or one of them is 1; the result takes the larger.
//   (2, 3, 4) with (3, 1) -> (2, 3, 4)
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace ag {

/// The most dimensions a tensor may have.
inline constexpr int kMaxDims = 6;

/// Sizes of a tensor's dimensions, outermost first (row-major: the last one is contiguous).
class Shape {
public:
    Shape() = default;
    /// A shape from its sizes, outermost first: Shape{2, 3}; also from a span or a vector.
    Shape(std::initializer_list<int64_t> sizes);
    explicit Shape(std::span<const int64_t> sizes);
    explicit Shape(const std::vector<int64_t>& sizes) : Shape(std::span<const int64_t>(sizes)) {}

    /// Number of dimensions (0 for a scalar).
    int ndim() const { return ndim_; }
    /// Size of dimension `d`; negative `d` counts from the end. Unchecked: see normalize_axis.
    int64_t operator[](int d) const { return sizes_[d < 0 ? d + ndim_ : d]; }
    int64_t& operator[](int d) { return sizes_[d < 0 ? d + ndim_ : d]; }
    /// Number of elements: the product of the sizes (1 for a scalar).
    int64_t numel() const;

    /// The sizes, for range-for: `for (int64_t s : shape)`.
    const int64_t* begin() const { return sizes_.data(); }
    /// One past the last size.
    const int64_t* end() const { return sizes_.data() + ndim_; }

    /// Appends a dimension of size `size` (throws past kMaxDims).
    void push_back(int64_t size);

    /// Same number of dimensions and the same sizes.
    bool operator==(const Shape& other) const;

private:
    std::array<int64_t, kMaxDims> sizes_{};
    int ndim_ = 0;
};

/// Row-major strides in elements: strides[d] = product of sizes after d.
std::array<int64_t, kMaxDims> contiguous_strides(const Shape& shape);

/// Strides that read `shape` as if it were broadcast to `target`: 0 where `shape` is broadcast.
/// `shape` must broadcast to `target` (check with broadcast_shapes first).
std::array<int64_t, kMaxDims> broadcast_strides(const Shape& shape, const Shape& target);

/// Whether two shapes broadcast together (aligned at the last dimension, sizes equal or 1).
bool broadcastable(const Shape& a, const Shape& b);

/// The NumPy broadcast of two shapes; throws "[op] shapes cannot be broadcast: (2, 3) and (4,)".
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op);

/// Turns a possibly negative axis into 0..ndim-1; throws "[op] axis 3 out of range for shape (2, 3)".
int normalize_axis(int axis, const Shape& shape, std::string_view op);

}  // namespace ag

/// Formats as PyTorch prints a size: "(2, 3)", "(5,)", "()".
template <>
struct fmt::formatter<ag::Shape> : fmt::formatter<std::string_view> {
    auto format(const ag::Shape& shape, fmt::format_context& ctx) const -> decltype(ctx.out());
};
