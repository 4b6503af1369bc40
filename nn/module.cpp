// module.cpp: everything Module offers, as walks over visit() (see module.hpp).
//
// One walker does the recursion: it keeps the current prefix ("attn.out_proj."), descends into
// each child the module names, and hands every tensor, with its full name, to a callback.
#include "nn/module.hpp"

#include "core/error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace ag {

namespace {

enum class Kind { Parameter, Buffer };

// Depth-first walk of a module tree in visit order, giving full names.
class Walker final : public Visitor {
public:
    using TensorFn = std::function<void(const std::string& name, Tensor& value, Kind kind)>;
    using ModuleFn = std::function<void(Module& m)>;

    explicit Walker(TensorFn on_tensor, ModuleFn on_module = {})
        : on_tensor_(std::move(on_tensor)), on_module_(std::move(on_module)) {}

    // Walks `root` itself and everything below it.
    void walk(Module& root) {
        if (on_module_) on_module_(root);
        root.visit(*this);
    }

    void parameter(std::string_view name, Tensor& value) override { tensor(name, value, Kind::Parameter); }
    void buffer(std::string_view name, Tensor& value) override { tensor(name, value, Kind::Buffer); }

    void module(std::string_view name, Module& child) override {
        const size_t length = prefix_.size();
        prefix_.append(name).push_back('.');
        walk(child);
        prefix_.resize(length);
    }

private:
    void tensor(std::string_view name, Tensor& value, Kind kind) {
        std::string full = prefix_ + std::string(name);
        // NOTE: an optional tensor that is absent must not be visited at all; an undefined one
        // here is a bug in the module's visit(), caught before it reaches a state dict
        check(value.defined(), "Module", "'{}' is visited but undefined (do not visit absent tensors)", full);
        if (on_tensor_) on_tensor_(full, value, kind);
    }

    TensorFn on_tensor_;
    ModuleFn on_module_;
    std::string prefix_;
};

// NOTE: visit() is not const because train() and load_state_dict() reach members through it;
// the const queries below only read what it names, so casting constness away is safe.
Module& mutable_module(const Module& m) { return const_cast<Module&>(m); }

}  // namespace

std::vector<NamedTensor> Module::named_parameters() const {
    std::vector<NamedTensor> out;
    std::unordered_set<const TensorImpl*> seen;  // tied weights are listed once
    Walker([&](const std::string& name, Tensor& value, Kind kind) {
        if (kind == Kind::Parameter && seen.insert(value.impl()).second) out.push_back({name, value});
    }).walk(mutable_module(*this));
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (NamedTensor& p : named_parameters()) out.push_back(std::move(p.tensor));
    return out;
}

int64_t Module::num_parameters() const {
    int64_t total = 0;
    for (const NamedTensor& p : named_parameters()) total += p.tensor.numel();
    return total;
}

void Module::train(bool on) {
    Walker({}, [on](Module& m) { m.training_ = on; }).walk(*this);
}

void Module::zero_grad(bool set_to_none) {
    Walker([set_to_none](const std::string&, Tensor& value, Kind kind) {
        if (kind != Kind::Parameter) return;
        if (set_to_none) value.set_grad(Tensor());
        else value.zero_grad();
    }).walk(*this);
}

StateDict Module::state_dict() const {
    StateDict state;
    Walker([&](const std::string& name, Tensor& value, Kind) {
        state.tensors.push_back({name, value.detach()});
    }).walk(mutable_module(*this));
    return state;
}

void Module::load_state_dict(const StateDict& state) {
    // index the source by name (a name given twice is itself an error)
    std::vector<std::string> problems;
    std::unordered_map<std::string, const Tensor*> source;
    for (const NamedTensor& t : state.tensors)
        if (!source.emplace(t.name, &t.tensor).second) problems.push_back(fmt::format("'{}' given twice", t.name));

    // validate: every destination present with its shape, nothing left over
    std::vector<std::pair<Tensor, const Tensor*>> copies;  // destination, source
    std::unordered_set<std::string> expected;
    StateDict destination = state_dict();
    for (const NamedTensor& d : destination.tensors) {
        expected.insert(d.name);
        auto it = source.find(d.name);
        if (it == source.end()) {
            problems.push_back(fmt::format("missing '{}' (expected shape {})", d.name, d.tensor.shape()));
        } else if (!it->second->defined() || it->second->shape() != d.tensor.shape()) {
            problems.push_back(fmt::format("'{}': expected shape {}, found {}", d.name, d.tensor.shape(),
                                           it->second->defined() ? fmt::format("{}", it->second->shape())
                                                                 : std::string("an undefined tensor")));
        } else {
            copies.emplace_back(d.tensor, it->second);
        }
    }
    for (const NamedTensor& t : state.tensors)
        if (!expected.contains(t.name))
            problems.push_back(fmt::format("unexpected '{}' (shape {})", t.name,
                                           t.tensor.defined() ? t.tensor.shape() : Shape{}));
    if (!problems.empty()) fail("load_state_dict", "{}", fmt::join(problems, "; "));

    // copy, only now that nothing can fail
    // NOTE: memmove, not memcpy: loading a module's own state dict copies a buffer onto itself
    for (auto& [to, from] : copies) std::memmove(to.data(), from->data(), sizeof(float) * to.numel());
}

}  // namespace ag
