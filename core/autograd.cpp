// autograd.cpp: recording nodes and the backward engine (see autograd.hpp).
#include "core/autograd.hpp"

#include "core/anomaly.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <utility>

namespace ag {

namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_in_backward = false;  // the engine is running backwards on this thread
std::atomic<int64_t> g_live_nodes{0};
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }
int64_t live_nodes() { return g_live_nodes.load(); }

Node::Node(std::string_view name, std::vector<Edge> edges, Tensor out, BackwardFn backward)
    : name_(name), edges_(std::move(edges)), out_shape_(out.shape()), out_(std::move(out)), backward_(std::move(backward)) {
    ++g_live_nodes;
}

Node::~Node() { --g_live_nodes; }

void Node::release() {
    backward_ = nullptr;
    out_ = Tensor();
    edges_.clear();
}

void record(Tensor& out, std::string_view name, std::span<const Tensor> inputs, BackwardFn backward) {
    // anomaly mode checks every op's output, recorded or not, but not the ops a backward runs:
    // the engine checks the gradients they add up to
    if (detect_anomaly() && !t_in_backward) detail::check_forward_anomaly(out, name, inputs);
    if (!t_grad_enabled) return;
    bool any = false;
    for (const Tensor& input : inputs) any = any || (input.defined() && input.requires_grad());
    if (!any) return;

    std::vector<Edge> edges(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& input = inputs[i];
        if (!input.defined() || !input.requires_grad()) continue;  // an edge that needs nothing
        edges[i].shape = input.shape();
        if (input.grad_fn())
            edges[i].node = input.grad_fn();
        else
            edges[i].leaf = input.impl_ptr();
    }
    out.impl()->grad_fn = std::make_shared<Node>(name, std::move(edges), out.detach(), std::move(backward));
    out.impl()->requires_grad = true;
}

void record(Tensor& out, std::string_view name, std::initializer_list<Tensor> inputs, BackwardFn backward) {
    record(out, name, std::span<const Tensor>(inputs.begin(), inputs.size()), std::move(backward));
}

// --- sum_to ------------------------------------------------------------------------------------

Tensor sum_to(const Tensor& grad, const Shape& shape, std::string_view op) {
    const Shape& from = grad.shape();
    if (from == shape) return grad;
    bool reducible = shape.ndim() <= from.ndim();
    for (int d = 1; reducible && d <= shape.ndim(); ++d)
        reducible = shape[-d] == from[-d] || shape[-d] == 1;
    check(reducible, op, "gradient of shape {} cannot be summed to the input's shape {}", from, shape);

    // fast path: `shape` is grad's trailing dimensions (a bias [D] of [N, D], a position table
    // [T, D] of [B, T, D]): the sum of grad's R consecutive blocks of C = shape.numel() floats
    Tensor out = zeros(shape);
    int lead = 0;
    while (lead < shape.ndim() && shape[lead] == 1) ++lead;
    bool trailing = shape.ndim() - lead >= 1;
    for (int d = 1; trailing && d <= shape.ndim() - lead; ++d) trailing = shape[-d] == from[-d];
    if (trailing) {
        const int64_t C = shape.numel(), R = grad.numel() / C;
        const float* g = grad.data();
        float* o = out.data();
        // threads take ranges of columns; each column is summed over r in order, so any split
        // gives the same bits
        parallel_for(0, C, std::max<int64_t>(16, kChunkFloats / std::max<int64_t>(R, 1)), [&](int64_t c0, int64_t c1) {
            for (int64_t r = 0; r < R; ++r)
                for (int64_t c = c0; c < c1; ++c) o[c] += g[r * C + c];
        });
        return out;
    }

    // every element of grad adds into the element of `shape` it was broadcast from
    auto target = broadcast_strides(shape, from);  // 0 along broadcast dimensions
    const float* g = grad.data();
    float* o = out.data();
    int ndim = from.ndim();
    std::array<int64_t, kMaxDims> index{};
    int64_t at = 0;  // position in `out` of the current index
    for (int64_t i = 0, n = grad.numel(); i < n; ++i) {
        o[at] += g[i];
        // advance the multi-index like an odometer, keeping `at` in step
        for (int d = ndim - 1; d >= 0; --d) {
            at += target[d];
            if (++index[d] < from[d]) break;
            at -= target[d] * from[d];
            index[d] = 0;
        }
    }
    return out;
}

// --- the engine --------------------------------------------------------------------------------

namespace {

// Nodes reachable from `root`, each after every node that consumes its output (reverse
// post-order of a depth-first search). Iterative: a chain of 100,000 ops must not overflow the
// stack.
std::vector<Node*> topological_order(Node* root) {
    std::vector<Node*> post_order;
    std::unordered_map<Node*, bool> visited;
    std::vector<std::pair<Node*, size_t>> stack{{root, 0}};  // node and the next edge to visit
    visited[root] = true;
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->edges().size()) {
            Node* child = node->edges()[next++].node.get();
            if (child && !visited[child]) {
                visited[child] = true;
                stack.emplace_back(child, 0);  // NOTE: invalidates `node` and `next`; not used after
            }
        } else {
            post_order.push_back(node);
            stack.pop_back();
        }
    }
    return {post_order.rbegin(), post_order.rend()};
}

// Whether `g` is the only handle to its buffer: no other tensor, view or node can see it.
bool sole_owner(const Tensor& g) { return g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1; }

// out[i] = a[i] + b[i] for i < n (out may be a), on the threads; each element is one add, so the
// bits do not depend on the split.
void add_floats(float* out, const float* a, const float* b, int64_t n) {
    parallel_for(0, n, kChunkFloats, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] + b[i];
    });
}

// sum += g, elementwise (same shapes).
void add_into(const Tensor& sum, const Tensor& g) { add_floats(sum.data(), sum.data(), g.data(), g.numel()); }

// grad(t) += g for a leaf. The first gradient becomes the leaf's grad: taken over when nothing
// else can see its buffer (the usual case, e.g. embedding's fresh [V, D] gradient: no copy), else
// copied, because `g` may alias another tensor's gradient (add's backward returns dout for both
// inputs) and the leaf's buffer is later updated in place.
void accumulate_leaf(TensorImpl& leaf, Tensor g) {
    if (!leaf.grad.defined()) {
        leaf.grad = sole_owner(g) ? std::move(g) : clone_data(g);
        return;
    }
    add_into(leaf.grad, g);
}

// A node's pending output gradient plus one more contribution, out of place (pending may alias).
Tensor add_gradients(const Tensor& pending, const Tensor& g) {
    Tensor sum = empty(g.shape());
    add_floats(sum.data(), pending.data(), g.data(), g.numel());
    return sum;
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
    check(root.requires_grad(), "backward", "the tensor does not require grad and has no grad_fn");
    check(grad.defined() && grad.shape() == root.shape(), "backward", "gradient shape {} does not match output shape {}",
          grad.defined() ? grad.shape() : Shape{}, root.shape());
    NoGradGuard no_grad;  // backward's own ops are not recorded
    bool anomaly = detect_anomaly();
    if (anomaly) check_finite(grad, "backward");  // the gradient the caller passed in
    struct InBackward {  // restores the flag however the loop ends
        bool previous = std::exchange(t_in_backward, true);
        ~InBackward() { t_in_backward = previous; }
    } in_backward;
    if (root.is_leaf()) {
        accumulate_leaf(*root.impl(), grad);
        return;
    }

    std::vector<Node*> order = topological_order(root.grad_fn().get());
    // Keep every node alive until the end: releasing a node drops its edges, which may hold the
    // last reference to nodes still waiting in `order`.
    std::vector<std::shared_ptr<Node>> keep_alive;
    keep_alive.reserve(order.size());
    std::unordered_map<Node*, Tensor> pending{{order.front(), grad}};

    for (Node* node : order) {
        check(node->alive(), "backward",
              "the graph through '{}' was already freed by an earlier backward; pass retain_graph=true to "
              "backpropagate twice", node->name());
        auto found = pending.find(node);
        Tensor dout = found->second;  // every node in `order` is reached from the root, so it has one
        pending.erase(found);

        Grads grads = node->apply(dout);
        const std::vector<Edge>& edges = node->edges();
        check(grads.size() == edges.size(), node->name(), "backward returned {} gradients for {} inputs", grads.size(),
              edges.size());
        for (size_t i = 0; i < edges.size(); ++i) {
            const Edge& edge = edges[i];
            if (!edge.needs_grad() || !grads[i].defined()) continue;
            if (anomaly) detail::check_backward_anomaly(grads[i], node->name(), i, dout);
            // the engine, not each op, undoes broadcasting and checks the shape
            Tensor g = sum_to(grads[i], edge.shape, node->name());
            grads[i] = Tensor();  // the engine's own handle goes: a leaf may then take g over
            if (edge.node) {
                auto [slot, inserted] = pending.try_emplace(edge.node.get(), g);
                if (!inserted) {
                    // in place when nothing else can see the pending sum (no new buffer to fill)
                    if (sole_owner(slot->second)) add_into(slot->second, g);
                    else slot->second = add_gradients(slot->second, g);
                }
            } else {
                accumulate_leaf(*edge.leaf, std::move(g));
            }
        }
        if (!retain_graph) {
            for (const Edge& edge : edges)
                if (edge.node) keep_alive.push_back(edge.node);
            node->release();
        }
    }
}

}  // namespace ag
