// bench_rows.hpp: the row-kernel and elementwise benchmark cases (bench_rows.cpp, bench_elementwise.cpp).
#pragma once

#include "harness.hpp"

#include <vector>

namespace bench {

/// softmax, layer_norm and dropout kernels against a copy of the same bytes and the reference.
std::vector<Case> row_cases();
/// add, mul, exp, gelu and sum at the op level against a copy of the same bytes and the scalar level.
std::vector<Case> elementwise_cases();

/// The Adam update (GB/s against a copy of the same bytes) and the per-op overhead of a tiny add
/// (bench_optim.cpp).
std::vector<Case> optim_cases();

}  // namespace bench
