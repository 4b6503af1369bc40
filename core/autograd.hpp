// autograd.hpp: the dynamic graph and reverse-mode differentiation.
//
// Every op computes its forward and, in the same call, records one Node with its backward:
//
//   Tensor exp(const Tensor& x) {
//       Tensor out = empty(x.shape());
//       exp_forward(out.data(), x.data(), x.numel());
//       record(out, "exp", {x}, [](const Tensor& out, const Tensor& dout) -> Grads {
//           return {mul(dout, out)};  // d/dx e^x = e^x
//       });
//       return out;
//   }
//
// record() is the only way into the graph and it takes the backward as an argument, so no op can
// be recorded without one, and there is no central list of ops. Ownership runs one way only:
//
//   out ──grad_fn──► Node ──edges──► input Nodes (or leaf tensors)
//
// A Node never owns its output tensor: it keeps `out` as a detached alias of the output's storage
// and hands it to the backward, so ops like exp, tanh and softmax reuse their result without a
// shared_ptr cycle. A Node holds its inputs' data only if its backward captured them.
//
// The engine (backward()) orders the nodes without recursion, calls each backward once with the
// summed gradient of its output, reduces broadcast gradients back to each input's shape (sum_to),
// checks every gradient's shape, and accumulates into the leaves' .grad.
#pragma once

#include "core/tensor.hpp"

#include <functional>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace ag {

/// Gradients of a node's inputs, one per input in order; undefined where an input gets none.
using Grads = std::vector<Tensor>;
/// A backward: from the op's output (`out`, detached) and the gradient of the loss with respect to
/// it (`dout`, same shape), the gradients with respect to each input. Runs with grad mode off.
using BackwardFn = std::function<Grads(const Tensor& out, const Tensor& dout)>;

/// Where a node sends the gradient of one of its inputs.
struct Edge {
    std::shared_ptr<Node> node;         ///< the input's producer, if the input is not a leaf
    std::shared_ptr<TensorImpl> leaf;   ///< the input itself, if it is a leaf that requires grad
    Shape shape;                        ///< the input's shape: its gradient must have it
    /// Whether a gradient flows along this edge (false for an input that needs none).
    bool needs_grad() const { return node || leaf; }
};

/// One recorded op: its name, its backward, and the edges to its inputs.
class Node {
public:
    /// A node for op `name` (record() makes them): its edges, the detached output, the backward.
    Node(std::string_view name, std::vector<Edge> edges, Tensor out, BackwardFn backward);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /// The op's name, as used in error messages ("matmul").
    std::string_view name() const { return name_; }
    /// One edge per input, in the op's input order (emptied by release()).
    const std::vector<Edge>& edges() const { return edges_; }
    /// Shape of the op's output.
    const Shape& shape() const { return out_shape_; }
    /// False once backward has freed this node (without retain_graph).
    bool alive() const { return static_cast<bool>(backward_); }

    /// Runs the backward (the engine's job; grad mode must be off).
    Grads apply(const Tensor& dout) const { return backward_(out_, dout); }
    /// Drops the backward and its saved tensors, the output alias and the edges.
    void release();

private:
    std::string_view name_;
    std::vector<Edge> edges_;
    Shape out_shape_;
    Tensor out_;
    BackwardFn backward_;
};

/// Makes `out` the result of op `name` applied to `inputs`, differentiated by `backward`.
/// Does nothing when grad mode is off or no input requires grad. `name` must be a string literal.
void record(Tensor& out, std::string_view name, std::span<const Tensor> inputs, BackwardFn backward);
void record(Tensor& out, std::string_view name, std::initializer_list<Tensor> inputs, BackwardFn backward);

/// Backpropagates `grad` (the gradient of the loss with respect to `root`, same shape) through
/// the graph that produced `root`, accumulating into the .grad of every leaf that requires grad.
/// Frees the graph afterwards unless `retain_graph`.
void backward(const Tensor& root, const Tensor& grad, bool retain_graph = false);

/// Sums `grad` over the dimensions it was broadcast along, down to `shape` (which must broadcast
/// to grad's shape). The engine calls it; `op` names the op in the error when it cannot.
Tensor sum_to(const Tensor& grad, const Shape& shape, std::string_view op);

/// Whether ops record the graph on this thread (true unless a NoGradGuard is alive).
bool grad_enabled();

/// Turns graph recording off on this thread for its lifetime (inference, optimizer updates).
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

/// Nodes alive in this process: returns to its earlier value once a graph is freed (leak tests).
int64_t live_nodes();

}  // namespace ag
