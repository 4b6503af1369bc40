// test_sequential.cpp: chaining layers, naming them "0", "1", ..., typed access, errors.
#include "testing.hpp"

#include "nn/activation.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"

#include <algorithm>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;

TEST_CASE("Sequential applies its layers in order (hand-computed)") {
    Generator gen(0);
    Sequential model(Linear(2, 2, gen), ReLU(), Linear(2, 1, gen, false));
    Linear& first = model.at<Linear>(0);
    std::copy_n(tensor({{1, -1}, {-1, 1}}).data(), 4, first.weight().data());
    std::fill_n(first.bias().data(), 2, 0.0f);
    std::copy_n(tensor({{2, 3}}).data(), 2, model.at<Linear>(2).weight().data());
    // x = (3, 1): first (2, -2), relu (2, 0), last 2·2 + 3·0 = 4
    // x = (1, 3): first (-2, 2), relu (0, 2), last 0 + 3·2 = 6
    check_close(model(tensor({{3, 1}, {1, 3}})), tensor({4, 6}, Shape{2, 1}), 0.0f, 0.0f);
    CHECK(model.size() == 3);
}

TEST_CASE("Sequential names its children by position") {
    Generator gen(0);
    Sequential model(Linear(3, 4, gen), GELU(), Dropout(0.1f, gen));
    model.push_back(Linear(4, 2, gen, false)).weight();  // push_back returns the layer it now owns
    std::vector<std::string> names;
    for (const NamedTensor& p : model.named_parameters()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "3.weight"});
    CHECK(model.num_parameters() == 12 + 4 + 8);
}

TEST_CASE("Sequential without layers is the identity") {
    Sequential empty_model;
    Tensor x = tensor({1, 2});
    CHECK(empty_model(x).impl() == x.impl());
    CHECK(empty_model.num_parameters() == 0);
}

TEST_CASE("Sequential gradcheck through Linear, GELU, Linear") {
    Generator gen(4);
    Sequential model(Linear(3, 5, gen), GELU(), Linear(5, 2, gen));
    std::vector<Tensor> inputs = {ag::testing::param({4, 3}, 1)};
    for (const Tensor& p : model.parameters()) inputs.push_back(p);
    CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return model(in[0]); }, inputs);
}

TEST_CASE("Sequential errors") {
    Generator gen(0);
    Sequential model(Linear(3, 4, gen), ReLU());
    std::string message = error_of([&] { model[2]; });
    CHECK(message.find("[Sequential] index 2 out of range for 2 layers") == 0);
    CHECK(error_of([&] { model.at<Linear>(1); }).find("[Sequential] layer 1 is not of the requested type") == 0);
    // a layer's own error passes through
    CHECK(error_of([&] { model(zeros({2, 5})); }).find("[Linear]") == 0);
}
