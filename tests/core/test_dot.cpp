// test_dot.cpp: to_dot against the exact DOT text of small graphs, before and after backward.
#include "testing.hpp"

#include "core/dot.hpp"
#include "nn/linear.hpp"

#include <string>

using namespace ag;
using ag::testing::error_of;

namespace {

// y = sum(a * b + c) with a = 2, b = 3 everywhere (2 x 3) and c = 0 (3,), broadcast over the rows.
struct Expression {
    Tensor a = full({2, 3}, 2.0f).requires_grad_();
    Tensor b = full({2, 3}, 3.0f).requires_grad_();
    Tensor c = zeros({3}).requires_grad_();
    Tensor y = sum(a * b + c);
    std::vector<NamedTensor> names() const { return {{"a", a}, {"b", b}, {"c", c}}; }
};

const std::string kHeader =
    "digraph autograd {\n"
    "  node [fontname=\"Helvetica\", fontsize=10];\n";

}  // namespace

TEST_CASE("to_dot: ops after their inputs, leaves named, the root double-bordered") {
    Expression e;
    CHECK(to_dot(e.y, e.names()) == kHeader +
                                        "  leaf0 [label=\"a\\n(2, 3)\\nrequires_grad\", shape=ellipse];\n"
                                        "  leaf1 [label=\"b\\n(2, 3)\\nrequires_grad\", shape=ellipse];\n"
                                        "  op0 [label=\"mul\\n(2, 3)\", shape=box];\n"
                                        "  leaf0 -> op0;\n"
                                        "  leaf1 -> op0;\n"
                                        "  leaf2 [label=\"c\\n(3,)\\nrequires_grad\", shape=ellipse];\n"
                                        "  op1 [label=\"add\\n(2, 3)\", shape=box];\n"
                                        "  op0 -> op1;\n"
                                        "  leaf2 -> op1;\n"
                                        "  op2 [label=\"sum\\n()\", shape=box, peripheries=2];\n"
                                        "  op1 -> op2;\n"
                                        "}\n");
}

TEST_CASE("to_dot: after backward with retain_graph, each leaf shows the norm of its gradient") {
    Expression e;
    e.y.backward(/*retain_graph=*/true);
    // by hand: dy/da = b = 3 at 6 entries, ‖·‖ = √54 = 7.348; dy/db = a = 2, √24 = 4.899;
    // dy/dc = 2 per entry (summed over the 2 rows it was broadcast to), √12 = 3.464
    CHECK(to_dot(e.y, e.names()) == kHeader +
                                        "  leaf0 [label=\"a\\n(2, 3)\\nrequires_grad\\n‖grad‖ = 7.348\", shape=ellipse];\n"
                                        "  leaf1 [label=\"b\\n(2, 3)\\nrequires_grad\\n‖grad‖ = 4.899\", shape=ellipse];\n"
                                        "  op0 [label=\"mul\\n(2, 3)\", shape=box];\n"
                                        "  leaf0 -> op0;\n"
                                        "  leaf1 -> op0;\n"
                                        "  leaf2 [label=\"c\\n(3,)\\nrequires_grad\\n‖grad‖ = 3.464\", shape=ellipse];\n"
                                        "  op1 [label=\"add\\n(2, 3)\", shape=box];\n"
                                        "  op0 -> op1;\n"
                                        "  leaf2 -> op1;\n"
                                        "  op2 [label=\"sum\\n()\", shape=box, peripheries=2];\n"
                                        "  op1 -> op2;\n"
                                        "}\n");
}

TEST_CASE("to_dot: a graph freed by backward ends at the root, drawn dashed") {
    Expression e;
    e.y.backward();  // no retain_graph: every node drops its edges
    CHECK(to_dot(e.y) == kHeader + "  op0 [label=\"sum\\n()\\n(freed)\", shape=box, peripheries=2, style=dashed];\n}\n");
}

TEST_CASE("to_dot: unnamed leaves, an input used twice, an input without grad, a named result") {
    Tensor x = full({4}, 1.0f).requires_grad_();
    Tensor h = tanh(x * x);  // x enters mul twice: one leaf, two arrows
    Tensor y = h * 2.0f;     // the scalar 2 is a constant: no edge, drawn as "no grad"
    CHECK(to_dot(y, {{"h", h}}) == kHeader +
                                       "  leaf0 [label=\"leaf\\n(4,)\\nrequires_grad\", shape=ellipse];\n"
                                       "  op0 [label=\"mul\\n(4,)\", shape=box];\n"
                                       "  leaf0 -> op0;\n"
                                       "  leaf0 -> op0;\n"
                                       "  op1 [label=\"h = tanh\\n(4,)\", shape=box];\n"
                                       "  op0 -> op1;\n"
                                       "  const0 [label=\"no grad\", shape=plaintext, fontcolor=gray];\n"
                                       "  op2 [label=\"mul\\n(4,)\", shape=box, peripheries=2];\n"
                                       "  op1 -> op2;\n"
                                       "  const0 -> op2 [style=dotted];\n"
                                       "}\n");
}

TEST_CASE("to_dot: a node reached along two paths is drawn once") {
    Tensor x = ones({3}).requires_grad_();
    Tensor e = exp(x);
    Tensor y = e + e;  // one exp node, two arrows into add
    CHECK(to_dot(y) == kHeader +
                           "  leaf0 [label=\"leaf\\n(3,)\\nrequires_grad\", shape=ellipse];\n"
                           "  op0 [label=\"exp\\n(3,)\", shape=box];\n"
                           "  leaf0 -> op0;\n"
                           "  op1 [label=\"add\\n(3,)\", shape=box, peripheries=2];\n"
                           "  op0 -> op1;\n"
                           "  op0 -> op1;\n"
                           "}\n");
}

TEST_CASE("to_dot: a module's named_parameters label its leaves; quotes in names are escaped") {
    Generator gen(0);
    Linear layer(2, 3, gen);
    Tensor y = layer.forward(ones({1, 2}));
    std::string dot = to_dot(y, layer.named_parameters());
    CHECK(dot.find("label=\"weight\\n(3, 2)\\nrequires_grad\"") != std::string::npos);
    CHECK(dot.find("label=\"bias\\n(3,)\\nrequires_grad\"") != std::string::npos);
    CHECK(dot.find("no grad") != std::string::npos);  // the input x does not require grad

    Tensor w = ones({1}).requires_grad_();
    CHECK(to_dot(w * w, {{"say \"w\"", w}}).find("label=\"say \\\"w\\\"\\n(1,)") != std::string::npos);
}

TEST_CASE("to_dot: a leaf root is the whole graph") {
    Tensor w = ones({2}).requires_grad_();
    CHECK(to_dot(w, {{"w", w}}) == kHeader +
                                       "  leaf0 [label=\"w\\n(2,)\\nrequires_grad\", shape=ellipse, peripheries=2];\n"
                                       "}\n");
    CHECK(to_dot(ones({2})) == kHeader + "  leaf0 [label=\"(2,)\", shape=ellipse, peripheries=2];\n}\n");
}

TEST_CASE("to_dot: errors name the op") {
    CHECK(error_of([] { to_dot(Tensor()); }) == "[to_dot] the tensor is undefined");
    Tensor w = ones({2}).requires_grad_();
    CHECK(error_of([&] { to_dot(w, {{"missing", Tensor()}}); }) == "[to_dot] the tensor named 'missing' is undefined");
}
