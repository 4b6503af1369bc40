// test_gradcheck.cpp: gradcheck itself must catch wrong gradients, not only pass right ones.
#include "testing.hpp"

using namespace ag;

namespace {
// x² with a deliberately wrong backward (d = x instead of 2x), recorded by hand
Tensor bad_square(const Tensor& x) {
    Tensor out = empty(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = x.data()[i] * x.data()[i];
    record(out, "bad_square", {x}, [x](const Tensor&, const Tensor& dout) -> Grads { return {dout * x}; });
    return out;
}
// a backward that forgets its input entirely
Tensor forgetful(const Tensor& x) {
    Tensor out = clone_data(x);
    record(out, "forgetful", {x}, [](const Tensor&, const Tensor&) -> Grads { return {Tensor()}; });
    return out;
}
}  // namespace

TEST_CASE("gradcheck: passes a correct gradient") {
    Tensor x = ag::testing::param({7}, 1);
    Tensor y = ag::testing::param({7}, 2);
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return in[0] * in[1] + in[0]; }, {x, y});
}

TEST_CASE("gradcheck: catches a wrong gradient and says where") {
    Tensor x = ag::testing::param({5}, 3);
    GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return bad_square(in[0]); }, {x});
    CHECK_FALSE(r.ok);
    CHECK(r.message.find("input 0 (shape (5,)) element") == 0);
}

TEST_CASE("gradcheck: catches a missing gradient") {
    Tensor x = ag::testing::param({3}, 4);
    GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return forgetful(in[0]); }, {x});
    CHECK_FALSE(r.ok);
    CHECK(r.message.find("(no gradient)") != std::string::npos);
}

TEST_CASE("gradcheck: inputs without requires_grad are left alone") {
    Tensor x = ag::testing::param({4}, 5);
    Tensor c = tensor({1.0f, 2.0f, 3.0f, 4.0f});
    CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return in[0] * in[1]; }, {x, c});
    CHECK_FALSE(c.grad().defined());
}

TEST_CASE("gradcheck: restores the inputs it perturbs") {
    Tensor x = ag::testing::param({6}, 6);
    std::vector<float> before = x.to_vector();
    (void)gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x});
    CHECK(x.to_vector() == before);
}
