// testing.hpp: helpers shared by the tests.
#pragma once

#include "attograd.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
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

/// NaN and infinity, for the tests of bad inputs.
inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
inline constexpr float kInf = std::numeric_limits<float>::infinity();

/// 0, 1, 2, ... in row-major order: element (i, j, k) of a (2, 3, 4) iota is 12i + 4j + k.
inline Tensor iota(const Shape& shape) {
    Tensor t = empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(i);
    return t;
}

/// True when no element is NaN.
inline bool no_nan(const Tensor& t) {
    for (float v : t.to_vector())
        if (std::isnan(v)) return false;
    return true;
}

/// Overwrites a parameter's values (keeping its handle).
inline void assign(const Tensor& p, const Tensor& values) {
    REQUIRE(p.shape() == values.shape());
    std::copy_n(values.data(), values.numel(), p.data());
}

/// A leaf parameter holding `values`, with gradient `grad`.
inline Tensor param_with_grad(std::initializer_list<float> values, std::initializer_list<float> grad) {
    Tensor p = tensor(values);
    p.requires_grad_();
    p.set_grad(tensor(grad));
    return p;
}

/// The relative tolerance of the parity tests against PyTorch's committed fixtures (tests/parity).
inline constexpr float kParityRtol = 1e-5f;

#ifdef AG_TESTS_DIR
/// Where the committed fixtures are (tests/parity/fixtures/, read from the source tree).
inline const std::string kFixtures = std::string(AG_TESTS_DIR) + "/parity/fixtures/";
#endif

/// The textclf program: TEXTCLF_PATH, or where the build puts it next to the unit tests.
inline std::string textclf_path() {
    if (const char* path = std::getenv("TEXTCLF_PATH"); path && *path) return path;
    return (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() /
            "examples/text_classifier/textclf")
        .string();
}

}  // namespace ag::testing

/// Checks gradcheck(f, inputs) and shows its message on failure.
#define CHECK_GRADCHECK(f, ...)                                         \
    do {                                                                \
        ::ag::GradcheckResult result_ = ::ag::gradcheck(f, __VA_ARGS__); \
        INFO(result_.message);                                          \
        CHECK(result_.ok);                                              \
    } while (0)
