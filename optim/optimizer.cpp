// optimizer.cpp: groups, zero_grad, learning rates and the state-dict layout (see optimizer.hpp).
#include "optim/optimizer.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace ag {

void Optimizer::zero_grad(bool set_to_none) {
    for (int g = 0; g < group_count(); ++g)
        for (const Tensor& p : group_params(g)) {
            if (set_to_none) p.set_grad(Tensor());
            else p.zero_grad();
        }
}

const std::vector<Tensor>& Optimizer::params(int group) const {
    check(group >= 0 && group < group_count(), name_, "group {} out of range: there are {} groups", group,
          group_count());
    return group_params(group);
}

std::vector<Tensor> Optimizer::all_params() const {
    std::vector<Tensor> all;
    for (int g = 0; g < group_count(); ++g)
        all.insert(all.end(), group_params(g).begin(), group_params(g).end());
    return all;
}

double Optimizer::lr(int group) const {
    check(group >= 0 && group < group_count(), name_, "group {} out of range: there are {} groups", group,
          group_count());
    return group_lr(group);
}

void Optimizer::set_lr(int group, double lr) {
    check(group >= 0 && group < group_count(), name_, "group {} out of range: there are {} groups", group,
          group_count());
    check(std::isfinite(lr) && lr >= 0, name_, "learning rate must be finite and >= 0: got {}", lr);
    set_group_lr(group, lr);
}

void Optimizer::set_lr(double lr) {
    for (int g = 0; g < group_count(); ++g) set_lr(g, lr);
}

void Optimizer::check_params() const {
    check(num_params() > 0, name_, "got an empty parameter list");
    std::set<const TensorImpl*> seen;
    for (int g = 0; g < group_count(); ++g) {
        const std::vector<Tensor>& params = group_params(g);
        for (size_t i = 0; i < params.size(); ++i) {
            const Tensor& p = params[i];
            check(p.defined(), name_, "parameter {} of group {} is undefined", i, g);
            // NOTE: updating a non-leaf would write into an intermediate result, not a weight
            check(p.is_leaf(), name_, "parameter {} of group {} is not a leaf (it comes from {})", i, g,
                  p.is_leaf() ? "" : p.grad_fn()->name());
            check(seen.insert(p.impl()).second, name_, "parameter {} of group {} appears more than once", i, g);
        }
    }
}

int64_t Optimizer::num_params() const {
    int64_t n = 0;
    for (int g = 0; g < group_count(); ++g) n += static_cast<int64_t>(group_params(g).size());
    return n;
}

// --- state dict layout -------------------------------------------------------------------------

void Optimizer::write_layout(StateDict& state) const {
    state.metadata["optimizer"] = name_;
    state.metadata["param_groups"] = std::to_string(group_count());
    for (int g = 0; g < group_count(); ++g)
        state.metadata[fmt::format("param_groups.{}.num_params", g)] = std::to_string(group_params(g).size());
}

void Optimizer::check_layout(const StateDict& state) const {
    std::string op = load_op();
    auto it = state.metadata.find("optimizer");
    check(it != state.metadata.end(), op, "metadata 'optimizer' is missing: not an optimizer state");
    check(it->second == name_, op, "the state was saved by {}, not {}", it->second, name_);
    int64_t groups = read_integer(state, "param_groups", op);
    check(groups == group_count(), op, "the state has {} parameter groups, the optimizer has {}", groups,
          group_count());
    for (int g = 0; g < group_count(); ++g) {
        int64_t n = read_integer(state, fmt::format("param_groups.{}.num_params", g), op);
        check(n == static_cast<int64_t>(group_params(g).size()), op,
              "group {} has {} parameters in the state, {} in the optimizer", g, n, group_params(g).size());
    }
}

namespace {

// Splits "state.<i>.<key>" into i and key; false if `name` has another form.
bool split_state_name(const std::string& name, int64_t& index, std::string& key) {
    constexpr size_t kPrefix = 6;  // "state."
    size_t dot = name.find('.', kPrefix);
    if (name.rfind("state.", 0) != 0 || dot == std::string::npos || dot == kPrefix) return false;
    auto [end, error] = std::from_chars(name.data() + kPrefix, name.data() + dot, index);
    if (error != std::errc() || end != name.data() + dot) return false;
    key = name.substr(dot + 1);
    return true;
}

}  // namespace

std::vector<Optimizer::SavedParamState> Optimizer::read_param_state(const StateDict& state,
                                                                    const std::vector<std::string>& buffers,
                                                                    const std::vector<std::string>& scalars) const {
    std::string op = load_op();
    std::vector<Tensor> params = all_params();
    std::vector<SavedParamState> result(params.size());
    auto known = [](const std::vector<std::string>& keys, const std::string& key) {
        return std::find(keys.begin(), keys.end(), key) != keys.end();
    };

    // tensors: state.<i>.<buffer>, shaped like parameter i
    for (const NamedTensor& t : state.tensors) {
        int64_t i = -1;
        std::string buffer;
        check(split_state_name(t.name, i, buffer), op, "unexpected tensor '{}': expected state.<index>.<buffer>",
              t.name);
        check(i >= 0 && i < static_cast<int64_t>(params.size()), op,
              "tensor '{}' is for parameter {}, the optimizer has {} parameters", t.name, i, params.size());
        check(known(buffers, buffer), op, "unexpected tensor '{}': {} keeps no '{}'", t.name, name_, buffer);
        check(t.tensor.defined() && t.tensor.shape() == params[i].shape(), op,
              "tensor '{}' has shape {}, parameter {} has shape {}", t.name,
              t.tensor.defined() ? t.tensor.shape() : Shape{}, i, params[i].shape());
        check(result[i].buffers.emplace(buffer, t.tensor).second, op, "tensor '{}' appears twice", t.name);
    }

    // scalars: metadata state.<i>.<scalar>
    for (const auto& [key, value] : state.metadata) {
        if (key.rfind("state.", 0) != 0) continue;
        int64_t i = -1;
        std::string scalar;
        check(split_state_name(key, i, scalar), op, "unexpected metadata '{}': expected state.<index>.<name>", key);
        check(i >= 0 && i < static_cast<int64_t>(params.size()), op,
              "metadata '{}' is for parameter {}, the optimizer has {} parameters", key, i, params.size());
        check(known(scalars, scalar), op, "unexpected metadata '{}': {} keeps no '{}'", key, name_, scalar);
        result[i].scalars[scalar] = value;
    }
    return result;
}

// --- metadata values ---------------------------------------------------------------------------

std::string format_number(double value) { return fmt::format("{}", value); }  // shortest round trip

namespace {
const std::string& metadata_value(const StateDict& state, const std::string& key, std::string_view op) {
    auto it = state.metadata.find(key);
    if (it == state.metadata.end()) fail(op, "metadata '{}' is missing", key);
    return it->second;
}
}  // namespace

double read_number(const StateDict& state, const std::string& key, std::string_view op) {
    const std::string& text = metadata_value(state, key, op);
    double value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    check(error == std::errc() && end == text.data() + text.size() && !text.empty(), op,
          "metadata '{}' = '{}' is not a number", key, text);
    return value;
}

int64_t read_integer(const StateDict& state, const std::string& key, std::string_view op) {
    const std::string& text = metadata_value(state, key, op);
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    check(error == std::errc() && end == text.data() + text.size() && !text.empty(), op,
          "metadata '{}' = '{}' is not an integer", key, text);
    return value;
}

bool read_bool(const StateDict& state, const std::string& key, std::string_view op) {
    const std::string& text = metadata_value(state, key, op);
    check(text == "true" || text == "false", op, "metadata '{}' = '{}' is not true or false", key, text);
    return text == "true";
}

}  // namespace ag
