// test_loss.cpp: mse_loss and the loss modules (cross_entropy itself is tested in tests/ops).
#include "testing.hpp"

#include "nn/loss.hpp"

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

TEST_CASE("mse_loss (hand-computed)") {
    Tensor input = tensor({{1, 2}, {3, 4}});
    Tensor target = tensor({{0, 2}, {5, 3}});
    // squared differences (1, 0, 4, 1): sum 6, mean 1.5
    check_close(mse_loss(input, target), scalar(1.5f), 0.0f, 0.0f);
    check_close(mse_loss(input, target, Reduction::Sum), scalar(6), 0.0f, 0.0f);
    check_close(mse_loss(input, target, Reduction::None), tensor({{1, 0}, {4, 1}}), 0.0f, 0.0f);
    check_close(MSELoss(Reduction::Sum)(input, target), scalar(6), 0.0f, 0.0f);
}

TEST_CASE("mse_loss gradients (hand-computed) and gradcheck") {
    Tensor input = tensor({1, 2, 3, 4}).requires_grad_();
    Tensor target = tensor({0, 2, 5, 3}).requires_grad_();
    mse_loss(input, target).backward();
    // d/dinput = 2 (input - target) / n = (2, 0, -4, 2) / 4; d/dtarget is its negative
    check_close(input.grad(), tensor({0.5f, 0, -1, 0.5f}), 0.0f, 0.0f);
    check_close(target.grad(), tensor({-0.5f, 0, 1, -0.5f}), 0.0f, 0.0f);

    // NOTE: inputs scaled by 0.5: the float sum of 21 squares of N(0, 2) differences is ~40, whose
    // rounding (~3e-6) divided by 2 eps would alone exceed gradcheck's tolerance
    for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        CAPTURE(static_cast<int>(r));
        CHECK_GRADCHECK([r](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], r); },
                        {param({3, 7}, 1, 0.5f), param({3, 7}, 2, 0.5f)});
    }
}

TEST_CASE("CrossEntropyLoss equals cross_entropy with its options") {
    Tensor logits = param({5, 4}, 3);
    Tensor targets = tensor({0, 3, 1, -100, 2});
    CrossEntropyOptions options;
    options.label_smoothing = 0.1f;
    options.weight = tensor({1, 2, 0.5f, 1});
    CrossEntropyLoss loss(options);
    check_close(loss(logits, targets), cross_entropy(logits, targets, options), 0.0f, 0.0f);
    CHECK(CrossEntropyLoss()(logits, targets).item() == cross_entropy(logits, targets).item());

    SUBCASE("the class weights are a buffer: in the state dict, not among the parameters") {
        CHECK(loss.num_parameters() == 0);
        StateDict state = loss.state_dict();
        REQUIRE(state.tensors.size() == 1);
        CHECK(state.tensors[0].name == "weight");
        CHECK(CrossEntropyLoss().state_dict().tensors.empty());
        // and it loads like any tensor
        state.tensors[0].tensor = tensor({1, 1, 1, 1});
        loss.load_state_dict(state);
        CrossEntropyOptions unweighted;
        unweighted.label_smoothing = 0.1f;
        check_close(loss(logits, targets), cross_entropy(logits, targets, unweighted), 1e-6f, 0.0f);
    }
}

TEST_CASE("mse_loss errors") {
    std::string message = error_of([] { mse_loss(zeros({4, 1}), zeros({4})); });
    CHECK(message.find("[mse_loss] input and target shapes differ: (4, 1) and (4,)") == 0);
    CHECK(error_of([] { mse_loss(Tensor(), zeros({4})); }).find("[mse_loss]") == 0);
}
