// Tests for core/anomaly: all_finite, check_finite, and anomaly mode naming the first op that
// produced a NaN or an infinity, in the forward or the backward, per thread.
#include "testing.hpp"

#include <cmath>
#include <limits>
#include <thread>

using namespace ag;
using ag::testing::kNaN;
using ag::testing::kInf;
using ag::testing::error_of;

namespace {
}  // namespace

TEST_CASE("all_finite: NaN and infinities anywhere, also past the first parallel chunk") {
    CHECK(all_finite(tensor({1.0f, -2.0f, 3e38f})));
    CHECK(all_finite(empty({0, 3})));
    CHECK_FALSE(all_finite(tensor({1.0f, kNaN})));
    CHECK_FALSE(all_finite(tensor({-kInf, 1.0f})));
    CHECK_FALSE(all_finite(full({}, kInf)));
    // 200,001 floats: several chunks of 65,536; the bad value is in the last, partial one
    Tensor big = zeros({200001});
    CHECK(all_finite(big));
    big.data()[200000] = kNaN;
    CHECK_FALSE(all_finite(big));
    big.data()[200000] = 0.0f;
    big.data()[70000] = -kInf;
    CHECK_FALSE(all_finite(big));
    CHECK(error_of([] { all_finite(Tensor()); }).find("[all_finite] the tensor is undefined") == 0);
}

TEST_CASE("check_finite: names the caller's label, the value and its index") {
    check_finite(tensor({1.0f, 2.0f}), "loss");  // no throw
    std::string message = error_of([] { check_finite(tensor({1.0f, 2.0f, kNaN, kInf}), "loss"); });
    CHECK(message == "[loss] non-finite value: nan at index 2 of shape (4,)");
    message = error_of([] { check_finite(tensor({{1.0f, -kInf}}), "grad of fc.weight"); });
    CHECK(message == "[grad of fc.weight] non-finite value: -inf at index 1 of shape (1, 2)");
}

TEST_CASE("anomaly mode: off by default, the guard restores the previous state") {
    CHECK_FALSE(detect_anomaly());
    Tensor x = tensor({0.0f, 1.0f}).requires_grad_();
    Tensor y = log(x);  // -inf, unnoticed
    CHECK(std::isinf(y.data()[0]));
    {
        AnomalyGuard on;
        CHECK(detect_anomaly());
        {
            AnomalyGuard off(false);
            CHECK_FALSE(detect_anomaly());
            CHECK(error_of([&] { log(x); }) == "");
        }
        CHECK(detect_anomaly());
    }
    CHECK_FALSE(detect_anomaly());
    set_detect_anomaly(true);
    CHECK(detect_anomaly());
    set_detect_anomaly(false);
    CHECK_FALSE(detect_anomaly());
}

TEST_CASE("anomaly mode: the forward names the first op that produced an infinity") {
    AnomalyGuard anomaly;
    Tensor x = tensor({1.0f, 0.5f, 0.0f}).requires_grad_();
    // mul is fine, log makes -inf at index 2, sum would pass it on: log must be blamed
    std::string message = error_of([&] { sum(log(x * 2.0f)); });
    CHECK(message == "[log] anomaly in the forward: -inf at index 2 of the output of shape (3,), from finite inputs");
    // the same in no-grad mode: inference is checked too
    NoGradGuard no_grad;
    CHECK(error_of([&] { exp(x * 100.0f); }).find("[exp] anomaly in the forward: inf at index 0") == 0);
}

TEST_CASE("anomaly mode: a NaN from finite inputs, and one that came from the data") {
    AnomalyGuard anomaly;
    Tensor a = tensor({1.0f, -1.0f}).requires_grad_();
    CHECK(error_of([&] { sqrt(a); }) ==
          "[sqrt] anomaly in the forward: nan at index 1 of the output of shape (2,), from finite inputs");
    Tensor bad = tensor({1.0f, kNaN}).requires_grad_();
    std::string message = error_of([&] { exp(bad); });
    CHECK(message.find("[exp] anomaly in the forward: nan at index 1") == 0);
    CHECK(message.find("input 0 already held a NaN") != std::string::npos);
}

TEST_CASE("anomaly mode: infinities passed on or written on purpose are not anomalies") {
    AnomalyGuard anomaly;
    Tensor x = tensor({{1.0f, 2.0f, 3.0f}}).requires_grad_();
    Tensor additive_mask = tensor({{0.0f, -kInf, 0.0f}});
    Tensor p = softmax(x + additive_mask);  // add passes -inf on; softmax makes it 0
    CHECK(p.data()[1] == 0.0f);
    Tensor masked = masked_fill(x, tensor({{0.0f, 0.0f, 1.0f}}), -kInf);  // on purpose
    CHECK(std::isinf(masked.data()[2]));
    sum(softmax(masked)).backward();  // finite gradients: no error
    // but -inf * 0 is NaN: a real anomaly, named at mul, with the input that held the infinity
    CHECK(error_of([&] { masked * 0.0f; }) ==
          "[mul] anomaly in the forward: nan at index 2 of the output of shape (1, 3), from an infinity in input 0");
    // a NaN fill is not "on purpose"
    CHECK(error_of([&] { masked_fill(x, ones({1, 3}), kNaN); }).find("[masked_fill] anomaly in the forward: nan") == 0);
}

TEST_CASE("anomaly mode: causal self-attention runs clean") {
    AnomalyGuard anomaly;
    Generator gen(3);
    MultiHeadAttention attention(8, 2, gen);
    Tensor x = ag::testing::param({2, 5, 8}, 4);
    AttentionOptions options;
    options.is_causal = true;
    Tensor loss = sum(attention(x, options).output);
    loss.backward();
    CHECK(all_finite(x.grad()));
}

TEST_CASE("anomaly mode: the backward names the op whose gradient went non-finite") {
    Tensor x = tensor({4.0f, 0.0f}).requires_grad_();
    Tensor y;
    {
        // sqrt(0) = 0 is finite; its gradient 1 / (2 sqrt(0)) is not
        AnomalyGuard anomaly;
        y = sum(sqrt(x) * 3.0f);
        std::string message = error_of([&] { y.backward(); });
        CHECK(message == "[sqrt] anomaly in the backward: inf at index 1 of the gradient of input 0, shape (2,) "
                         "(the incoming gradient was finite)");
    }
    // without anomaly mode the same backward just writes the infinity
    Tensor z = sum(sqrt(x) * 3.0f);
    z.backward();
    CHECK(std::isinf(x.grad().data()[1]));
}

TEST_CASE("anomaly mode: a non-finite gradient passed to backward is named") {
    AnomalyGuard anomaly;
    Tensor x = tensor({1.0f, 2.0f}).requires_grad_();
    Tensor y = x * 2.0f;
    CHECK(error_of([&] { y.backward(tensor({1.0f, kNaN})); }) ==
          "[backward] non-finite value: nan at index 1 of shape (2,)");
}

TEST_CASE("anomaly mode: per thread") {
    Tensor zero = tensor({0.0f});
    std::string other_thread;
    {
        AnomalyGuard anomaly;  // this thread only
        std::thread t([&] { other_thread = error_of([&] { log(zero); }); });
        t.join();
        CHECK(other_thread == "");
        CHECK(error_of([&] { log(zero); }).find("[log]") == 0);
    }
    std::thread t([&] {
        AnomalyGuard anomaly;
        other_thread = error_of([&] { log(zero); });
    });
    t.join();
    CHECK(other_thread.find("[log] anomaly in the forward") == 0);
    CHECK(error_of([&] { log(zero); }) == "");  // the other thread's guard did not reach here
}
