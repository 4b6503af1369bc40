// Bad inputs to optimizers, gradient clipping and learning-rate schedules.
#include "reliability/bad_input.hpp"

#include <limits>

using namespace ag;
using ag::testing::kNaN;
using ag::testing::kInf;
using ag::testing::expect_error;

namespace {

std::vector<Tensor> params() { return {ag::testing::param({2, 3}, 1), ag::testing::param({3}, 2)}; }

SGDOptions sgd(double lr) {
    SGDOptions o;
    o.lr = lr;
    return o;
}
AdamOptions adam(double lr) {
    AdamOptions o;
    o.lr = lr;
    return o;
}
}  // namespace

TEST_CASE("bad optim: learning rates") {
    for (double lr : {0.0, -1e-3, double(kNaN), double(kInf)}) {
        INFO("lr = ", lr);
        std::string value = fmt::format("{}", lr);
        expect_error([&] { SGD(params(), sgd(lr)); }, {"[SGD]", "learning rate", value});
        expect_error([&] { Adam(params(), adam(lr)); }, {"[Adam]", "learning rate", value});
        expect_error([&] { AdamW(params(), adam(lr)); }, {"[AdamW]", "learning rate", value});
    }
    Adam optimizer(params(), adam(1e-3));
    expect_error([&] { optimizer.set_lr(kNaN); }, {"[Adam]", "nan"});
    expect_error([&] { optimizer.set_lr(-1.0); }, {"[Adam]", "-1"});
    expect_error([&] { optimizer.set_lr(1, 0.1); }, {"[Adam]", "group 1", "1 groups"});
    expect_error([&] { optimizer.lr(-1); }, {"[Adam]", "group -1"});
}

TEST_CASE("bad optim: betas, eps, momentum, weight decay") {
    auto adam_with = [](auto set) {
        AdamOptions o;
        set(o);
        return o;
    };
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.beta1 = 1.0; })); }, {"[Adam]", "beta1", "1"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.beta1 = -0.1; })); }, {"[Adam]", "beta1", "-0.1"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.beta1 = kNaN; })); }, {"[Adam]", "beta1", "nan"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.beta2 = 1.5; })); }, {"[Adam]", "beta2", "1.5"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.beta2 = kNaN; })); }, {"[Adam]", "beta2", "nan"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.eps = 0.0; })); }, {"[Adam]", "eps", "0"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.eps = -1e-8; })); }, {"[Adam]", "eps", "-1e-08"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.eps = kNaN; })); }, {"[Adam]", "eps", "nan"});
    expect_error([&] { AdamW(params(), adam_with([](AdamOptions& o) { o.weight_decay = -0.01; })); },
                 {"[AdamW]", "weight_decay", "-0.01"});
    expect_error([&] { Adam(params(), adam_with([](AdamOptions& o) { o.weight_decay = kInf; })); },
                 {"[Adam]", "weight_decay", "inf"});
    SGDOptions o;
    o.momentum = -0.9;
    expect_error([&] { SGD(params(), o); }, {"[SGD]", "momentum", "-0.9"});
    o = SGDOptions{};
    o.dampening = 1.5;
    expect_error([&] { SGD(params(), o); }, {"[SGD]", "dampening", "1.5"});
    o = SGDOptions{};
    o.weight_decay = kNaN;
    expect_error([&] { SGD(params(), o); }, {"[SGD]", "weight_decay", "nan"});
    o = SGDOptions{};
    o.nesterov = true;
    expect_error([&] { SGD(params(), o); }, {"[SGD]", "nesterov"});
}

TEST_CASE("bad optim: parameter lists") {
    expect_error([] { SGD({}, sgd(0.1)); }, {"[SGD]", "empty parameter list"});
    expect_error([] { Adam({Tensor()}, adam(0.1)); }, {"[Adam]", "parameter 0 of group 0 is undefined"});
    Tensor p = ag::testing::param({3}, 1);
    expect_error([&] { Adam({p, p * 2.0f}, adam(0.1)); }, {"[Adam]", "parameter 1", "not a leaf", "mul"});
    expect_error([&] { SGD({p, p}, sgd(0.1)); }, {"[SGD]", "parameter 1", "more than once"});
    expect_error([&] { clip_grad_norm({p}, 0.0); }, {"[clip_grad_norm]", "max_norm", "0"});
    expect_error([&] { clip_grad_norm({p}, kNaN); }, {"[clip_grad_norm]", "nan"});
    expect_error([&] { clip_grad_norm({p}, -1.0); }, {"[clip_grad_norm]", "-1"});
}

TEST_CASE("bad optim: schedules") {
    expect_error([] { WarmupDecay(0.0, 0.0, 10, 100); }, {"[WarmupDecay]", "max_lr", "0"});
    expect_error([] { WarmupDecay(kNaN, 0.0, 10, 100); }, {"[WarmupDecay]", "max_lr", "nan"});
    expect_error([] { WarmupDecay(1e-3, 1e-2, 10, 100); }, {"[WarmupDecay]", "min_lr", "0.01"});
    expect_error([] { WarmupDecay(1e-3, kNaN, 10, 100); }, {"[WarmupDecay]", "min_lr", "nan"});
    expect_error([] { WarmupDecay(1e-3, 0.0, -1, 100); }, {"[WarmupDecay]", "warmup_steps", "-1"});
    expect_error([] { WarmupDecay(1e-3, 0.0, 100, 100); }, {"[WarmupDecay]", "decay_end 100"});
    expect_error([] { WarmupDecay(1e-3, 0.0, 10, 100).lr_at(-1); }, {"[WarmupDecay]", "step", "-1"});
    expect_error([] { StepDecay(0.0, 0.5, 10); }, {"[StepDecay]", "lr", "0"});
    expect_error([] { StepDecay(0.1, -0.5, 10); }, {"[StepDecay]", "gamma", "-0.5"});
    expect_error([] { StepDecay(0.1, 0.5, 0); }, {"[StepDecay]", "step_size", "0"});
    expect_error([] { StepDecay(0.1, 0.5, 10).lr_at(-3); }, {"[StepDecay]", "-3"});
}

TEST_CASE("bad optim: optimizer state from another optimizer or model") {
    std::vector<Tensor> ps = params();
    Adam adam_opt(ps, adam(1e-3));
    SGD sgd_opt(ps, sgd(0.1));
    // one step so that Adam has buffers
    for (Tensor& p : ps) p.set_grad(ones(p.shape()));
    adam_opt.step();
    StateDict adam_state = adam_opt.state_dict();
    expect_error([&] { sgd_opt.load_state_dict(adam_state); }, {"[SGD.load_state_dict]", "saved by Adam, not SGD"});
    // the same optimizer over parameters of other shapes
    std::vector<Tensor> other = {ag::testing::param({3, 3}, 3), ag::testing::param({3}, 4)};
    Adam other_opt(other, adam(1e-3));
    expect_error([&] { other_opt.load_state_dict(adam_state); }, {"[Adam.load_state_dict]", "state.0", "(2, 3)"});
    // fewer parameters
    Adam short_opt({ag::testing::param({2, 3}, 5)}, adam(1e-3));
    expect_error([&] { short_opt.load_state_dict(adam_state); }, {"[Adam.load_state_dict]", "2", "1"});
    // a corrupted step count
    StateDict bad_step = adam_state;
    bad_step.metadata["state.0.step"] = "-4";
    expect_error([&] { adam_opt.load_state_dict(bad_step); }, {"[Adam.load_state_dict]", "step", "-4"});
    bad_step.metadata["state.0.step"] = "1x";
    expect_error([&] { adam_opt.load_state_dict(bad_step); }, {"[Adam.load_state_dict]", "1x"});
    StateDict no_name = adam_state;
    no_name.metadata.erase("optimizer");
    expect_error([&] { adam_opt.load_state_dict(no_name); }, {"[Adam.load_state_dict]", "'optimizer' is missing"});
    StateDict bad_lr = adam_state;
    for (auto& [key, value] : bad_lr.metadata)
        if (key.find("lr") != std::string::npos) value = "nan";
    expect_error([&] { adam_opt.load_state_dict(bad_lr); }, {"[Adam.load_state_dict]", "learning rate", "nan"});
}
