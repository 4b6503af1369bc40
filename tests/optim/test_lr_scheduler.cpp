// test_lr_scheduler.cpp: each schedule at a few steps worked by hand, and their validation.
#include "optim/lr_scheduler.hpp"
#include "optim/sgd.hpp"
#include "testing.hpp"

using namespace ag;
using namespace ag::testing;

TEST_CASE("WarmupDecay cosine: warmup, decay, floor") {
    // max 1, min 0.1, warmup 10, decay ends at 110 (100 steps of decay)
    WarmupDecay s(1.0, 0.1, 10, 110);
    CHECK(s.lr_at(0) == doctest::Approx(0.1));  // (0 + 1) / 10
    CHECK(s.lr_at(4) == doctest::Approx(0.5));  // (4 + 1) / 10
    CHECK(s.lr_at(9) == doctest::Approx(1.0));  // warmup reaches max at its last step
    CHECK(s.lr_at(10) == doctest::Approx(1.0)); // r = 0: c = 1
    // r = 25 / 100: c = (1 + cos(pi / 4)) / 2 = 0.8535534; 0.1 + 0.9 * c = 0.8681981
    CHECK(s.lr_at(35) == doctest::Approx(0.8681981));
    CHECK(s.lr_at(60) == doctest::Approx(0.55));  // r = 1/2: c = 1/2
    CHECK(s.lr_at(110) == doctest::Approx(0.1));
    CHECK(s.lr_at(100000) == doctest::Approx(0.1));
}

TEST_CASE("WarmupDecay linear and without warmup") {
    WarmupDecay s(1.0, 0.1, 10, 110, DecayShape::linear);
    CHECK(s.lr_at(35) == doctest::Approx(0.775));  // c = 1 - 0.25; 0.1 + 0.9 * 0.75
    CHECK(s.lr_at(60) == doctest::Approx(0.55));
    CHECK(s.lr_at(109) == doctest::Approx(0.109));  // c = 1 - 99/100
    WarmupDecay no_warmup(2.0, 0.0, 0, 4, DecayShape::linear);
    CHECK(no_warmup.lr_at(0) == 2.0);
    CHECK(no_warmup.lr_at(1) == 1.5);
    CHECK(no_warmup.lr_at(4) == 0.0);
}

TEST_CASE("StepDecay multiplies by gamma every step_size steps") {
    StepDecay s(0.1, 0.5, 10);
    CHECK(s.lr_at(0) == 0.1);
    CHECK(s.lr_at(9) == 0.1);
    CHECK(s.lr_at(10) == doctest::Approx(0.05));
    CHECK(s.lr_at(25) == doctest::Approx(0.025));
}

TEST_CASE("schedules drive an optimizer's groups through set_lr") {
    Tensor p = param({2}, 1);
    SGD opt({p}, {.lr = 1.0});
    WarmupDecay s(0.5, 0.05, 2, 6);
    opt.set_lr(s.lr_at(0));
    CHECK(opt.lr(0) == doctest::Approx(0.25));
    opt.set_lr(s.lr_at(1000));
    CHECK(opt.lr(0) == doctest::Approx(0.05));
}

TEST_CASE("schedules validate their arguments") {
    CHECK(error_of([] { WarmupDecay(0.0, 0.0, 1, 2); }) == "[WarmupDecay] max_lr must be positive and finite: got 0");
    CHECK(error_of([] { WarmupDecay(1.0, 2.0, 1, 2); }) == "[WarmupDecay] min_lr must be in [0, max_lr = 1]: got 2");
    CHECK(error_of([] { WarmupDecay(1.0, 0.0, -1, 2); }) == "[WarmupDecay] warmup_steps must be >= 0: got -1");
    CHECK(error_of([] { WarmupDecay(1.0, 0.0, 5, 5); }) ==
          "[WarmupDecay] decay_end must be after the warmup: got decay_end 5 and warmup_steps 5");
    CHECK(error_of([] { WarmupDecay(1.0, 0.0, 1, 2).lr_at(-1); }) == "[WarmupDecay] step must be >= 0: got -1");
    CHECK(error_of([] { StepDecay(0.1, 0.0, 10); }) == "[StepDecay] gamma must be positive and finite: got 0");
    CHECK(error_of([] { StepDecay(0.1, 0.5, 0); }) == "[StepDecay] step_size must be > 0: got 0");
    CHECK(error_of([] { StepDecay(-0.1, 0.5, 1); }) == "[StepDecay] lr must be positive and finite: got -0.1");
}
