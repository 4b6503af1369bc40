// test_layer_norm.cpp: the LayerNorm module: values by hand, parameters, gradcheck, errors.
#include "testing.hpp"

#include "nn/layer_norm.hpp"

#include <algorithm>
#include <cmath>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

TEST_CASE("LayerNorm normalises the last axis (hand-computed)") {
    LayerNorm norm(2, 0.0f);
    // eps 0: (1, 3) has μ = 2, σ² = 1 -> (-1, 1); (0, 4) has μ = 2, σ² = 4 -> (-2, 2) / 2 = (-1, 1)
    Tensor x = tensor({{1, 3}, {0, 4}});
    check_close(norm(x), tensor({{-1, 1}, {-1, 1}}), 1e-6f, 1e-6f);
    SUBCASE("then scales by weight and shifts by bias") {
        std::copy_n(tensor({2, 3}).data(), 2, norm.weight().data());
        std::copy_n(tensor({0.5f, -1}).data(), 2, norm.bias().data());
        check_close(norm(x), tensor({{-1.5f, 2}, {-1.5f, 2}}), 1e-6f, 1e-6f);
    }
}

TEST_CASE("LayerNorm initialises weight to ones and bias to zeros") {
    LayerNorm norm(5);
    check_close(norm.weight(), ones({5}), 0.0f, 0.0f);
    check_close(norm.bias(), zeros({5}), 0.0f, 0.0f);
    CHECK(norm.eps() == 1e-5f);
    CHECK(norm.num_parameters() == 10);
    CHECK(norm.named_parameters()[1].name == "bias");

    SUBCASE("without elementwise_affine it has no parameters") {
        LayerNorm plain(5, 1e-5f, false);
        CHECK_FALSE(plain.weight().defined());
        CHECK(plain.num_parameters() == 0);
        CHECK(plain.state_dict().tensors.empty());
    }
}

TEST_CASE("LayerNorm gradcheck") {
    LayerNorm norm(7);
    // non-trivial affine parameters, so their gradients are not just those of the identity
    std::copy_n(param({7}, 3).data(), 7, norm.weight().data());
    std::copy_n(param({7}, 4).data(), 7, norm.bias().data());
    Tensor x = param({3, 7}, 5);
    CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return norm(in[0]); }, {x, norm.weight(), norm.bias()});

    LayerNorm plain(9, 1e-5f, false);
    CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return plain(in[0]); }, {param({2, 1, 9}, 6)});
}

TEST_CASE("LayerNorm errors") {
    LayerNorm norm(4);
    std::string message = error_of([&] { norm(zeros({2, 3})); });
    CHECK(message.find("[LayerNorm]") == 0);
    CHECK(message.find("(..., 4)") != std::string::npos);
    CHECK(message.find("(2, 3)") != std::string::npos);
    CHECK(error_of([&] { LayerNorm(0); }).find("[LayerNorm] normalized_shape must be positive, got 0") == 0);
    CHECK(error_of([&] { LayerNorm(3, -1.0f); }).find("[LayerNorm] eps must not be negative, got -1") == 0);
}
