// testing.hpp: helpers shared by the tests.
#pragma once

#include "attograd.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
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

/// The 8 bytes of n, little-endian (as safetensors writes its header length).
inline std::string u64_le(uint64_t n) {
    std::string s(8, '\0');
    std::memcpy(s.data(), &n, 8);
    return s;
}

/// Checks that two safetensors files hold the same tensors, by name and bit for bit.
inline void check_same_tensors(const std::string& a, const std::string& b) {
    StateDict x = load_safetensors(a), y = load_safetensors(b);
    REQUIRE(x.tensors.size() == y.tensors.size());
    for (size_t i = 0; i < x.tensors.size(); ++i) {
        CAPTURE(x.tensors[i].name);
        REQUIRE(x.tensors[i].name == y.tensors[i].name);
        REQUIRE(x.tensors[i].tensor.shape() == y.tensors[i].tensor.shape());
        CHECK(std::memcmp(x.tensors[i].tensor.data(), y.tensors[i].tensor.data(),
                          sizeof(float) * static_cast<size_t>(x.tensors[i].tensor.numel())) == 0);
    }
}

}  // namespace ag::testing

/// Checks gradcheck(f, inputs) and shows its message on failure.
#define CHECK_GRADCHECK(f, ...)                                         \
    do {                                                                \
        ::ag::GradcheckResult result_ = ::ag::gradcheck(f, __VA_ARGS__); \
        INFO(result_.message);                                          \
        CHECK(result_.ok);                                              \
    } while (0)
