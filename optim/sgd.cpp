// sgd.cpp: the SGD kernel and optimizer (formulas in sgd.hpp; PyTorch's _single_tensor_sgd).
#include "optim/sgd.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"

#include <cmath>

namespace ag {

namespace {

// Throws "[op] ..." naming the first invalid option and its value.
void validate(const SGDOptions& o, std::string_view op) {
    // NOTE: written as !(x > 0) style conditions so that NaN fails them too
    check(std::isfinite(o.lr) && o.lr > 0, op, "learning rate must be positive and finite: got {}", o.lr);
    check(std::isfinite(o.momentum) && o.momentum >= 0, op, "momentum must be >= 0: got {}", o.momentum);
    check(o.dampening >= 0 && o.dampening <= 1, op, "dampening must be in [0, 1]: got {}", o.dampening);
    check(std::isfinite(o.weight_decay) && o.weight_decay >= 0, op, "weight_decay must be >= 0: got {}",
          o.weight_decay);
    check(!o.nesterov || (o.momentum > 0 && o.dampening == 0), op,
          "nesterov momentum needs momentum > 0 and dampening 0: got momentum {} and dampening {}", o.momentum,
          o.dampening);
}

}  // namespace

void sgd_update_reference(float* param, float* momentum_buffer_or_null, const float* grad, int64_t n, SGDStep s) {
    // the float scalars, each computed in double and rounded once
    const float lr = static_cast<float>(s.lr);
    const float momentum = static_cast<float>(s.momentum);
    const float one_minus_dampening = static_cast<float>(1.0 - s.dampening);
    const float weight_decay = static_cast<float>(s.weight_decay);
    float* buf = momentum_buffer_or_null;

    for (int64_t i = 0; i < n; ++i) {
        float g = grad[i];
        // weight decay: the gradient of wd/2 * p^2
        if (weight_decay != 0.0f) g = g + weight_decay * param[i];
        // momentum: the buffer starts as the first gradient, then blends
        if (buf != nullptr) {
            buf[i] = s.first_step ? g : buf[i] * momentum + one_minus_dampening * g;
            g = s.nesterov ? g + momentum * buf[i] : buf[i];
        }
        // descend
        param[i] = param[i] - lr * g;
    }
}

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<ParamGroup<SGDOptions>>{{std::move(params), options}}) {}

SGD::SGD(std::vector<ParamGroup<SGDOptions>> groups) : Optimizer("SGD"), groups_(std::move(groups)) {
    for (const auto& group : groups_) validate(group.options, name());
    check_params();
    momentum_buffers_.resize(num_params());
}

const ParamGroup<SGDOptions>& SGD::group(int g) const {
    params(g);  // checks the index
    return groups_[g];
}

void SGD::step() {
    NoGradGuard no_grad;
    int64_t index = 0;  // over all groups: the state's parameter index
    for (const auto& group : groups_) {
        const SGDOptions& o = group.options;
        for (const Tensor& p : group.params) {
            Tensor& buf = momentum_buffers_[index++];
            Tensor grad = p.grad();
            if (!grad.defined()) continue;  // no gradient reached this parameter: leave it
            bool first_step = false;
            if (o.momentum != 0 && !buf.defined()) {
                buf = empty(p.shape());  // the kernel copies the gradient in
                first_step = true;
            }
            SGDStep s{o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov, first_step};
            sgd_update_reference(p.data(), o.momentum != 0 ? buf.data() : nullptr, grad.data(), p.numel(), s);
        }
    }
}

StateDict SGD::state_dict() const {
    StateDict state;
    write_layout(state);
    for (size_t g = 0; g < groups_.size(); ++g) {
        const SGDOptions& o = groups_[g].options;
        std::string prefix = fmt::format("param_groups.{}.", g);
        state.metadata[prefix + "lr"] = format_number(o.lr);
        state.metadata[prefix + "momentum"] = format_number(o.momentum);
        state.metadata[prefix + "dampening"] = format_number(o.dampening);
        state.metadata[prefix + "weight_decay"] = format_number(o.weight_decay);
        state.metadata[prefix + "nesterov"] = o.nesterov ? "true" : "false";
    }
    // copies: the optimizer keeps updating its buffers in place
    for (size_t i = 0; i < momentum_buffers_.size(); ++i)
        if (momentum_buffers_[i].defined())
            state.tensors.push_back({fmt::format("state.{}.momentum_buffer", i), clone_data(momentum_buffers_[i])});
    return state;
}

void SGD::load_state_dict(const StateDict& state) {
    std::string op = load_op();
    // check everything into locals first
    check_layout(state);
    std::vector<SGDOptions> options(groups_.size());
    for (size_t g = 0; g < groups_.size(); ++g) {
        std::string prefix = fmt::format("param_groups.{}.", g);
        options[g].lr = read_number(state, prefix + "lr", op);
        options[g].momentum = read_number(state, prefix + "momentum", op);
        options[g].dampening = read_number(state, prefix + "dampening", op);
        options[g].weight_decay = read_number(state, prefix + "weight_decay", op);
        options[g].nesterov = read_bool(state, prefix + "nesterov", op);
        validate(options[g], op);
    }
    std::vector<SavedParamState> saved = read_param_state(state, {"momentum_buffer"}, {});
    std::vector<Tensor> buffers(saved.size());
    for (size_t i = 0; i < saved.size(); ++i) {
        auto it = saved[i].buffers.find("momentum_buffer");
        if (it != saved[i].buffers.end()) buffers[i] = clone_data(it->second);  // our own copy
    }

    // then commit: nothing below can throw
    for (size_t g = 0; g < groups_.size(); ++g) groups_[g].options = options[g];
    momentum_buffers_ = std::move(buffers);
}

}  // namespace ag
