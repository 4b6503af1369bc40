// test_optimizer.cpp: what every optimizer shares: groups and their learning rates, zero_grad,
// the checks on the parameter list, and the state layout.
#include "optim/adam.hpp"
#include "optim/sgd.hpp"
#include "testing.hpp"

using namespace ag;
using namespace ag::testing;

TEST_CASE("Optimizer groups keep their own learning rates; set_lr changes one or all") {
    Tensor a = param({2}, 1), b = param({3}, 2), c = param({1}, 3);
    SGD opt(std::vector<ParamGroup<SGDOptions>>{{{a, b}, {.lr = 0.1}}, {{c}, {.lr = 0.01, .momentum = 0.9}}});
    CHECK(opt.num_groups() == 2);
    CHECK(opt.params(0).size() == 2);
    CHECK(opt.lr(0) == 0.1);
    CHECK(opt.lr(1) == 0.01);
    CHECK(opt.group(1).options.momentum == 0.9);
    std::vector<Tensor> all = opt.all_params();
    REQUIRE(all.size() == 3);
    CHECK(all[2].impl() == c.impl());  // group after group: the state's index order

    opt.set_lr(1, 0.5);
    CHECK(opt.lr(0) == 0.1);
    CHECK(opt.lr(1) == 0.5);
    opt.set_lr(0.0);  // a schedule may reach 0
    CHECK(opt.lr(0) == 0.0);
    CHECK(opt.lr(1) == 0.0);

    // the learning rate set is the one the step uses: p = p - 0.2 * g for group 0 only
    opt.set_lr(0, 0.2);
    a.set_grad(ones({2}));
    c.set_grad(ones({1}));
    std::vector<float> a0 = a.to_vector(), c0 = c.to_vector();
    opt.step();
    CHECK(a.to_vector()[0] == doctest::Approx(a0[0] - 0.2f));
    CHECK(c.to_vector()[0] == c0[0]);  // lr 0 in group 1
}

TEST_CASE("Optimizer set_lr and params check their arguments") {
    Tensor a = param({2}, 1);
    Adam opt({a}, {});
    CHECK(error_of([&] { opt.set_lr(-1.0); }) == "[Adam] learning rate must be finite and >= 0: got -1");
    CHECK(error_of([&] { opt.set_lr(0, std::nan("")); }) == "[Adam] learning rate must be finite and >= 0: got nan");
    CHECK(error_of([&] { opt.set_lr(1, 0.1); }) == "[Adam] group 1 out of range: there are 1 groups");
    CHECK(error_of([&] { opt.lr(-1); }) == "[Adam] group -1 out of range: there are 1 groups");
    CHECK(error_of([&] { opt.params(3); }) == "[Adam] group 3 out of range: there are 1 groups");
    CHECK(opt.lr(0) == 1e-3);
}

TEST_CASE("Optimizer zero_grad drops gradients, or with set_to_none = false zeroes their buffers") {
    Tensor a = param({3}, 1), b = param({2}, 2);
    a.set_grad(full({3}, 4.0f));
    SGD opt({a, b}, {.lr = 0.1});
    opt.zero_grad();
    CHECK(!a.grad().defined());
    CHECK(!b.grad().defined());
    // a step with no gradients leaves the parameters alone
    const std::vector<float> before = a.to_vector();
    opt.step();
    CHECK(a.to_vector() == before);

    a.set_grad(full({3}, 4.0f));
    float* buffer = a.grad().data();
    opt.zero_grad(false);
    CHECK(a.grad().data() == buffer);
    CHECK(a.grad().to_vector() == std::vector<float>{0, 0, 0});
    CHECK(!b.grad().defined());  // no gradient: nothing to zero, none created
}

TEST_CASE("Optimizer rejects empty, undefined, non-leaf and repeated parameters") {
    Tensor a = param({2}, 1);
    CHECK(error_of([&] { SGD({}, {.lr = 0.1}); }) == "[SGD] got an empty parameter list");
    CHECK(error_of([&] { SGD({a, Tensor()}, {.lr = 0.1}); }) == "[SGD] parameter 1 of group 0 is undefined");
    Tensor sum = a + a;
    CHECK(error_of([&] { Adam({sum}, {}); }) == "[Adam] parameter 0 of group 0 is not a leaf (it comes from add)");
    CHECK(error_of([&] {
              AdamW(std::vector<ParamGroup<AdamOptions>>{{{a}, {}}, {{a}, {}}});
          }) == "[AdamW] parameter 0 of group 1 appears more than once");
}

TEST_CASE("Optimizer state layout: names by parameter index, options and counts in metadata") {
    Tensor a = param({2}, 1), b = param({3}, 2);
    SGD opt(std::vector<ParamGroup<SGDOptions>>{{{a}, {.lr = 0.1}}, {{b}, {.lr = 0.25, .momentum = 0.5}}});
    a.set_grad(ones({2}));
    b.set_grad(ones({3}));
    opt.step();
    StateDict state = opt.state_dict();
    CHECK(state.metadata.at("optimizer") == "SGD");
    CHECK(state.metadata.at("param_groups") == "2");
    CHECK(state.metadata.at("param_groups.1.num_params") == "1");
    CHECK(state.metadata.at("param_groups.1.lr") == "0.25");
    CHECK(state.metadata.at("param_groups.1.nesterov") == "false");
    REQUIRE(state.tensors.size() == 1);  // group 0 has no momentum, so no buffer
    CHECK(state.tensors[0].name == "state.1.momentum_buffer");
    CHECK(state.tensors[0].tensor.to_vector() == std::vector<float>{1, 1, 1});
    // a copy: later steps do not change a state already taken
    opt.step();
    CHECK(state.tensors[0].tensor.to_vector() == std::vector<float>{1, 1, 1});
}

TEST_CASE("SGD load_state_dict refuses a mismatched state and changes nothing") {
    Tensor a = param({2}, 1);
    SGD opt({a}, {.lr = 0.1, .momentum = 0.9});
    a.set_grad(ones({2}));
    opt.step();
    StateDict good = opt.state_dict();

    StateDict bad = good;
    bad.metadata["param_groups.0.lr"] = "0.5";
    bad.tensors[0].tensor = zeros({3});
    CHECK(error_of([&] { opt.load_state_dict(bad); }) ==
          "[SGD.load_state_dict] tensor 'state.0.momentum_buffer' has shape (3,), parameter 0 has shape (2,)");
    CHECK(opt.lr(0) == 0.1);
    bad = good;
    bad.metadata["param_groups.0.nesterov"] = "yes";
    CHECK(error_of([&] { opt.load_state_dict(bad); }) ==
          "[SGD.load_state_dict] metadata 'param_groups.0.nesterov' = 'yes' is not true or false");
    bad = good;
    bad.metadata.emplace("state.0.step", "3");
    CHECK(error_of([&] { opt.load_state_dict(bad); }) ==
          "[SGD.load_state_dict] unexpected metadata 'state.0.step': SGD keeps no 'step'");
    bad = good;
    bad.metadata.erase("optimizer");
    CHECK(error_of([&] { opt.load_state_dict(bad); }) ==
          "[SGD.load_state_dict] metadata 'optimizer' is missing: not an optimizer state");
    CHECK(opt.state_dict().tensors[0].tensor.to_vector() == std::vector<float>{1, 1});

    // a state without buffers clears them: the next step is a first step again (buf = g)
    StateDict fresh = good;
    fresh.tensors.clear();
    opt.load_state_dict(fresh);
    CHECK(opt.state_dict().tensors.empty());
}
