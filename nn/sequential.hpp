// sequential.hpp: layers applied one after another (torch.nn.Sequential).
//
//   out = layer_{n-1}( ... layer_1( layer_0(x) ) ... )        (no layers: out = x)
// The children are named "0", "1", ... as in PyTorch, so parameters read "0.weight", "2.bias".
//
//   Sequential mlp(Linear(4, 16, gen), GELU(), Linear(16, 4, gen));
//   Tensor y = mlp(x);
//   Linear& first = mlp.at<Linear>(0);
#pragma once

#include "nn/module.hpp"

#include "core/error.hpp"

#include <concepts>
#include <memory>
#include <vector>

namespace ag {

/// A chain of one-input modules; owns them.
class Sequential : public UnaryModule {
public:
    /// No layers: the identity.
    Sequential() = default;
    /// Takes the layers, in order (moved in: modules are move-only).
    template <std::derived_from<UnaryModule>... Layers>
    explicit Sequential(Layers... layers) {
        (push_back(std::move(layers)), ...);
    }

    /// Appends a layer (moved in) and returns it, now owned by the Sequential.
    template <std::derived_from<UnaryModule> Layer>
    Layer& push_back(Layer layer) {
        auto owned = std::make_unique<Layer>(std::move(layer));
        Layer& ref = *owned;
        layers_.push_back(std::move(owned));
        return ref;
    }

    /// Applies each layer in turn.
    Tensor forward(const Tensor& x) override;
    /// Names the children "0", "1", ...
    void visit(Visitor& v) override;

    /// Number of layers.
    size_t size() const { return layers_.size(); }
    /// Layer i as a UnaryModule; throws when out of range.
    UnaryModule& operator[](size_t i);
    /// Layer i as its own type; throws when out of range or of another type.
    template <std::derived_from<UnaryModule> Layer>
    Layer& at(size_t i) {
        auto* layer = dynamic_cast<Layer*>(&(*this)[i]);
        check(layer != nullptr, "Sequential", "layer {} is not of the requested type", i);
        return *layer;
    }

private:
    // NOTE: layers are held by pointer because they have different types; the pointers are owned
    // here and named only through visit(), so moving the Sequential moves them all with it
    std::vector<std::unique_ptr<UnaryModule>> layers_;
};

}  // namespace ag
