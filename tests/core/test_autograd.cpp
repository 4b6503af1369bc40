// test_autograd.cpp: the engine: accumulation, broadcasting, shape checks, graph lifetime.
#include "testing.hpp"

#include <thread>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;

TEST_CASE("autograd: a small expression by hand") {
    // y = (a * b + a) ; dy/da = b + 1 = 4, dy/db = a = 2
    Tensor a = scalar(2.0f), b = scalar(3.0f);
    a.requires_grad_();
    b.requires_grad_();
    Tensor y = a * b + a;
    CHECK(y.item() == 8.0f);
    CHECK(y.grad_fn()->name() == "add");
    y.backward();
    CHECK(a.grad().item() == 4.0f);
    CHECK(b.grad().item() == 2.0f);
}

TEST_CASE("autograd: gradients accumulate across backward calls until zeroed") {
    Tensor x = scalar(3.0f);
    x.requires_grad_();
    (x * x).backward();  // 2x = 6
    (x * x).backward();
    CHECK(x.grad().item() == 12.0f);
    x.zero_grad();
    CHECK(x.grad().item() == 0.0f);
    (x * 2.0f).backward();
    CHECK(x.grad().item() == 2.0f);
}

TEST_CASE("autograd: a tensor used twice receives the sum of both paths") {
    Tensor x = tensor({1.0f, 2.0f});
    x.requires_grad_();
    Tensor y = x * x * x;  // dy/dx = 3x² = (3, 12)
    y.backward(ones({2}));
    check_close(x.grad(), tensor({3.0f, 12.0f}));
}

TEST_CASE("autograd: adding into a pending gradient in place never changes another's") {
    // c = a + b hands the same dout tensor to a and to b; their other contributions (from a · 5
    // and b · 7) must then go into copies, or each would show up in the other's gradient too.
    // x.grad = 2 · (1 + 5) + 3 · (1 + 7) = 36. Both operand orders of the sum, which change the
    // order the engine visits the nodes in.
    for (bool c_first : {true, false}) {
        CAPTURE(c_first);
        Tensor x = tensor({1.0f, -2.0f});
        x.requires_grad_();
        Tensor a = x * 2.0f, b = x * 3.0f;
        Tensor c = a + b, d = a * 5.0f + b * 7.0f;
        (c_first ? c + d : d + c).backward(ones({2}));
        check_close(x.grad(), tensor({36.0f, 36.0f}));
    }
}

TEST_CASE("autograd: the engine sums broadcast gradients back to the input's shape") {
    Tensor x = ones({2, 3});
    Tensor bias = tensor({1.0f, 2.0f, 3.0f});
    Tensor s = scalar(2.0f);
    x.requires_grad_();
    bias.requires_grad_();
    s.requires_grad_();
    Tensor y = (x + bias) * s;  // (2, 3)
    y.backward(ones({2, 3}));
    check_close(x.grad(), full({2, 3}, 2.0f));
    check_close(bias.grad(), full({3}, 4.0f));  // two rows, times s = 2
    // dy/ds = Σ (x + bias) = 2 * (2 + 3 + 4) = 18
    CHECK(s.grad().item() == 18.0f);
}

TEST_CASE("autograd: sum_to reduces leading and size-1 dimensions") {
    Tensor g = arange(12);
    Tensor g3 = tensor(g.to_vector(), Shape{2, 3, 2});
    // NOTE: tensor({{14}, {22}, {30}}) would be ambiguous (1-D list of braced floats, or 2-D): spell the shape
    check_close(sum_to(g3, Shape{3, 1}, "t"), tensor({0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11}, Shape{3, 1}));
    check_close(sum_to(g3, Shape{2}, "t"), tensor({30.0f, 36.0f}));
    // trailing dimensions (the block-sum fast path), with and without a leading 1
    check_close(sum_to(g3, Shape{3, 2}, "t"), tensor({0 + 6, 1 + 7, 2 + 8, 3 + 9, 4 + 10, 5 + 11}, Shape{3, 2}));
    check_close(sum_to(g3, Shape{1, 1, 2}, "t"), tensor({30.0f, 36.0f}, Shape{1, 1, 2}));
    CHECK(sum_to(g3, Shape{}, "t").item() == 66.0f);
    CHECK(error_of([&] { sum_to(g3, Shape{4, 2}, "mul"); }) ==
          "[mul] gradient of shape (2, 3, 2) cannot be summed to the input's shape (4, 2)");
}

TEST_CASE("autograd: a backward returning a wrongly shaped gradient is named in the error") {
    Tensor x = ones({2, 3});
    x.requires_grad_();
    Tensor out = clone_data(x);
    record(out, "broken_op", {x}, [](const Tensor&, const Tensor&) -> Grads { return {ones({3, 2})}; });
    CHECK(error_of([&] { out.backward(ones({2, 3})); }) ==
          "[broken_op] gradient of shape (3, 2) cannot be summed to the input's shape (2, 3)");

    Tensor out2 = clone_data(x);
    record(out2, "wrong_count", {x}, [](const Tensor&, const Tensor&) -> Grads { return {}; });
    CHECK(error_of([&] { out2.backward(ones({2, 3})); }) == "[wrong_count] backward returned 0 gradients for 1 inputs");
}

TEST_CASE("autograd: backward of a non-scalar needs an explicit gradient") {
    Tensor x = ones({2});
    x.requires_grad_();
    Tensor y = x * 2.0f;
    CHECK(error_of([&] { y.backward(); }) ==
          "[backward] grad can be implicitly created only for one-element outputs: got shape (2,); pass a gradient");
    CHECK(error_of([&] { y.backward(ones({3})); }) == "[backward] gradient shape (3,) does not match output shape (2,)");
    CHECK(error_of([] { ones({1}).backward(); }) == "[backward] the tensor does not require grad and has no grad_fn");
}

TEST_CASE("autograd: the graph is freed after backward unless retain_graph") {
    Tensor x = scalar(1.5f);
    x.requires_grad_();
    Tensor y = x * x;
    y.backward(/*retain_graph=*/true);
    y.backward();  // still there
    CHECK(x.grad().item() == 6.0f);
    CHECK(error_of([&] { y.backward(); }).find("[backward] the graph through 'mul' was already freed") == 0);
}

TEST_CASE("autograd: a chain of 100,000 ops backpropagates without recursion") {
    Tensor x = scalar(1.0f);
    x.requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1e-5f;
    y.backward();
    CHECK(x.grad().item() == 1.0f);
    CHECK(y.item() == doctest::Approx(2.0).epsilon(1e-3));
}

TEST_CASE("autograd: no leaks: nodes are freed by backward and by dropping the graph") {
    int64_t before = live_nodes();
    {
        Tensor a = tensor({1.0f, 2.0f, 3.0f});
        a.requires_grad_();
        Tensor h = a * a;
        Tensor loss = (h / (a + 1.0f) - a) * 3.0f;
        CHECK(live_nodes() - before == 5);  // mul, add, div, sub, mul
        loss.backward(ones({3}));
        // backward released every node; only the root's (now empty) node is still owned, by `loss`
        // and `h`'s by h
        CHECK(live_nodes() - before <= 2);
    }
    CHECK(live_nodes() == before);
    {
        // a graph that is never backpropagated is freed with its tensors: no cycles
        Tensor a = ones({4});
        a.requires_grad_();
        Tensor y = a * a + a;
        CHECK(live_nodes() > before);
    }
    CHECK(live_nodes() == before);
}

TEST_CASE("autograd: NoGradGuard stops recording, per thread, and restores") {
    Tensor x = ones({2});
    x.requires_grad_();
    {
        NoGradGuard guard;
        CHECK_FALSE(grad_enabled());
        Tensor y = x * 2.0f;
        CHECK_FALSE(y.requires_grad());
        CHECK(y.is_leaf());
        {
            NoGradGuard nested;
        }
        CHECK_FALSE(grad_enabled());  // the inner guard restores "off", not "on"
    }
    CHECK(grad_enabled());
    CHECK((x * 2.0f).requires_grad());
}

TEST_CASE("autograd: detach cuts the graph and shares storage") {
    Tensor x = tensor({1.0f, 2.0f});
    x.requires_grad_();
    Tensor y = x * 3.0f;
    Tensor d = y.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.is_leaf());
    CHECK(d.data() == y.data());
    Tensor z = d * x;  // gradient reaches x only through the second factor
    z.backward(ones({2}));
    check_close(x.grad(), tensor({3.0f, 6.0f}));
}

TEST_CASE("autograd: inputs that do not require grad get no gradient and no node") {
    Tensor x = ones({2});
    Tensor y = x * 2.0f;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    Tensor w = ones({2});
    w.requires_grad_();
    Tensor z = x * w;
    z.backward(ones({2}));
    CHECK_FALSE(x.grad().defined());
    CHECK(w.grad().defined());
}

TEST_CASE("autograd: requires_grad_ only on leaves") {
    Tensor x = ones({2});
    x.requires_grad_();
    Tensor y = x * 2.0f;
    CHECK(error_of([&] { y.requires_grad_(false); }).find("[requires_grad_] only a leaf") == 0);
}

TEST_CASE("autograd: a leaf's first gradient is its own copy, not an alias") {
    // add's backward hands the same dout to both inputs; accumulating into one must not change the other
    Tensor a = ones({2}), b = ones({2});
    a.requires_grad_();
    b.requires_grad_();
    (a + b).backward(ones({2}));
    CHECK(a.grad().data() != b.grad().data());
    (a * 5.0f).backward(ones({2}));
    check_close(a.grad(), full({2}, 6.0f));
    check_close(b.grad(), full({2}, 1.0f));
}

TEST_CASE("autograd: grad mode is per thread") {
    NoGradGuard guard;  // off on this thread only
    bool other_thread_records = false;
    std::thread other([&] {
        Tensor x = ones({2});
        x.requires_grad_();
        other_thread_records = grad_enabled() && (x * 2.0f).requires_grad();
    });
    other.join();
    CHECK(other_thread_records);
    CHECK_FALSE(grad_enabled());
}

TEST_CASE("autograd: a leaf takes over a gradient nothing else sees, and copies a shared one") {
    // exp's backward makes a fresh tensor: the leaf's grad is that buffer (no copy); still right
    Tensor x = tensor({0.0f, 1.0f});
    x.requires_grad_();
    sum(exp(x)).backward();
    check_close(x.grad(), tensor({1.0f, std::exp(1.0f)}));
    // add's backward returns dout for both inputs: each leaf must get its own buffer, so scaling
    // one in place (as clip_grad_norm does) leaves the other alone
    Tensor a = tensor({1.0f, 2.0f}), b = tensor({3.0f, 4.0f});
    a.requires_grad_(), b.requires_grad_();
    sum(a + b).backward();
    CHECK(a.grad().data() != b.grad().data());
    a.grad().data()[0] = 5.0f;
    CHECK(b.grad().to_vector() == std::vector<float>{1.0f, 1.0f});
    // and a second backward accumulates into the taken-over buffer
    sum(exp(x)).backward();
    check_close(x.grad(), tensor({2.0f, 2.0f * std::exp(1.0f)}));
}
