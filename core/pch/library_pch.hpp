// library_pch.hpp: the precompiled header of libattograd (meson's cpp_pch, top-level meson.build).
// It only makes the build faster: no source includes it, and every source still includes what it
// uses. fmt, xsimd and nlohmann/json are most of what each file's compiler parses; parsing them
// once per build instead of once per file keeps CI (a release build and a sanitizer build) inside
// its time budget.
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/simd.hpp"
#include "core/tensor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
