// test_optim_parity.cpp: SGD, Adam and AdamW against torch.optim, step by step.
//
// The fixtures (tests/parity/fixtures/optim_*.safetensors) were written by generate_optim.py
// with torch.optim (single-tensor path): initial parameters, the gradient of each of 3 steps,
// the parameters after each step and torch's final state buffers. This test needs no Python.
//
// Tolerance: 1e-5 relative, plus 1e-6 of the tensor's largest magnitude for elements that
// cancel to near 0. Both sides evaluate the same float32 formulas in the same order from the
// same double scalars; what differs is the last-bit rounding (torch's vectorised p + alpha * d
// may fuse the multiply-add; sqrt and pow come from different libraries): 1 ulp per step,
// measured here at most 5e-7 relative, except where p - lr * d cancels (0.2 - 0.1985 = 0.0015
// carries the 1e-8 error of its operands: 6e-6 relative, 4e-8 of the tensor's scale).
// A wrong formula (a dropped term, eps in the wrong place, no bias correction) moves the values
// by 1e-4 or more, far outside the band.
// NOTE: the absolute part scales with each tensor: exp_avg_sq is ~1e-3 after one step, and a
// fixed atol of 1e-7 there would hide a 1e-4 relative error.
#include "optim/adam.hpp"
#include "optim/sgd.hpp"
#include "testing.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

using namespace ag;
using ag::testing::kFixtures;
using namespace ag::testing;

namespace {

constexpr float kAtolOfScale = 1e-6f;

// Checks a against torch's b within the tolerance above.
void check_torch_close(const Tensor& a, const Tensor& b) {
    float scale = 0.0f;
    for (float v : b.to_vector()) scale = std::max(scale, std::fabs(v));
    check_close(a, b, kParityRtol, kAtolOfScale * scale);
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
    return parts;
}

// The optimizer the fixture describes, over `params`: groups from param_groups.<g>.params, options
// through load_state_dict (the fixture's metadata uses our state_dict's key names).
std::unique_ptr<Optimizer> make_optimizer(const StateDict& fixture, const std::map<std::string, Tensor>& params) {
    const std::string& kind = fixture.metadata.at("optimizer");
    int groups = std::stoi(fixture.metadata.at("param_groups"));
    std::vector<std::vector<Tensor>> group_params(groups);
    for (int g = 0; g < groups; ++g)
        for (const std::string& name : split(fixture.metadata.at(fmt::format("param_groups.{}.params", g)), ','))
            group_params[g].push_back(params.at(name));

    std::unique_ptr<Optimizer> opt;
    if (kind == "SGD") {
        std::vector<ParamGroup<SGDOptions>> g;
        for (auto& p : group_params) g.push_back({p, {}});
        opt = std::make_unique<SGD>(std::move(g));
    } else {
        std::vector<ParamGroup<AdamOptions>> g;
        for (auto& p : group_params) g.push_back({p, {}});
        if (kind == "Adam") opt = std::make_unique<Adam>(std::move(g));
        if (kind == "AdamW") opt = std::make_unique<AdamW>(std::move(g));
    }
    REQUIRE(opt != nullptr);
    opt->load_state_dict({{}, fixture.metadata});  // options only: no state.* entries
    return opt;
}

void check_parity(const std::string& name) {
    CAPTURE(name);
    StateDict fixture = load_safetensors(kFixtures + "optim_" + name + ".safetensors");

    // parameters at their initial values
    std::map<std::string, Tensor> params;
    for (const char* p : {"w", "b"}) {
        params[p] = clone_data(*fixture.find(std::string(p) + ".init"));
        params[p].requires_grad_();
    }
    std::unique_ptr<Optimizer> opt = make_optimizer(fixture, params);

    // three steps with torch's gradients (none where the fixture has none), compared after each
    for (int k = 1; k <= 3; ++k) {
        CAPTURE(k);
        for (auto& [p, t] : params) {
            const Tensor* grad = fixture.find(fmt::format("{}.grad.{}", p, k));
            t.set_grad(grad ? clone_data(*grad) : Tensor());
        }
        opt->step();
        for (auto& [p, t] : params) {
            CAPTURE(p);
            check_torch_close(t, *fixture.find(fmt::format("{}.step.{}", p, k)));
        }
    }

    // torch's state after the last step: every buffer and step count, by parameter index
    StateDict state = opt->state_dict();
    int buffers = 0;
    for (const NamedTensor& t : fixture.tensors) {
        if (t.name.rfind("final.", 0) != 0) continue;
        std::string ours = t.name.substr(6);  // "state.<i>.<buffer>"
        CAPTURE(ours);
        const Tensor* mine = state.find(ours);
        REQUIRE(mine != nullptr);
        check_torch_close(*mine, t.tensor);
        ++buffers;
    }
    CHECK(buffers >= 2);  // every configuration keeps a buffer for w and b (all SGD ones use momentum)
    for (const auto& [key, value] : fixture.metadata)
        if (key.rfind("final.", 0) == 0) CHECK(state.metadata.at(key.substr(6)) == value);
}

}  // namespace

TEST_CASE("SGD matches torch.optim.SGD: momentum, nesterov, weight decay with dampening") {
    check_parity("sgd_momentum");
    check_parity("sgd_nesterov");
    check_parity("sgd_weight_decay");
}

TEST_CASE("Adam matches torch.optim.Adam: plain, and amsgrad with L2 weight decay") {
    check_parity("adam");
    check_parity("adam_amsgrad_weight_decay");
}

TEST_CASE("AdamW matches torch.optim.AdamW: one group, and two groups with a skipped gradient") {
    check_parity("adamw");
    check_parity("adamw_groups");
}
