// bench_rows.hpp: the row-kernel benchmark cases (bench_rows.cpp).
#pragma once

#include "harness.hpp"

#include <vector>

namespace bench {

/// softmax, layer_norm and dropout kernels against a copy of the same bytes and the reference.
std::vector<Case> row_cases();

}  // namespace bench
