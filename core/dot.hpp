// dot.hpp: the autograd graph behind a tensor, as Graphviz DOT text, to look at what record()
// built and what backward() will walk.
//
//   ag::Tensor y = ag::sum(a * b + c);
//   std::ofstream("graph.dot") << ag::to_dot(y, {{"a", a}, {"b", b}, {"c", c}});
//   // dot -Tsvg graph.dot -o graph.svg
//
// What the picture shows:
//   box       one recorded op (a Node): its name and the shape of its output
//   ellipse   a leaf that requires grad: its name if given, its shape, and ‖grad‖ (the L2 norm of
//             its accumulated gradient) once a backward has reached it
//   "no grad" an input that needs no gradient (a constant, or an undefined optional input): the
//             node keeps no edge to it, so the engine never visits it
//   arrows    run forward, from each input to the op that consumed it, in input order; backward()
//             walks them the other way, from the root (drawn with a double border) to the leaves
// Intermediate gradients are not shown: the engine frees each op's output gradient as soon as
// that op's backward has used it (as PyTorch does without retain_grad), so only leaves keep one.
// A node freed by an earlier backward (without retain_graph) has lost its edges: it is drawn
// dashed, with "(freed)", and the graph stops there. Call backward(retain_graph=true) to draw
// the whole graph with its gradients.
#pragma once

#include "core/safetensors.hpp"
#include "core/tensor.hpp"

#include <string>
#include <vector>

namespace ag {

/// The graph that produced `root` in DOT, inputs first; `names` labels leaves (by identity, e.g.
/// a module's named_parameters()) and intermediate results ("h" shown on the op that made h).
std::string to_dot(const Tensor& root, const std::vector<NamedTensor>& names = {});

}  // namespace ag
