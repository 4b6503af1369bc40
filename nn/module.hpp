// module.hpp: the base of every layer: parameters, buffers and children, found by visiting.
//
// A module holds its parameters, buffers and child modules as plain members and names them in
// ONE function, visit():
//
//   class Block : public UnaryModule {
//       void visit(Visitor& v) override {
//           v.module("norm", norm_);        // its weight is named "norm.weight"
//           v.module("ff", ff_);            // "ff.0.weight", "ff.0.bias", ... (a Sequential)
//           v.parameter("scale", scale_);
//       }
//       LayerNorm norm_;  Sequential ff_;  Tensor scale_;
//   };
//
// Everything else is the base walking that function depth-first, prefixing each child's names
// with "child.": named_parameters, parameters, num_parameters, train/eval, zero_grad,
// state_dict, load_state_dict. There is no second list of pointers kept in sync with the members,
// so a module can be moved (its members move with it) and nothing dangles. An optional tensor
// (Linear without bias) is simply not visited.
//
// Names and layouts are PyTorch's, so a state dict converts one-to-one to torch.nn modules.
//   parameter  trained (requires_grad), in parameters() and in the state dict
//   buffer     state that is not trained (a loss's class weights), in the state dict only
//
// Randomness: modules never own a generator. Initialisation draws from the Generator passed to
// the constructor; modules that also draw at forward time (Dropout, MultiHeadAttention) keep a
// pointer to that generator, so a trainer saves (gen.seed(), gen.offset()) to resume exactly.
#pragma once

#include "core/safetensors.hpp"
#include "core/tensor.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace ag {

class Module;

/// What Module::visit shows its members to: one call per parameter, buffer and child.
class Visitor {
public:
    virtual ~Visitor() = default;
    /// A trained tensor (requires_grad), e.g. "weight".
    virtual void parameter(std::string_view name, Tensor& value) = 0;
    /// A tensor saved with the module but not trained, e.g. a loss's class "weight".
    virtual void buffer(std::string_view name, Tensor& value) = 0;
    /// A child module; its names get the prefix "name.".
    virtual void module(std::string_view name, Module& child) = 0;
};

/// Base of every layer. Move-only: a copy would silently share the parameters' storage.
class Module {
public:
    Module() = default;
    virtual ~Module() = default;
    Module(Module&&) = default;
    Module& operator=(Module&&) = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    /// Names this module's parameters, buffers and children, in a fixed order (the state dict's).
    virtual void visit(Visitor& v) = 0;

    /// Every parameter with its full name ("attn.out_proj.weight"), in visit order. A tensor
    /// reached twice (tied weights) is listed once, under its first name, as in PyTorch.
    std::vector<NamedTensor> named_parameters() const;
    /// The parameters themselves (handles sharing storage: an optimizer updates them in place).
    std::vector<Tensor> parameters() const;
    /// Total number of trainable scalars (each tied tensor counted once).
    int64_t num_parameters() const;

    /// Sets training mode on this module and every module below it (Dropout drops only in training).
    void train(bool on = true);
    /// Evaluation mode: train(false).
    void eval() { train(false); }
    /// Whether this module is in training mode (the default).
    bool training() const { return training_; }

    /// Drops every parameter's gradient (set_to_none, PyTorch 2's default), or fills it with zeros
    /// keeping its buffer (set_to_none = false); as Optimizer::zero_grad.
    void zero_grad(bool set_to_none = true);

    /// Every parameter and buffer by full name, in visit order; tied tensors appear under each
    /// name. The tensors are detached aliases of the module's storage, not copies.
    StateDict state_dict() const;
    /// Copies `state` into the parameters and buffers, in place (optimizers keep their handles).
    /// Checks every name (none missing, none unexpected) and shape before copying anything; on
    /// any mismatch throws ag::Error listing each problem, and the module is left unchanged.
    void load_state_dict(const StateDict& state);

private:
    bool training_ = true;
};

/// A module with one input and one output: what Sequential chains.
class UnaryModule : public Module {
public:
    /// The layer's computation.
    virtual Tensor forward(const Tensor& x) = 0;
    /// Same as forward(x).
    Tensor operator()(const Tensor& x) { return forward(x); }
};

}  // namespace ag
