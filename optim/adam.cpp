// adam.cpp: the Adam/AdamW kernel and optimizers (formulas in adam.hpp; PyTorch's
// _single_tensor_adam and _single_tensor_adamw).
#include "optim/adam.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "optim/adam_kernel.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ag {

namespace {

// Throws "[op] ..." naming the first invalid option and its value (NaN fails every check).
void validate(const AdamOptions& o, std::string_view op) {
    check(std::isfinite(o.lr) && o.lr > 0, op, "learning rate must be positive and finite: got {}", o.lr);
    check(o.beta1 >= 0 && o.beta1 < 1, op, "beta1 must be in [0, 1): got {}", o.beta1);
    check(o.beta2 >= 0 && o.beta2 < 1, op, "beta2 must be in [0, 1): got {}", o.beta2);
    check(std::isfinite(o.eps) && o.eps > 0, op, "eps must be positive and finite: got {}", o.eps);
    check(std::isfinite(o.weight_decay) && o.weight_decay >= 0, op, "weight_decay must be >= 0: got {}",
          o.weight_decay);
}

}  // namespace

namespace {

// The float scalars of one update, each computed in double and rounded once (as PyTorch passes them).
AdamScalars adam_scalars(const AdamStep& s) {
    return AdamScalars{
        static_cast<float>(s.beta1),
        static_cast<float>(s.beta2),
        static_cast<float>(1.0 - s.beta1),
        static_cast<float>(1.0 - s.beta2),
        static_cast<float>(s.weight_decay),
        static_cast<float>(1.0 - s.lr * s.weight_decay),  // AdamW's shrink factor
        static_cast<float>(s.lr / s.bias_correction1),
        static_cast<float>(std::sqrt(s.bias_correction2)),
        static_cast<float>(s.eps),
        s.decoupled,
    };
}

}  // namespace

void adam_update_reference(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq_or_null,
                           const float* grad, int64_t n, AdamStep step) {
    const AdamScalars s = adam_scalars(step);
    for (int64_t i = 0; i < n; ++i) {
        float p = param[i];
        float g = grad[i];
        // weight decay: decoupled shrink (AdamW) or L2 gradient (Adam)
        if (s.decoupled) {
            p = p * s.decay;
        } else if (s.weight_decay != 0.0f) {
            g = g + s.weight_decay * p;
        }
        // moments
        float m = exp_avg[i] * s.beta1 + s.one_minus_beta1 * g;
        float v = exp_avg_sq[i] * s.beta2 + s.one_minus_beta2 * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        if (max_exp_avg_sq_or_null != nullptr) {
            v = std::max(max_exp_avg_sq_or_null[i], v);
            max_exp_avg_sq_or_null[i] = v;
        }
        // bias-corrected step
        float denom = std::sqrt(v) / s.bias_correction2_sqrt + s.eps;
        param[i] = p - s.step_size * (m / denom);
    }
}

void adam_update(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq_or_null, const float* grad,
                 int64_t n, AdamStep step) {
    const AdamScalars s = adam_scalars(step);
    auto reference = [&step](float* p, float* m, float* v, float* v_max, const float* g, int64_t count, AdamScalars) {
        adam_update_reference(p, m, v, v_max, g, count, step);
    };
    // threads take chunks of kChunkFloats parameters; each element is updated on its own, so the
    // results do not depend on the thread count
    parallel_for(0, n, kChunkFloats, [&](int64_t i0, int64_t i1) {
        float* v_max = max_exp_avg_sq_or_null != nullptr ? max_exp_avg_sq_or_null + i0 : nullptr;
        simd_dispatch(AdamKernel{}, reference, param + i0, exp_avg + i0, exp_avg_sq + i0, v_max, grad + i0, i1 - i0,
                      s);
    });
}

// --- Adam ----------------------------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::vector<ParamGroup<AdamOptions>>{{std::move(params), options}}) {}

Adam::Adam(std::vector<ParamGroup<AdamOptions>> groups) : Adam("Adam", false, std::move(groups)) {}

Adam::Adam(std::string name, bool decoupled, std::vector<ParamGroup<AdamOptions>> groups)
    : Optimizer(std::move(name)), groups_(std::move(groups)), decoupled_(decoupled) {
    for (const auto& group : groups_) validate(group.options, this->name());
    check_params();
    state_.resize(num_params());
}

const ParamGroup<AdamOptions>& Adam::group(int g) const {
    params(g);  // checks the index
    return groups_[g];
}

void Adam::step() {
    NoGradGuard no_grad;
    int64_t index = 0;  // over all groups: the state's parameter index
    for (const auto& group : groups_) {
        const AdamOptions& o = group.options;
        for (const Tensor& p : group.params) {
            ParamState& st = state_[index++];
            Tensor grad = p.grad();
            if (!grad.defined()) continue;  // no gradient reached this parameter: leave it
            // lazy state, as PyTorch: moments start at zero on the parameter's first step
            if (st.step == 0) {
                st.exp_avg = zeros(p.shape());
                st.exp_avg_sq = zeros(p.shape());
            }
            if (o.amsgrad && !st.max_exp_avg_sq.defined()) st.max_exp_avg_sq = zeros(p.shape());
            st.step += 1;

            // bias corrections of step t, in double as PyTorch
            double t = static_cast<double>(st.step);
            AdamStep s{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, 1.0 - std::pow(o.beta1, t),
                       1.0 - std::pow(o.beta2, t), decoupled_};
            adam_update(p.data(), st.exp_avg.data(), st.exp_avg_sq.data(),
                                  o.amsgrad ? st.max_exp_avg_sq.data() : nullptr, grad.data(), p.numel(), s);
        }
    }
}

StateDict Adam::state_dict() const {
    StateDict state;
    write_layout(state);
    for (size_t g = 0; g < groups_.size(); ++g) {
        const AdamOptions& o = groups_[g].options;
        std::string prefix = fmt::format("param_groups.{}.", g);
        state.metadata[prefix + "lr"] = format_number(o.lr);
        state.metadata[prefix + "beta1"] = format_number(o.beta1);
        state.metadata[prefix + "beta2"] = format_number(o.beta2);
        state.metadata[prefix + "eps"] = format_number(o.eps);
        state.metadata[prefix + "weight_decay"] = format_number(o.weight_decay);
        state.metadata[prefix + "amsgrad"] = o.amsgrad ? "true" : "false";
    }
    // copies: the optimizer keeps updating its buffers in place
    for (size_t i = 0; i < state_.size(); ++i) {
        const ParamState& st = state_[i];
        if (st.step == 0) continue;  // never updated: no state, as in PyTorch
        state.metadata[fmt::format("state.{}.step", i)] = std::to_string(st.step);
        state.tensors.push_back({fmt::format("state.{}.exp_avg", i), clone_data(st.exp_avg)});
        state.tensors.push_back({fmt::format("state.{}.exp_avg_sq", i), clone_data(st.exp_avg_sq)});
        if (st.max_exp_avg_sq.defined())
            state.tensors.push_back({fmt::format("state.{}.max_exp_avg_sq", i), clone_data(st.max_exp_avg_sq)});
    }
    return state;
}

void Adam::load_state_dict(const StateDict& state) {
    std::string op = load_op();
    // check everything into locals first
    check_layout(state);
    std::vector<AdamOptions> options(groups_.size());
    std::vector<int> group_of;  // parameter index -> group
    for (size_t g = 0; g < groups_.size(); ++g) {
        std::string prefix = fmt::format("param_groups.{}.", g);
        options[g].lr = read_number(state, prefix + "lr", op);
        options[g].beta1 = read_number(state, prefix + "beta1", op);
        options[g].beta2 = read_number(state, prefix + "beta2", op);
        options[g].eps = read_number(state, prefix + "eps", op);
        options[g].weight_decay = read_number(state, prefix + "weight_decay", op);
        options[g].amsgrad = read_bool(state, prefix + "amsgrad", op);
        validate(options[g], op);
        group_of.insert(group_of.end(), groups_[g].params.size(), static_cast<int>(g));
    }
    std::vector<SavedParamState> saved =
        read_param_state(state, {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}, {"step"});

    // each parameter has either no state, or a step >= 1 and both moments (+ the maximum iff amsgrad)
    std::vector<ParamState> new_state(saved.size());
    for (size_t i = 0; i < saved.size(); ++i) {
        const SavedParamState& s = saved[i];
        if (s.buffers.empty() && s.scalars.empty()) continue;
        auto step = s.scalars.find("step");
        check(step != s.scalars.end(), op, "parameter {} has buffers but no state.{}.step", i, i);
        const std::string& text = step->second;
        int64_t t = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), t);
        check(error == std::errc() && end == text.data() + text.size() && t >= 1, op,
              "state.{}.step must be an integer >= 1: got '{}'", i, text);
        bool amsgrad = options[group_of[i]].amsgrad;
        for (const char* buffer : {"exp_avg", "exp_avg_sq"})
            check(s.buffers.count(buffer) == 1, op, "tensor 'state.{}.{}' is missing", i, buffer);
        check(s.buffers.count("max_exp_avg_sq") == (amsgrad ? 1u : 0u), op,
              "tensor 'state.{}.max_exp_avg_sq' is {} but amsgrad is {}", i, amsgrad ? "missing" : "present",
              amsgrad);
        new_state[i].step = t;
        new_state[i].exp_avg = clone_data(s.buffers.at("exp_avg"));
        new_state[i].exp_avg_sq = clone_data(s.buffers.at("exp_avg_sq"));
        if (amsgrad) new_state[i].max_exp_avg_sq = clone_data(s.buffers.at("max_exp_avg_sq"));
    }

    // then commit: nothing below can throw
    for (size_t g = 0; g < groups_.size(); ++g) groups_[g].options = options[g];
    state_ = std::move(new_state);
}

// --- AdamW ---------------------------------------------------------------------------------------

AdamW::AdamW(std::vector<Tensor> params, AdamOptions options)
    : AdamW(std::vector<ParamGroup<AdamOptions>>{{std::move(params), options}}) {}

AdamW::AdamW(std::vector<ParamGroup<AdamOptions>> groups) : Adam("AdamW", true, std::move(groups)) {}

}  // namespace ag
