// binary.hpp: elementwise add, sub, mul, div with NumPy broadcasting, and their operators.
//
//   out = a ∘ b                       shapes broadcast: (B, T, D) ∘ (D,) -> (B, T, D)
//   add: da = dout            db = dout
//   sub: da = dout            db = -dout
//   mul: da = dout * b        db = dout * a
//   div: da = dout / b        db = -dout * a / b²
// Each gradient has the output's shape; the engine sums it back to its input's shape.
#pragma once

#include "core/tensor.hpp"

namespace ag {

/// a + b, broadcast.
Tensor add(const Tensor& a, const Tensor& b);
/// a - b, broadcast.
Tensor sub(const Tensor& a, const Tensor& b);
/// a * b elementwise, broadcast.
Tensor mul(const Tensor& a, const Tensor& b);
/// a / b elementwise, broadcast.
Tensor div(const Tensor& a, const Tensor& b);

/// A 0-dimensional tensor holding `value` (how scalars enter binary ops).
Tensor scalar(float value);

/// add(a, b).
Tensor operator+(const Tensor& a, const Tensor& b);
/// sub(a, b).
Tensor operator-(const Tensor& a, const Tensor& b);
/// mul(a, b).
Tensor operator*(const Tensor& a, const Tensor& b);
/// div(a, b).
Tensor operator/(const Tensor& a, const Tensor& b);
/// add(a, scalar(b)).
Tensor operator+(const Tensor& a, float b);
/// sub(a, scalar(b)).
Tensor operator-(const Tensor& a, float b);
/// mul(a, scalar(b)).
Tensor operator*(const Tensor& a, float b);
/// div(a, scalar(b)).
Tensor operator/(const Tensor& a, float b);
/// add(scalar(a), b).
Tensor operator+(float a, const Tensor& b);
/// sub(scalar(a), b).
Tensor operator-(float a, const Tensor& b);
/// mul(scalar(a), b).
Tensor operator*(float a, const Tensor& b);
/// div(scalar(a), b).
Tensor operator/(float a, const Tensor& b);
/// -a (see neg in unary.hpp).
Tensor operator-(const Tensor& a);

}  // namespace ag
