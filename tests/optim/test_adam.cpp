// test_adam.cpp: Adam and AdamW steps worked by hand (bias correction, L2 vs decoupled decay,
// amsgrad), option validation, and state dicts that resume exactly or refuse to load.
#include "optim/adam.hpp"
#include "simd_testing.hpp"
#include "testing.hpp"
#include "thread_testing.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace ag;
using ag::testing::param_with_grad;
using namespace ag::testing;

namespace {

// Two state dicts are equal: same metadata, same tensor names, shapes and values.
void check_same_state(const StateDict& a, const StateDict& b) {
    CHECK(a.metadata == b.metadata);
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (size_t i = 0; i < a.tensors.size(); ++i) {
        CHECK(a.tensors[i].name == b.tensors[i].name);
        CHECK(a.tensors[i].tensor.shape() == b.tensors[i].tensor.shape());
        CHECK(a.tensors[i].tensor.to_vector() == b.tensors[i].tensor.to_vector());
    }
}

}  // namespace

TEST_CASE("Adam two steps by hand, with bias correction") {
    // lr 0.1, betas (0.9, 0.999), eps 1e-8, p = 1.
    // step 1, g = 0.5: m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025
    //   bias corrections 1 - 0.9 = 0.1 and 1 - 0.999 = 0.001: m_hat = 0.5, sqrt(v_hat) = 0.5
    //   p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.9   (the first step moves by lr * sign(g))
    // step 2, g = -1: m = 0.9 * 0.05 - 0.1 = -0.055, v = 0.999 * 0.00025 + 0.001 = 0.00124975
    //   1 - 0.9^2 = 0.19, 1 - 0.999^2 = 0.001999; step size 0.1 / 0.19 = 0.5263158
    //   denom = sqrt(0.00124975) / sqrt(0.001999) + 1e-8 = 0.7906881
    //   p = 0.9 - 0.5263158 * (-0.055 / 0.7906881) = 0.9366104
    Tensor p = param_with_grad({1}, {0.5f});
    Adam opt({p}, {.lr = 0.1});
    opt.step();
    check_close(p, tensor({0.9f}), 1e-6f, 0);
    p.set_grad(tensor({-1.0f}));
    opt.step();
    check_close(p, tensor({0.9366104f}), 1e-6f, 0);
    StateDict state = opt.state_dict();
    CHECK(state.metadata.at("state.0.step") == "2");
    check_close(*state.find("state.0.exp_avg"), tensor({-0.055f}), 1e-6f, 0);
    check_close(*state.find("state.0.exp_avg_sq"), tensor({0.00124975f}), 1e-6f, 0);
}

TEST_CASE("Adam adds eps after the bias correction of sqrt(v)") {
    // lr 0.1, eps 0.5 (large, so that its place shows), p = 1, g = 0.5, step 1:
    //   m = 0.05, v = 0.00025; step size 0.1 / 0.1 = 1; sqrt(v) / sqrt(0.001) = 0.5
    //   PyTorch:        denom = 0.5 + 0.5 = 1                          -> p = 1 - 0.05 / 1 = 0.95
    //   eps too early:  denom = (sqrt(0.00025) + 0.5) / sqrt(0.001) = 16.3 -> p = 0.99694
    Tensor p = param_with_grad({1}, {0.5f});
    Adam opt({p}, {.lr = 0.1, .eps = 0.5});
    opt.step();
    check_close(p, tensor({0.95f}), 1e-6f, 0);
}

TEST_CASE("Adam weight decay is L2 in the gradient; AdamW's is decoupled") {
    // p = 10, g = -0.5, wd = 0.1, lr = 0.1. The first Adam step moves p by lr * sign(gradient used):
    //   Adam:  g = -0.5 + 0.1 * 10 = 0.5 > 0        -> p = 10 - 0.1 = 9.9
    //   AdamW: p = 10 * (1 - 0.1 * 0.1) = 9.9, g = -0.5 < 0 -> p = 9.9 + 0.1 = 10.0
    //   neither: g < 0                              -> p = 10.1
    Tensor a = param_with_grad({10}, {-0.5f});
    Tensor w = param_with_grad({10}, {-0.5f});
    Tensor n = param_with_grad({10}, {-0.5f});
    Adam adam({a}, {.lr = 0.1, .weight_decay = 0.1});
    AdamW adamw({w}, {.lr = 0.1, .weight_decay = 0.1});
    Adam none({n}, {.lr = 0.1});
    adam.step();
    adamw.step();
    none.step();
    check_close(a, tensor({9.9f}), 1e-6f, 0);
    check_close(w, tensor({10.0f}), 1e-6f, 0);
    check_close(n, tensor({10.1f}), 1e-6f, 0);
}

TEST_CASE("Adam amsgrad divides by the largest second moment seen") {
    // lr 0.1, betas (0.5, 0.5), p = 1.
    // step 1, g = 2: m = 1, v = 2; corrections 0.5 and sqrt(0.5): denom = sqrt(2) / sqrt(0.5) = 2
    //   p = 1 - (0.1 / 0.5) * 1 / 2 = 0.9 (with or without amsgrad: v_max = v)
    // step 2, g = 0: m = 0.5, v = 1, v_max = 2; corrections 0.75 and sqrt(0.75)
    //   plain:   p = 0.9 - (0.1 / 0.75) * 0.5 / (sqrt(1) / sqrt(0.75)) = 0.8422650
    //   amsgrad: p = 0.9 - (0.1 / 0.75) * 0.5 / (sqrt(2) / sqrt(0.75)) = 0.8591752
    for (bool amsgrad : {false, true}) {
        CAPTURE(amsgrad);
        Tensor p = param_with_grad({1}, {2});
        Adam opt({p}, {.lr = 0.1, .beta1 = 0.5, .beta2 = 0.5, .amsgrad = amsgrad});
        opt.step();
        check_close(p, tensor({0.9f}), 1e-6f, 0);
        p.set_grad(tensor({0.0f}));
        opt.step();
        check_close(p, tensor({amsgrad ? 0.8591752f : 0.8422650f}), 1e-6f, 0);
        StateDict state = opt.state_dict();
        const Tensor* max = state.find("state.0.max_exp_avg_sq");
        CHECK((max != nullptr) == amsgrad);
        if (max) CHECK(max->item() == 2.0f);
    }
}

TEST_CASE("Adam kernel on its own: adam_update_reference, Adam and AdamW forms") {
    // n = 3, t = 1 (corrections 1 - beta), wd 0.5, lr 0.01, p = g = [1, 2, -3]:
    //   Adam:  g' = g + 0.5 p = 1.5 g; the first step is lr * sign(g'): p - 0.01 * sign(g)
    //   AdamW: p' = p (1 - 0.005);      p' - 0.01 * sign(g)
    for (bool decoupled : {false, true}) {
        CAPTURE(decoupled);
        float p[3] = {1, 2, -3}, m[3] = {}, v[3] = {};
        const float g[3] = {1, 2, -3};
        AdamStep s{.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.5,
                   .bias_correction1 = 1 - 0.9, .bias_correction2 = 1 - 0.999, .decoupled = decoupled};
        adam_update_reference(p, m, v, nullptr, g, 3, s);
        float shrink = decoupled ? 0.995f : 1.0f;
        CHECK(p[0] == doctest::Approx(1 * shrink - 0.01).epsilon(1e-6));
        CHECK(p[1] == doctest::Approx(2 * shrink - 0.01).epsilon(1e-6));
        CHECK(p[2] == doctest::Approx(-3 * shrink + 0.01).epsilon(1e-6));
        CHECK(m[2] == doctest::Approx(0.1 * -3 * (decoupled ? 1 : 1.5)).epsilon(1e-6));
        CHECK(v[1] == doctest::Approx(0.001 * 4 * (decoupled ? 1 : 2.25)).epsilon(1e-6));
    }
}

TEST_CASE("Adam and AdamW validate their options, naming the optimizer and the value") {
    Tensor p = param_with_grad({1}, {1});
    auto adam = [&](AdamOptions o) { return error_of([&] { Adam({p}, o); }); };
    auto adamw = [&](AdamOptions o) { return error_of([&] { AdamW({p}, o); }); };
    CHECK(adam({.lr = 0}) == "[Adam] learning rate must be positive and finite: got 0");
    CHECK(adam({.lr = std::nan("")}) == "[Adam] learning rate must be positive and finite: got nan");
    CHECK(adam({.beta1 = 1.0}) == "[Adam] beta1 must be in [0, 1): got 1");
    CHECK(adam({.beta1 = -0.1}) == "[Adam] beta1 must be in [0, 1): got -0.1");
    CHECK(adam({.beta2 = 1.5}) == "[Adam] beta2 must be in [0, 1): got 1.5");
    CHECK(adam({.beta2 = std::nan("")}) == "[Adam] beta2 must be in [0, 1): got nan");
    CHECK(adam({.eps = 0}) == "[Adam] eps must be positive and finite: got 0");
    CHECK(adam({.weight_decay = -0.01}) == "[Adam] weight_decay must be >= 0: got -0.01");
    CHECK(adamw({.lr = -1}) == "[AdamW] learning rate must be positive and finite: got -1");
    CHECK(adamw({.eps = -1e-8}) == "[AdamW] eps must be positive and finite: got -1e-08");
    CHECK(adam({}).empty());
}

namespace {

// A deterministic gradient for step `step`, shaped like `p`.
Tensor grad_for(int step, const Tensor& p, float scale) {
    std::vector<float> values(p.numel());
    for (size_t i = 0; i < values.size(); ++i) values[i] = scale * static_cast<float>((step + 1) * (i + 2) % 7) - 2.0f;
    return tensor(values, p.shape());
}

// Two groups: amsgrad and decoupled decay on the matrix, a different lr for the bias.
AdamW make_adamw(const Tensor& w, const Tensor& b) {
    return AdamW(std::vector<ParamGroup<AdamOptions>>{{{w}, {.lr = 0.01, .weight_decay = 0.1, .amsgrad = true}},
                                                      {{b}, {.lr = 0.02}}});
}

void train(Optimizer& opt, const Tensor& w, const Tensor& b, int from, int to) {
    for (int s = from; s < to; ++s) {
        w.set_grad(grad_for(s, w, 0.5f));
        b.set_grad(grad_for(s, b, 1.5f));
        opt.step();
    }
}

}  // namespace

TEST_CASE("AdamW state_dict round trip through safetensors resumes identically, two groups") {
    // Run A: 5 steps straight. Run B: 3 steps, save params and state, rebuild everything from
    // the files, 2 more steps. Both must end bit-for-bit equal.
    Tensor wa = param({2, 3}, 1), ba = param({3}, 2);
    AdamW opt_a = make_adamw(wa, ba);
    train(opt_a, wa, ba, 0, 5);

    TempDir dir;
    {
        Tensor wb = param({2, 3}, 1), bb = param({3}, 2);
        AdamW opt_b = make_adamw(wb, bb);
        train(opt_b, wb, bb, 0, 3);
        save_safetensors(dir.path("opt.safetensors"), opt_b.state_dict());
        save_safetensors(dir.path("model.safetensors"), {{{"w", wb}, {"b", bb}}, {}});
    }
    Tensor wc = zeros({2, 3}), bc = zeros({3});
    wc.requires_grad_();
    bc.requires_grad_();
    load_safetensors_into(dir.path("model.safetensors"), {{"w", wc}, {"b", bc}});
    AdamW opt_c(std::vector<ParamGroup<AdamOptions>>{{{wc}, {}}, {{bc}, {}}});  // options come from the state
    opt_c.load_state_dict(load_safetensors(dir.path("opt.safetensors")));
    CHECK(opt_c.group(0).options.amsgrad);
    CHECK(opt_c.lr(1) == 0.02);
    train(opt_c, wc, bc, 3, 5);

    CHECK(wc.to_vector() == wa.to_vector());
    CHECK(bc.to_vector() == ba.to_vector());
    check_same_state(opt_c.state_dict(), opt_a.state_dict());
}

TEST_CASE("Adam load_state_dict refuses a mismatched state and changes nothing") {
    Tensor w = param({2, 3}, 1), b = param({3}, 2);
    Adam opt(std::vector<ParamGroup<AdamOptions>>{{{w}, {.lr = 0.01, .amsgrad = true}}, {{b}, {.lr = 0.02}}});
    train(opt, w, b, 0, 2);
    const StateDict before = opt.state_dict();

    auto load_error = [&](const StateDict& state) {
        std::string e = error_of([&] { opt.load_state_dict(state); });
        check_same_state(opt.state_dict(), before);  // untouched
        return e;
    };
    auto edited = [&](auto edit) {
        StateDict s = before;
        for (NamedTensor& t : s.tensors) t.tensor = clone_data(t.tensor);
        edit(s);
        return s;
    };

    CHECK(load_error(before).empty());
    CHECK(load_error(edited([](StateDict& s) { s.metadata["optimizer"] = "SGD"; })) ==
          "[Adam.load_state_dict] the state was saved by SGD, not Adam");
    CHECK(load_error(edited([](StateDict& s) { s.metadata["param_groups"] = "1"; })) ==
          "[Adam.load_state_dict] the state has 1 parameter groups, the optimizer has 2");
    CHECK(load_error(edited([](StateDict& s) { s.metadata["param_groups.1.num_params"] = "2"; })) ==
          "[Adam.load_state_dict] group 1 has 2 parameters in the state, 1 in the optimizer");
    CHECK(load_error(edited([](StateDict& s) { s.metadata.erase("param_groups.0.eps"); })) ==
          "[Adam.load_state_dict] metadata 'param_groups.0.eps' is missing");
    CHECK(load_error(edited([](StateDict& s) { s.metadata["param_groups.1.lr"] = "fast"; })) ==
          "[Adam.load_state_dict] metadata 'param_groups.1.lr' = 'fast' is not a number");
    CHECK(load_error(edited([](StateDict& s) { s.metadata["param_groups.1.beta2"] = "1"; })) ==
          "[Adam.load_state_dict] beta2 must be in [0, 1): got 1");
    CHECK(load_error(edited([](StateDict& s) { s.metadata["state.1.step"] = "0"; })) ==
          "[Adam.load_state_dict] state.1.step must be an integer >= 1: got '0'");
    CHECK(load_error(edited([](StateDict& s) { s.metadata.erase("state.0.step"); })) ==
          "[Adam.load_state_dict] parameter 0 has buffers but no state.0.step");
    CHECK(load_error(edited([](StateDict& s) { s.metadata["state.2.step"] = "1"; })) ==
          "[Adam.load_state_dict] metadata 'state.2.step' is for parameter 2, the optimizer has 2 parameters");
    CHECK(load_error(edited([](StateDict& s) { s.tensors[0].tensor = zeros({3, 2}); })) ==
          "[Adam.load_state_dict] tensor 'state.0.exp_avg' has shape (3, 2), parameter 0 has shape (2, 3)");
    CHECK(load_error(edited([](StateDict& s) { s.tensors.push_back({"state.1.momentum_buffer", zeros({3})}); })) ==
          "[Adam.load_state_dict] unexpected tensor 'state.1.momentum_buffer': Adam keeps no 'momentum_buffer'");
    CHECK(load_error(edited([](StateDict& s) { s.tensors.push_back({"weights", zeros({3})}); })) ==
          "[Adam.load_state_dict] unexpected tensor 'weights': expected state.<index>.<buffer>");
    CHECK(load_error(edited([](StateDict& s) { s.tensors.push_back({"state.1.max_exp_avg_sq", zeros({3})}); })) ==
          "[Adam.load_state_dict] tensor 'state.1.max_exp_avg_sq' is present but amsgrad is false");
    CHECK(load_error(edited([](StateDict& s) {
              std::erase_if(s.tensors, [](const NamedTensor& t) { return t.name == "state.0.max_exp_avg_sq"; });
          })) == "[Adam.load_state_dict] tensor 'state.0.max_exp_avg_sq' is missing but amsgrad is true");
    CHECK(load_error(edited([](StateDict& s) {
              std::erase_if(s.tensors, [](const NamedTensor& t) { return t.name == "state.1.exp_avg_sq"; });
          })) == "[Adam.load_state_dict] tensor 'state.1.exp_avg_sq' is missing");
    // the last one fails only after group 0's options were read: they must not have been applied
    CHECK(load_error(edited([](StateDict& s) {
              s.metadata["param_groups.0.lr"] = "0.5";
              s.metadata["state.1.step"] = "x";
          })).find("state.1.step must be an integer") != std::string::npos);
    CHECK(opt.lr(0) == 0.01);
}

TEST_CASE("Adam skips parameters without a gradient and keeps no state for them") {
    Tensor a = param_with_grad({1}, {1});
    Tensor b = tensor({5.0f});
    b.requires_grad_();
    Adam opt({a, b}, {.lr = 0.1});
    opt.step();
    opt.step();
    CHECK(b.item() == 5.0f);
    StateDict state = opt.state_dict();
    CHECK(state.metadata.at("state.0.step") == "2");
    CHECK(state.metadata.count("state.1.step") == 0);
    CHECK(state.find("state.1.exp_avg") == nullptr);
    // b's own first step is a first step (t = 1): it moves by lr
    b.set_grad(tensor({-3.0f}));
    opt.step();
    check_close(b, tensor({5.1f}), 1e-6f, 0);
}

namespace {

// Inputs of one update of n parameters: p, g in [-1, 1], moments as after a few steps.
struct AdamBuffers {
    std::vector<float> p, g, m, v, v_max;
    explicit AdamBuffers(int64_t n, uint32_t seed)
        : p(uniform_floats(n, seed)), g(uniform_floats(n, seed + 1)), m(uniform_floats(n, seed + 2, -0.2f, 0.2f)),
          v(uniform_floats(n, seed + 3, 0.0f, 0.05f)), v_max(uniform_floats(n, seed + 4, 0.0f, 0.05f)) {
        // a zero gradient on a zero second moment: v stays 0 and the step is m / eps
        g[0] = 0.0f;
        v[0] = 0.0f;
        if (n > 1) v_max[1] = 1.0f;  // amsgrad: a maximum that wins over v
    }
    void update(bool amsgrad, const AdamStep& s, bool simd) {
        float* vm = amsgrad ? v_max.data() : nullptr;
        auto n = static_cast<int64_t>(p.size());
        if (simd)
            adam_update(p.data(), m.data(), v.data(), vm, g.data(), n, s);
        else
            adam_update_reference(p.data(), m.data(), v.data(), vm, g.data(), n, s);
    }
};

}  // namespace

TEST_CASE("adam_update: the SIMD kernel matches the reference at every level, awkward sizes, all variants") {
    // The kernel does the reference's operations in the same order; only -ffp-contract=fast
    // differs, fusing a*b + c into one rounding. So each result may move by a few roundings of
    // the terms that make it (u = 2^-24), bounded per element from the inputs:
    //   m:  4u (b1 |m0| + (1 - b1) |g'|)          v: 4u (b2 v0 + (1 - b2) g'^2)     (g' = g + wd p)
    //   p:  8u (|p| + |step|) + lr' (dm / d + |m| dd / d^2)   where d = sqrt(v)/c2 + eps and
    //       dd = dv / (2 sqrt(v) c2) (sqrt(dv) / c2 at v = 0) is what an error dv in v does to d
    const double u = kUnitRoundoff;
    for (SimdLevel level : simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int variant = 0; variant < 4; ++variant) {
            // plain Adam, Adam + L2, AdamW, AdamW + amsgrad; step 3
            const bool decoupled = variant >= 2, amsgrad = variant == 3;
            const double wd = variant == 0 ? 0.0 : 0.1, t = 3;
            const AdamStep s{.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = wd,
                             .bias_correction1 = 1 - std::pow(0.9, t), .bias_correction2 = 1 - std::pow(0.999, t),
                             .decoupled = decoupled};
            for (int64_t n : kAwkwardCols) {
                CAPTURE(simd_level_name(level));
                CAPTURE(variant);
                CAPTURE(n);
                const AdamBuffers before(n, 17);
                AdamBuffers got = before, expected = before;
                got.update(amsgrad, s, true);
                expected.update(amsgrad, s, false);
                const double step_size = s.lr / s.bias_correction1, c2 = std::sqrt(s.bias_correction2);
                std::vector<double> tol_p(n), tol_m(n), tol_v(n);
                for (int64_t i = 0; i < n; ++i) {
                    const double p = before.p[i], m0 = before.m[i], v0 = before.v[i];
                    const double gp = std::fabs(before.g[i]) + (decoupled ? 0.0 : wd * std::fabs(p));
                    tol_m[i] = 4 * u * (0.9 * std::fabs(m0) + 0.1 * gp);
                    tol_v[i] = 4 * u * (0.999 * v0 + 0.001 * gp * gp);
                    const double v = amsgrad ? std::max<double>(expected.v_max[i], expected.v[i]) : expected.v[i];
                    const double d = std::sqrt(v) / c2 + s.eps;
                    const double dd = (v > 0 ? tol_v[i] / (2 * std::sqrt(v)) : std::sqrt(tol_v[i])) / c2 + 4 * u * d;
                    const double m = std::fabs(expected.m[i]), step = step_size * m / d;
                    tol_p[i] = 8 * u * (std::fabs(p) + step) + step_size * (tol_m[i] / d + m * dd / (d * d));
                }
                check_within(got.p, expected.p, tol_p);
                check_within(got.m, expected.m, tol_m);
                check_within(got.v, expected.v, tol_v);
                if (amsgrad) check_within(got.v_max, expected.v_max, tol_v);
            }
        }
    }
}

TEST_CASE("adam_update: the same bits on 1, 2 and 3 threads") {
    // 100003 parameters: four chunks of kChunkFloats = 32768, the last with a SIMD tail
    const AdamStep s{.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1,
                     .bias_correction1 = 0.1, .bias_correction2 = 0.001, .decoupled = true};
    check_same_bits_on_threads([&] {
        AdamBuffers b(100003, 5);
        b.update(true, s, true);
        return concat({&b.p, &b.m, &b.v, &b.v_max});
    });
}
