// error.hpp: the one exception type attograd throws, and the check helper every op uses.
//
// Messages name the op first, in brackets, then what was wrong and the offending values:
//   [matmul] inner dimensions differ: (2, 3) @ (4, 5)
// Kernels do not validate; the public op in front of them does, before any work is done.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace ag {

/// Every error attograd reports: bad shapes, bad values, bad files. `what()` starts with "[op]".
class Error : public std::runtime_error {
public:
    /// An error with the whole message, "[op] ..." (check() and fail() build it).
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Throws ag::Error with the message "[op] <formatted text>".
template <class... Args>
[[noreturn]] void fail(std::string_view op, fmt::format_string<Args...> format, Args&&... args) {
    throw Error(fmt::format("[{}] {}", op, fmt::format(format, std::forward<Args>(args)...)));
}

/// Throws ag::Error "[op] <formatted text>" unless `condition` holds.
/// NOTE: the arguments are evaluated even when the check passes; pass cheap values (shapes by
/// reference, numbers), not strings built for the occasion.
template <class... Args>
void check(bool condition, std::string_view op, fmt::format_string<Args...> format, Args&&... args) {
    if (!condition) fail(op, format, std::forward<Args>(args)...);
}

}  // namespace ag
