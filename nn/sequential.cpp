// sequential.cpp: chaining layers (see sequential.hpp).
#include "nn/sequential.hpp"

#include <string>

namespace ag {

Tensor Sequential::forward(const Tensor& x) {
    Tensor y = x;
    for (const auto& layer : layers_) y = layer->forward(y);
    return y;
}

void Sequential::visit(Visitor& v) {
    for (size_t i = 0; i < layers_.size(); ++i) v.module(std::to_string(i), *layers_[i]);
}

UnaryModule& Sequential::operator[](size_t i) {
    check(i < layers_.size(), "Sequential", "index {} out of range for {} layers", i, layers_.size());
    return *layers_[i];
}

}  // namespace ag
