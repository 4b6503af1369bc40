// unary.hpp: elementwise functions of one tensor, each with its derivative.
//
//   neg      -x                      d = -1
//   exp      e^x                     d = e^x  (= out)
//   log      ln x                    d = 1 / x
//   sqrt     √x                      d = 1 / (2 √x)
//   pow      x^p (scalar p)          d = p x^(p-1)
//   tanh     tanh x                  d = 1 - out²
//   sigmoid  1 / (1 + e^-x)          d = out (1 - out)
//   relu     max(x, 0)               d = [x > 0]
//   gelu     x Φ(x)                  d = Φ(x) + x φ(x)           (exact, erf-based)
//            0.5 x (1 + tanh(u)),  u = √(2/π) (x + 0.044715 x³)  (tanh approximation)
#pragma once

#include "core/tensor.hpp"

namespace ag {

/// Which GELU formula (as PyTorch's approximate='none' | 'tanh').
enum class GeluApproximation { None, Tanh };

/// -x.
Tensor neg(const Tensor& x);
/// e^x.
Tensor exp(const Tensor& x);
/// Natural logarithm (x <= 0 gives -inf or NaN, as in PyTorch).
Tensor log(const Tensor& x);
/// Square root (x < 0 gives NaN, as in PyTorch).
Tensor sqrt(const Tensor& x);
/// x raised to a scalar power.
Tensor pow(const Tensor& x, float exponent);
/// Hyperbolic tangent.
Tensor tanh(const Tensor& x);
/// Logistic sigmoid 1 / (1 + e^-x).
Tensor sigmoid(const Tensor& x);
/// max(x, 0); the gradient at exactly 0 is 0, as in PyTorch.
Tensor relu(const Tensor& x);
/// Gaussian error linear unit, exact or tanh-approximated.
Tensor gelu(const Tensor& x, GeluApproximation approximate = GeluApproximation::None);

}  // namespace ag
