// Memory stays flat over a long training run: every step frees its graph (live_nodes() back to
// where it was) and, once the optimizer's state exists, allocates and frees exactly the same
// bytes (allocated_bytes() constant between steps). A leak of one node or one tensor per step
// fails at the first step that leaks.
#include "testing.hpp"

using namespace ag;

namespace {

// A tiny classifier with each kind of layer: embedding-free input [B, T, 8] -> Linear -> LayerNorm
// -> self-attention -> mean over T -> Linear -> 3 classes.
struct TinyModel {
    explicit TinyModel(Generator& gen)
        : in(8, 16, gen), norm(16), attention(16, 2, gen, 0.1f), out(16, 3, gen) {}

    std::vector<Tensor> parameters() const {
        std::vector<Tensor> ps;
        for (const Module* m : std::initializer_list<const Module*>{&in, &norm, &attention, &out})
            for (const Tensor& p : m->parameters()) ps.push_back(p);
        return ps;
    }

    Tensor forward(const Tensor& x) {
        Tensor h = norm(relu(in(x)));
        h = h + attention(h).output;
        return out(mean(h, {1}));
    }

    Linear in;
    LayerNorm norm;
    MultiHeadAttention attention;
    Linear out;
};

}  // namespace

TEST_CASE("memory: 10,000 training steps free every graph and keep allocated bytes flat") {
    Generator gen(7);
    TinyModel model(gen);
    AdamOptions options;
    options.lr = 1e-3;
    Adam optimizer(model.parameters(), options);
    Tensor x = randn({2, 4, 8}, gen);
    Tensor targets = tensor({0.0f, 2.0f});

    const int64_t nodes_before = live_nodes();
    auto step = [&] {
        optimizer.zero_grad();
        Tensor loss = cross_entropy(model.forward(x), targets);
        loss.backward();
        optimizer.step();
        return loss.item();
    };
    // warm-up: the first steps create the gradients and Adam's moments
    float first_loss = step();
    for (int i = 0; i < 4; ++i) step();
    const int64_t bytes_after_warmup = allocated_bytes();
    CHECK(live_nodes() == nodes_before);

    int node_leaks = 0, byte_changes = 0;
    float last_loss = 0.0f;
    for (int i = 0; i < 10'000; ++i) {
        last_loss = step();
        node_leaks += live_nodes() != nodes_before;
        byte_changes += allocated_bytes() != bytes_after_warmup;
    }
    CHECK(node_leaks == 0);
    CHECK(byte_changes == 0);
    CHECK(allocated_bytes() == bytes_after_warmup);
    // and it did train: 10,000 steps on one batch drive the loss down
    CHECK(last_loss < 0.5f * first_loss);
}

TEST_CASE("memory: a graph dropped without backward is freed whole") {
    const int64_t nodes_before = live_nodes(), bytes_before = allocated_bytes();
    {
        Tensor w = ag::testing::param({64, 64}, 1);
        Tensor h = w;
        for (int i = 0; i < 1000; ++i) h = tanh(h * 0.5f);  // a chain of 2,000 nodes, each saving a tensor
        CHECK(live_nodes() == nodes_before + 2000);
    }
    CHECK(live_nodes() == nodes_before);
    CHECK(allocated_bytes() == bytes_before);
}
