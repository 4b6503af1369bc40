// activation.cpp: ReLU and GELU modules, each one call of its op (formulas in activation.hpp).
#include "nn/activation.hpp"

#include "core/error.hpp"

namespace ag {

Tensor ReLU::forward(const Tensor& x) {
    check(x.defined(), "ReLU", "input is an undefined tensor");
    return relu(x);
}

Tensor GELU::forward(const Tensor& x) {
    check(x.defined(), "GELU", "input is an undefined tensor");
    return gelu(x, approximate_);
}

}  // namespace ag
