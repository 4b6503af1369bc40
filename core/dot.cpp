// dot.cpp: the autograd graph as Graphviz DOT (see dot.hpp).
//
// Two passes over the graph: order the nodes inputs-first (a depth-first post-order from the
// root, without recursion, as the engine's topological sort), then print each node after its
// inputs, numbering leaves as they are first met. The text depends only on the graph, never on
// pointer values, so it can be compared exactly in tests.
#include "core/dot.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ag {

namespace {

// Nodes reachable from `root`, each after all of its inputs' nodes.
std::vector<const Node*> inputs_first(const Node* root) {
    std::vector<const Node*> order;
    std::unordered_set<const Node*> visited{root};
    std::vector<std::pair<const Node*, size_t>> stack{{root, 0}};  // node and the next edge to visit
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->edges().size()) {
            const Node* input = node->edges()[next++].node.get();
            if (input && visited.insert(input).second) stack.emplace_back(input, 0);  // NOTE: invalidates node, next
        } else {
            order.push_back(node);
            stack.pop_back();
        }
    }
    return order;
}

// A DOT string literal's contents: quotes and backslashes escaped.
std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// sqrt(Σ g²), accumulated in double so that large gradients do not lose their small terms.
double l2_norm(const Tensor& g) {
    double sum = 0.0;
    const float* p = g.data();
    for (int64_t i = 0, n = g.numel(); i < n; ++i) sum += double(p[i]) * double(p[i]);
    return std::sqrt(sum);
}

// What the user called the tensors they named: leaves by their TensorImpl, results by their Node.
struct Names {
    std::unordered_map<const TensorImpl*, std::string> leaves;
    std::unordered_map<const Node*, std::string> results;

    explicit Names(const std::vector<NamedTensor>& named) {
        for (const NamedTensor& t : named) {
            check(t.tensor.defined(), "to_dot", "the tensor named '{}' is undefined", t.name);
            if (t.tensor.is_leaf())
                leaves.try_emplace(t.tensor.impl(), t.name);  // the first name wins, as named_parameters
            else
                results.try_emplace(t.tensor.grad_fn().get(), t.name);
        }
    }
};

// label="..." of a leaf: its name (or "leaf"), its shape, and its gradient's norm if it has one.
std::string leaf_label(const TensorImpl& leaf, const Names& names) {
    auto found = names.leaves.find(&leaf);
    std::string label = found != names.leaves.end() ? escape(found->second) : "leaf";
    label += fmt::format("\\n{}\\nrequires_grad", leaf.shape);
    if (leaf.grad.defined()) label += fmt::format("\\n‖grad‖ = {:.4g}", l2_norm(leaf.grad));
    return label;
}

// label="..." of an op: "name = op" if the user named its result, and the output's shape.
std::string node_label(const Node& node, const Names& names) {
    auto found = names.results.find(&node);
    std::string label = found != names.results.end() ? escape(found->second) + " = " : "";
    label += fmt::format("{}\\n{}", escape(node.name()), node.shape());
    if (!node.alive()) label += "\\n(freed)";
    return label;
}

}  // namespace

std::string to_dot(const Tensor& root, const std::vector<NamedTensor>& named) {
    check(root.defined(), "to_dot", "the tensor is undefined");
    const Names names(named);
    std::string dot =
        "digraph autograd {\n"
        "  node [fontname=\"Helvetica\", fontsize=10];\n";

    // a leaf root: the graph is that tensor alone
    if (root.is_leaf()) {
        std::string label = root.requires_grad() ? leaf_label(*root.impl(), names) : fmt::format("{}", root.shape());
        dot += fmt::format("  leaf0 [label=\"{}\", shape=ellipse, peripheries=2];\n}}\n", label);
        return dot;
    }

    // the ops, each after its inputs; leaves are numbered as they are first met
    const std::vector<const Node*> order = inputs_first(root.grad_fn().get());
    std::unordered_map<const Node*, size_t> op_id;
    std::unordered_map<const TensorImpl*, size_t> leaf_id;
    size_t no_grad_inputs = 0;
    for (const Node* node : order) {
        const size_t id = op_id.size();
        op_id.emplace(node, id);
        std::string edges;
        for (const Edge& edge : node->edges()) {
            if (edge.node) {
                edges += fmt::format("  op{} -> op{};\n", op_id.at(edge.node.get()), id);
            } else if (edge.leaf) {
                auto [slot, first] = leaf_id.try_emplace(edge.leaf.get(), leaf_id.size());
                if (first)
                    dot += fmt::format("  leaf{} [label=\"{}\", shape=ellipse];\n", slot->second,
                                       leaf_label(*edge.leaf, names));
                edges += fmt::format("  leaf{} -> op{};\n", slot->second, id);
            } else {
                const size_t k = no_grad_inputs++;
                dot += fmt::format("  const{} [label=\"no grad\", shape=plaintext, fontcolor=gray];\n", k);
                edges += fmt::format("  const{} -> op{} [style=dotted];\n", k, id);
            }
        }
        std::string style = node == order.back() ? ", peripheries=2" : "";
        if (!node->alive()) style += ", style=dashed";
        dot += fmt::format("  op{} [label=\"{}\", shape=box{}];\n", id, node_label(*node, names), style);
        dot += edges;
    }
    dot += "}\n";
    return dot;
}

}  // namespace ag
