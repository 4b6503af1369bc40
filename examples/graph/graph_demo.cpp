// graph_demo.cpp: draws the autograd graph of a small network with ag::to_dot (core/dot.hpp).
//
//   x: [4, 3] inputs                 net = Sequential(Linear(3, 8), ReLU(), Linear(8, 1))
//   prediction = net(x): [4, 1]      loss = mse_loss(prediction, target)
//
// Writes two files into the directory given as the first argument (default: the current one):
//   graph.dot          the graph as record() built it: ops, shapes, the parameters by name
//   graph_grad.dot     the same after loss.backward(retain_graph=true): each parameter's ‖grad‖
// and, when Graphviz's `dot` is on PATH, renders each to .svg next to it.
#include "attograd.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

// Writes `text` to `path`; false (with a message) if the file cannot be written.
bool write_file(const std::string& path, const std::string& text) {
    std::ofstream file(path);
    file << text;
    file.close();
    if (!file) std::fprintf(stderr, "graph_demo: cannot write %s\n", path.c_str());
    return static_cast<bool>(file);
}

// `dot -Tsvg in -o out` if Graphviz is installed; otherwise says how to get it.
void render_svg(const std::string& dot_path, const std::string& svg_path) {
    static const bool have_dot = std::system("command -v dot >/dev/null 2>&1") == 0;
    if (!have_dot) {
        std::printf("  (Graphviz's dot is not on PATH: apt-get install graphviz, then dot -Tsvg %s -o %s)\n",
                    dot_path.c_str(), svg_path.c_str());
        return;
    }
    // NOTE: paths are quoted for the shell; a path containing a quote would still break this line.
    const std::string command = "dot -Tsvg '" + dot_path + "' -o '" + svg_path + "'";
    if (std::system(command.c_str()) == 0)
        std::printf("  rendered %s\n", svg_path.c_str());
    else
        std::fprintf(stderr, "graph_demo: %s failed\n", command.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? std::string(argv[1]) + "/" : "";

    // a network, a batch and a loss: every op below records one node
    ag::Generator gen(0);
    ag::Sequential net(ag::Linear(3, 8, gen), ag::ReLU(), ag::Linear(8, 1, gen));
    ag::Tensor x = ag::randn({4, 3}, gen);
    ag::Tensor target = ag::randn({4, 1}, gen);
    ag::Tensor prediction = net(x);
    ag::Tensor loss = ag::mse_loss(prediction, target);

    // parameters by their PyTorch names ("0.weight", ...), and two intermediate results
    std::vector<ag::NamedTensor> names = net.named_parameters();
    names.push_back({"prediction", prediction});
    names.push_back({"loss", loss});

    // before backward: the graph as recorded
    std::printf("graph of loss = mse_loss(net(x), target), %lld parameters\n",
                static_cast<long long>(net.num_parameters()));
    if (!write_file(dir + "graph.dot", ag::to_dot(loss, names))) return 1;
    std::printf("  wrote %sgraph.dot\n", dir.c_str());
    render_svg(dir + "graph.dot", dir + "graph.svg");

    // after backward: retain_graph keeps the nodes (and their edges) for a second look
    loss.backward(/*retain_graph=*/true);
    if (!write_file(dir + "graph_grad.dot", ag::to_dot(loss, names))) return 1;
    std::printf("  wrote %sgraph_grad.dot (with the gradient norm of each parameter)\n", dir.c_str());
    render_svg(dir + "graph_grad.dot", dir + "graph_grad.svg");
    return 0;
}
