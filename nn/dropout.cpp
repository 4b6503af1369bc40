// dropout.cpp: the module around ops/dropout (formulas in dropout.hpp).
#include "nn/dropout.hpp"

#include "core/error.hpp"
#include "ops/dropout.hpp"

namespace ag {

Dropout::Dropout(float p, Generator& gen) : p_(p), gen_(&gen) {
    // NOTE: NaN fails both comparisons, so it is rejected too
    check(p >= 0.0f && p <= 1.0f, "Dropout", "probability p must be in [0, 1], got {}", p);
}

Tensor Dropout::forward(const Tensor& x) {
    check(x.defined(), "Dropout", "input is an undefined tensor");
    return dropout(x, p_, training(), *gen_);
}

}  // namespace ag
