// test_format.cpp: printing in PyTorch's style.
#include "testing.hpp"

using namespace ag;

TEST_CASE("format: integers, fixed and scientific styles, with the shape") {
    CHECK(fmt::format("{}", tensor({1, 2, 3})) == "tensor([1., 2., 3.], shape=(3,))");
    CHECK(fmt::format("{}", tensor({{1.5f, -2.0f}, {0.25f, 4.0f}})) ==
          "tensor([[ 1.5000, -2.0000],\n        [ 0.2500,  4.0000]], shape=(2, 2))");
    CHECK(fmt::format("{}", tensor({1e-5f, 1.0f})) == "tensor([1.0000e-05, 1.0000e+00], shape=(2,))");
    CHECK(fmt::format("{}", scalar(2.5f)) == "tensor(2.5000, shape=())");
    CHECK(fmt::format("{}", zeros({0})) == "tensor([], shape=(0,))");
    CHECK(fmt::format("{}", tensor({NAN, INFINITY, 1.0f})) == "tensor([nan, inf,  1.], shape=(3,))");
}

TEST_CASE("format: shows requires_grad and grad_fn") {
    Tensor x = ones({2});
    x.requires_grad_();
    CHECK(fmt::format("{}", x) == "tensor([1., 1.], shape=(2,), requires_grad=True)");
    CHECK(fmt::format("{}", x * x) == "tensor([1., 1.], shape=(2,), grad_fn=<mul>)");
}

TEST_CASE("format: long tensors are abbreviated along every dimension") {
    std::string s = fmt::format("{}", arange(2000));
    CHECK(s == "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=(2000,))");
    std::string m = to_string(zeros({100, 100}));
    CHECK(m.find("...") != std::string::npos);
    CHECK(m.size() < 400);
    CHECK(m.find("shape=(100, 100)") != std::string::npos);
}
