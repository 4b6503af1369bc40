// format.hpp: printing tensors through fmt, in PyTorch's style.
//
//   fmt::print("{}\n", t);
//   tensor([[ 1.5000, -2.0000],
//           [ 0.2500,  4.0000]], shape=(2, 2), grad_fn=<matmul>)
//
// Tensors with more than 1000 elements are abbreviated to their first and last 3 entries along
// each dimension, with "..." between, as torch.set_printoptions(threshold=1000, edgeitems=3).
#pragma once

#include "core/tensor.hpp"

#include <fmt/format.h>

#include <iosfwd>
#include <string>

namespace ag {
/// The tensor as PyTorch would print it, with its shape.
std::string to_string(const Tensor& t);
/// Streams to_string(t), for doctest's messages and std::cout users.
std::ostream& operator<<(std::ostream& os, const Tensor& t);
}  // namespace ag

/// Formats a tensor as to_string does: `fmt::print("{}\n", t)`.
template <>
struct fmt::formatter<ag::Tensor> : fmt::formatter<std::string_view> {
    auto format(const ag::Tensor& t, fmt::format_context& ctx) const -> decltype(ctx.out()) {
        return fmt::formatter<std::string_view>::format(ag::to_string(t), ctx);
    }
};
