// test_sgd.cpp: SGD steps worked by hand (plain, weight decay, momentum, dampening, nesterov),
// option validation, and a state dict that resumes training exactly.
#include "optim/sgd.hpp"
#include "testing.hpp"
#include "temp_dir.hpp"

using namespace ag;
using ag::testing::param_with_grad;
using namespace ag::testing;

namespace {

// Sets p's gradient to `values`.
void set_grad(const Tensor& p, std::initializer_list<float> values) { p.set_grad(tensor(values)); }

}  // namespace

TEST_CASE("SGD plain step: p = p - lr * g") {
    // lr 0.1: [1, -2] - 0.1 * [0.5, 1] = [0.95, -2.1]
    Tensor p = param_with_grad({1, -2}, {0.5f, 1});
    SGD opt({p}, {.lr = 0.1});
    opt.step();
    check_close(p, tensor({0.95f, -2.1f}));
}

TEST_CASE("SGD weight decay adds wd * p to the gradient") {
    // g = 0.5 + 0.1 * 2 = 0.7; p = 2 - 0.1 * 0.7 = 1.93
    Tensor p = param_with_grad({2}, {0.5f});
    SGD opt({p}, {.lr = 0.1, .weight_decay = 0.1});
    opt.step();
    check_close(p, tensor({1.93f}));
}

TEST_CASE("SGD momentum: the buffer starts as the first gradient") {
    // lr 0.1, mu 0.9, g = 1 every step:
    //   step 1: buf = 1                  p = 1    - 0.1 * 1    = 0.9
    //   step 2: buf = 0.9 * 1   + 1 = 1.9   p = 0.9  - 0.1 * 1.9  = 0.71
    //   step 3: buf = 0.9 * 1.9 + 1 = 2.71  p = 0.71 - 0.1 * 2.71 = 0.439
    Tensor p = param_with_grad({1}, {1});
    SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
    for (float expected : {0.9f, 0.71f, 0.439f}) {
        opt.step();
        check_close(p, tensor({expected}));
    }
}

TEST_CASE("SGD dampening is not applied on the first step") {
    // mu 0.9, dampening 0.5, g = 1: step 1 buf = 1 (not 0.5), p = 0.9;
    // step 2 buf = 0.9 * 1 + 0.5 * 1 = 1.4, p = 0.9 - 0.14 = 0.76
    Tensor p = param_with_grad({1}, {1});
    SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
    opt.step();
    check_close(p, tensor({0.9f}));
    opt.step();
    check_close(p, tensor({0.76f}));
}

TEST_CASE("SGD nesterov looks ahead: g = g + mu * buf") {
    // mu 0.9, g = 1: step 1 buf = 1,   g = 1 + 0.9 * 1   = 1.9,  p = 1    - 0.19  = 0.81
    //                step 2 buf = 1.9, g = 1 + 0.9 * 1.9 = 2.71, p = 0.81 - 0.271 = 0.539
    Tensor p = param_with_grad({1}, {1});
    SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    opt.step();
    check_close(p, tensor({0.81f}));
    opt.step();
    check_close(p, tensor({0.539f}));
}

TEST_CASE("SGD skips parameters without a gradient, and their momentum starts later") {
    Tensor a = param_with_grad({1}, {1});
    Tensor b = tensor({5.0f});
    b.requires_grad_();
    SGD opt({a, b}, {.lr = 0.1, .momentum = 0.9});
    opt.step();
    check_close(b, tensor({5.0f}), 0, 0);
    CHECK(opt.state_dict().find("state.1.momentum_buffer") == nullptr);
    // b's first step with a gradient initialises its buffer to that gradient: p = 5 - 0.1 * 2
    set_grad(b, {2});
    opt.step();
    check_close(b, tensor({4.8f}));
}

TEST_CASE("SGD kernel on its own: sgd_update_reference") {
    // two elements, wd 0.5, mu 0.5, later step: g = [1, 2] + 0.5 * [2, 4] = [2, 4];
    // buf = 0.5 * [1, 1] + 1 * [2, 4] = [2.5, 4.5]; p = [2, 4] - 0.1 * [2.5, 4.5] = [1.75, 3.55]
    float p[2] = {2, 4}, buf[2] = {1, 1};
    const float g[2] = {1, 2};
    sgd_update_reference(p, buf, g, 2, {.lr = 0.1, .momentum = 0.5, .dampening = 0, .weight_decay = 0.5,
                                        .nesterov = false, .first_step = false});
    CHECK(buf[0] == doctest::Approx(2.5));
    CHECK(buf[1] == doctest::Approx(4.5));
    CHECK(p[0] == doctest::Approx(1.75));
    CHECK(p[1] == doctest::Approx(3.55));
}

TEST_CASE("SGD validates its options, naming the optimizer and the value") {
    Tensor p = param_with_grad({1}, {1});
    auto error = [&](SGDOptions o) { return error_of([&] { SGD({p}, o); }); };
    CHECK(error({.lr = -0.1}) == "[SGD] learning rate must be positive and finite: got -0.1");
    CHECK(error({.lr = 0}) == "[SGD] learning rate must be positive and finite: got 0");
    CHECK(error({.lr = std::nan("")}) == "[SGD] learning rate must be positive and finite: got nan");
    CHECK(error({.lr = 0.1, .momentum = -0.5}) == "[SGD] momentum must be >= 0: got -0.5");
    CHECK(error({.lr = 0.1, .dampening = 2}) == "[SGD] dampening must be in [0, 1]: got 2");
    CHECK(error({.lr = 0.1, .weight_decay = -1}) == "[SGD] weight_decay must be >= 0: got -1");
    CHECK(error({.lr = 0.1, .nesterov = true}) ==
          "[SGD] nesterov momentum needs momentum > 0 and dampening 0: got momentum 0 and dampening 0");
    CHECK(error({.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}) ==
          "[SGD] nesterov momentum needs momentum > 0 and dampening 0: got momentum 0.9 and dampening 0.1");
    CHECK(error({.lr = 0.1, .momentum = 0.9, .nesterov = true}).empty());
}

TEST_CASE("SGD state_dict round trip through safetensors resumes identically") {
    // Run A: 5 steps straight. Run B: 3 steps, save params and state to disk, rebuild a fresh
    // optimizer from the files, 2 more steps. Both must end bit-for-bit equal.
    auto grads = [](int step) { return tensor({0.5f * static_cast<float>(step) - 1.0f, 0.25f, -2.0f}); };
    SGDOptions options{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true};

    Tensor a = param({3}, 7);
    SGD opt_a({a}, options);
    for (int s = 0; s < 5; ++s) {
        a.set_grad(grads(s));
        opt_a.step();
    }

    TempDir dir;
    Tensor b = param({3}, 7);
    {
        SGD opt_b({b}, options);
        for (int s = 0; s < 3; ++s) {
            b.set_grad(grads(s));
            opt_b.step();
        }
        save_safetensors(dir.path("opt.safetensors"), opt_b.state_dict());
        save_safetensors(dir.path("model.safetensors"), {{{"b", b}}, {}});
    }
    Tensor c = zeros({3});
    c.requires_grad_();
    load_safetensors_into(dir.path("model.safetensors"), {{"b", c}});
    SGD opt_c({c}, {.lr = 1.0});  // options come from the state
    opt_c.load_state_dict(load_safetensors(dir.path("opt.safetensors")));
    CHECK(opt_c.group(0).options.nesterov);
    CHECK(opt_c.lr(0) == 0.05);
    for (int s = 3; s < 5; ++s) {
        c.set_grad(grads(s));
        opt_c.step();
    }
    CHECK(c.to_vector() == a.to_vector());
}
