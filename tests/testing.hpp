// testing.hpp: helpers shared by the tests.
#pragma once

#include "attograd.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ag::testing {

/// A leaf of `shape` with values from a seeded normal, scaled, that requires grad.
inline Tensor param(const Shape& shape, uint64_t seed, float scale = 1.0f) {
    Generator gen(seed);
    Tensor t = randn(shape, gen);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] *= scale;
    t.requires_grad_();
    return t;
}

/// Checks that `a` and `b` have the same shape and values within tolerance, printing both if not.
inline void check_close(const Tensor& a, const Tensor& b, float rtol = 1e-5f, float atol = 1e-6f) {
    INFO("got      ", to_string(a));
    INFO("expected ", to_string(b));
    CHECK(allclose(a, b, rtol, atol));
}

/// The message of the ag::Error that `f` throws, or "" if it throws none.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace ag::testing

/// Checks gradcheck(f, inputs) and shows its message on failure.
#define CHECK_GRADCHECK(f, ...)                                         \
    do {                                                                \
        ::ag::GradcheckResult result_ = ::ag::gradcheck(f, __VA_ARGS__); \
        INFO(result_.message);                                          \
        CHECK(result_.ok);                                              \
    } while (0)
