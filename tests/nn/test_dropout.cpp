// test_dropout.cpp: the Dropout module: training vs evaluation, its generator, errors.
#include "testing.hpp"

#include "nn/dropout.hpp"

using namespace ag;
using ag::testing::error_of;

TEST_CASE("Dropout drops in training and is the identity in evaluation") {
    Generator gen(7), reference(7);
    Dropout drop(0.25f, gen);
    Tensor x = ones({4, 50});

    // training: the op's mask from the module's generator, kept values scaled by 1 / 0.75
    Tensor out = drop(x);
    CHECK(out.to_vector() == dropout(x, 0.25f, true, reference).to_vector());
    CHECK(gen.offset() == 50);  // 200 elements = 50 Philox blocks
    int64_t kept = 0;
    for (float v : out.to_vector()) {
        CHECK((v == 0.0f || v == doctest::Approx(1.0f / 0.75f)));
        kept += v != 0.0f;
    }
    CHECK(kept > 120);  // about 150 of 200
    CHECK(kept < 180);

    // evaluation: the same tensor, and no numbers drawn
    drop.eval();
    CHECK(drop(x).impl() == x.impl());
    CHECK(gen.offset() == 50);
    CHECK(drop.num_parameters() == 0);
}

TEST_CASE("Dropout resumes exactly from a saved generator state") {
    Generator gen(3);
    Dropout drop(0.5f, gen);
    Tensor x = ones({33});
    drop(x);
    const uint64_t seed = gen.seed(), offset = gen.offset();
    Tensor next = drop(x);
    gen.set_state(seed, offset);
    CHECK(drop(x).to_vector() == next.to_vector());
}

TEST_CASE("Dropout errors") {
    Generator gen(0);
    std::string message = error_of([&] { Dropout(1.5f, gen); });
    CHECK(message.find("[Dropout]") == 0);
    CHECK(message.find("got 1.5") != std::string::npos);
    Dropout drop(0.5f, gen);
    CHECK(error_of([&] { drop(Tensor()); }).find("[Dropout] input is an undefined tensor") == 0);
}
