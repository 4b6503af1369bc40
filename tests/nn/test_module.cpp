// test_module.cpp: Module's walks over visit(): hierarchical names, parameter counts, tied weights,
// train/eval, zero_grad, state_dict and every load_state_dict error; and one backward through
// every module giving every parameter a non-zero gradient.
#include "testing.hpp"

#include "nn/activation.hpp"
#include "nn/attention.hpp"
#include "nn/dropout.hpp"
#include "nn/embedding.hpp"
#include "nn/layer_norm.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/module.hpp"
#include "nn/sequential.hpp"

#include <string>
#include <vector>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;

namespace {

// A transformer-like block: its names nest three levels deep ("attn.out_proj.weight").
//   x [B, T, 4] -> x + attn(x) -> norm -> ff (Linear 4->8, ReLU, Dropout, Linear 8->4 no bias) -> * scale
class Block : public UnaryModule {
public:
    explicit Block(Generator& gen)
        : attn_(4, 2, gen),
          norm_(4),
          ff_(Linear(4, 8, gen), ReLU(), Dropout(0.5f, gen), Linear(8, 4, gen, false)),
          scale_(ones({4}).requires_grad_()) {}

    Tensor forward(const Tensor& x) override { return ff_(norm_(x + attn_(x).output)) * scale_; }
    void visit(Visitor& v) override {
        v.module("attn", attn_);
        v.module("norm", norm_);
        v.module("ff", ff_);
        v.parameter("scale", scale_);
    }

    MultiHeadAttention attn_;
    LayerNorm norm_;
    Sequential ff_;
    Tensor scale_;
};

// Visits one table twice under two names, as a language model ties its input and output embeddings.
class Tied : public Module {
public:
    explicit Tied(Generator& gen) : table_(randn({3, 2}, gen).requires_grad_()) {}
    void visit(Visitor& v) override {
        v.parameter("wte", table_);
        v.parameter("lm_head", table_);
    }
    Tensor table_;
};

// A module whose visit() wrongly names an absent tensor.
class Broken : public Module {
public:
    void visit(Visitor& v) override { v.parameter("bias", bias_); }
    Tensor bias_;
};

std::vector<std::string> names_of(const std::vector<NamedTensor>& tensors) {
    std::vector<std::string> names;
    for (const NamedTensor& t : tensors) names.push_back(t.name);
    return names;
}

// Copies of every parameter's values, to check that a failed load changed nothing.
std::vector<std::vector<float>> values_of(const Module& m) {
    std::vector<std::vector<float>> values;
    for (const Tensor& p : m.parameters()) values.push_back(p.to_vector());
    return values;
}

}  // namespace

TEST_CASE("Module names parameters hierarchically, in visit order") {
    Generator gen(0);
    Block block(gen);
    const std::vector<std::string> expected = {
        "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias",
        "norm.weight",         "norm.bias",         "ff.0.weight",          "ff.0.bias",
        "ff.3.weight",         "scale",  // ReLU (1) and Dropout (2) have no parameters; ff.3 has no bias
    };
    CHECK(names_of(block.named_parameters()) == expected);
    CHECK(block.named_parameters()[2].tensor.shape() == Shape{4, 4});
    CHECK(block.named_parameters()[8].tensor.shape() == Shape{4, 8});

    SUBCASE("a module inside a Sequential gets one more prefix") {
        Sequential model{Block(gen), Block(gen)};
        std::vector<NamedTensor> named = model.named_parameters();
        REQUIRE(named.size() == 2 * expected.size());
        CHECK(named[2].name == "0.attn.out_proj.weight");
        CHECK(named[expected.size() + 6].name == "1.ff.0.weight");
    }
}

TEST_CASE("Module counts parameters") {
    Generator gen(0);
    Block block(gen);
    // attn: 3D·D + 3D + D·D + D = 48 + 12 + 16 + 4 = 80; norm: 4 + 4; ff: 8·4 + 8 + 4·8 = 72; scale: 4
    CHECK(block.num_parameters() == 80 + 8 + 72 + 4);
    CHECK(block.parameters().size() == 10);
    // the parameters are the module's own tensors (an optimizer updates them in place)
    CHECK(block.parameters()[9].impl() == block.scale_.impl());
    for (const Tensor& p : block.parameters()) CHECK(p.requires_grad());
}

TEST_CASE("Module lists a tied tensor once among parameters, under each name in the state dict") {
    Generator gen(0);
    Tied tied(gen);
    CHECK(names_of(tied.named_parameters()) == std::vector<std::string>{"wte"});
    CHECK(tied.num_parameters() == 6);
    CHECK(names_of(tied.state_dict().tensors) == std::vector<std::string>{"wte", "lm_head"});
}

TEST_CASE("Module train/eval reach every module below") {
    Generator gen(0);
    Sequential model{Block(gen), Block(gen)};
    Block& second = model.at<Block>(1);
    CHECK(model.training());
    CHECK(second.ff_[2].training());

    model.eval();
    CHECK_FALSE(model.training());
    CHECK_FALSE(model[0].training());
    CHECK_FALSE(second.attn_.training());
    CHECK_FALSE(second.attn_.out_proj().training());
    CHECK_FALSE(second.ff_[2].training());
    // in evaluation the Dropout inside is the identity: two forwards agree exactly
    Tensor x = randn({2, 3, 4}, gen);
    CHECK(model(x).to_vector() == model(x).to_vector());

    model.train();
    CHECK(second.ff_[2].training());
    CHECK(second.attn_.out_proj().training());
    // and back in training it drops: two forwards draw different masks
    CHECK(model(x).to_vector() != model(x).to_vector());

    SUBCASE("train(false) on a child leaves its parent alone") {
        second.eval();
        CHECK(model.training());
        CHECK_FALSE(second.norm_.training());
        CHECK(model.at<Block>(0).norm_.training());
    }
}

TEST_CASE("Module zero_grad drops every parameter's gradient, or zeroes it") {
    Generator gen(0);
    Block block(gen);
    block.eval();
    sum(block(randn({2, 3, 4}, gen))).backward();
    for (const Tensor& p : block.parameters()) REQUIRE(p.grad().defined());
    block.zero_grad();
    for (const Tensor& p : block.parameters()) CHECK(!p.grad().defined());
    sum(block(randn({2, 3, 4}, gen))).backward();
    block.zero_grad(false);
    for (const NamedTensor& p : block.named_parameters()) {
        CAPTURE(p.name);
        CHECK(p.tensor.grad().defined());  // kept, for the next backward to accumulate into
        check_close(p.tensor.grad(), zeros(p.tensor.shape()), 0.0f, 0.0f);
    }
}

TEST_CASE("Module state_dict round trip") {
    Generator gen_a(1), gen_b(2);
    Block a(gen_a), b(gen_b);
    a.eval(), b.eval();
    Tensor x = randn({2, 3, 4}, gen_a);
    REQUIRE_FALSE(allclose(a(x), b(x)));

    const std::vector<Tensor> b_params = b.parameters();
    b.load_state_dict(a.state_dict());
    check_close(b(x), a(x), 0.0f, 0.0f);
    // loaded in place: the tensors an optimizer holds are still b's parameters
    for (size_t i = 0; i < b_params.size(); ++i) CHECK(b.parameters()[i].impl() == b_params[i].impl());
    // and copied, not shared: changing a afterwards leaves b alone
    a.scale_.data()[0] = 5.0f;
    CHECK(b.scale_.data()[0] == 1.0f);

    SUBCASE("the state dict aliases the module's storage and is detached") {
        StateDict state = a.state_dict();
        CHECK(state.tensors.size() == 10);
        CHECK(state.tensors[9].tensor.data() == a.scale_.data());
        CHECK_FALSE(state.tensors[9].tensor.requires_grad());
    }
    SUBCASE("loading a module's own state dict changes nothing") {
        std::vector<std::vector<float>> before = values_of(a);
        a.load_state_dict(a.state_dict());
        CHECK(values_of(a) == before);
    }
}

TEST_CASE("Module load_state_dict rejects a bad state dict and leaves the module unchanged") {
    Generator gen(1);
    Block block(gen), other(gen);
    const std::vector<std::vector<float>> before = values_of(block);
    StateDict state = other.state_dict();

    SUBCASE("missing") {
        state.tensors.erase(state.tensors.begin() + 2);  // attn.out_proj.weight
        std::string message = error_of([&] { block.load_state_dict(state); });
        CHECK(message.find("[load_state_dict]") == 0);
        CHECK(message.find("missing 'attn.out_proj.weight' (expected shape (4, 4))") != std::string::npos);
    }
    SUBCASE("unexpected") {
        state.tensors.push_back({"attn.out_proj.scale", zeros({4})});
        std::string message = error_of([&] { block.load_state_dict(state); });
        CHECK(message.find("[load_state_dict]") == 0);
        CHECK(message.find("unexpected 'attn.out_proj.scale' (shape (4,))") != std::string::npos);
    }
    SUBCASE("wrong shape, after a tensor that would have loaded") {
        state.tensors[8].tensor = zeros({8, 4});  // ff.3.weight is (4, 8)
        std::string message = error_of([&] { block.load_state_dict(state); });
        CHECK(message.find("[load_state_dict]") == 0);
        CHECK(message.find("'ff.3.weight': expected shape (4, 8), found (8, 4)") != std::string::npos);
    }
    SUBCASE("a name given twice") {
        state.tensors.push_back(state.tensors[0]);
        std::string message = error_of([&] { block.load_state_dict(state); });
        CHECK(message.find("'attn.in_proj_weight' given twice") != std::string::npos);
    }
    SUBCASE("every problem at once") {
        state.tensors.erase(state.tensors.begin());
        state.tensors.push_back({"extra", zeros({1})});
        state.tensors[0].tensor = zeros({3});  // now attn.in_proj_bias, expected (12,)
        std::string message = error_of([&] { block.load_state_dict(state); });
        CHECK(message.find("missing 'attn.in_proj_weight'") != std::string::npos);
        CHECK(message.find("'attn.in_proj_bias': expected shape (12,), found (3,)") != std::string::npos);
        CHECK(message.find("unexpected 'extra'") != std::string::npos);
    }
    CHECK(values_of(block) == before);
}

TEST_CASE("Module rejects a visit() that names an undefined tensor") {
    Broken broken;
    std::string message = error_of([&] { broken.named_parameters(); });
    CHECK(message.find("[Module]") == 0);
    CHECK(message.find("'bias'") != std::string::npos);
}

TEST_CASE("Module can be moved: its parameters move with it") {
    Generator gen(3);
    Block block(gen);
    const Tensor weight = block.attn_.in_proj_weight();
    Block moved = std::move(block);
    CHECK(moved.named_parameters()[0].tensor.impl() == weight.impl());
    CHECK(moved.num_parameters() == 164);
    std::vector<Block> blocks;
    blocks.push_back(std::move(moved));
    blocks.push_back(Block(gen));  // the vector reallocates: nothing points into the old storage
    CHECK(blocks[0].named_parameters()[0].tensor.impl() == weight.impl());
}

TEST_CASE("Module: one backward through every module gives every parameter a non-zero gradient") {
    // ids -> Embedding -> Block (MultiHeadAttention, LayerNorm, Sequential(Linear, ReLU, Dropout,
    // Linear), scale) -> GELU -> LayerNorm -> Linear -> CrossEntropyLoss, plus an MSELoss term
    Generator gen(5);
    Embedding embed(7, 4, gen, 0);
    Sequential body(Block(gen), GELU(), LayerNorm(4), Linear(4, 7, gen));
    CrossEntropyLoss ce;
    MSELoss mse;

    Tensor ids = tensor({1, 2, 3, 0, 4, 5, 6, 1}, Shape{2, 4});  // B = 2, T = 4, one padding id
    Tensor targets = tensor({2, 3, 4, 5, 6, 1, 0, 3});
    Tensor h = embed(ids);
    Tensor logits = body(h);
    Tensor loss = ce(reshape(logits, {8, 7}), targets) + mse(logits, zeros({2, 4, 7}));
    loss.backward();

    std::vector<NamedTensor> params = embed.named_parameters();
    for (NamedTensor& p : body.named_parameters()) params.push_back(p);
    CHECK(params.size() == 1 + 10 + 2 + 2);
    for (const NamedTensor& p : params) {
        CAPTURE(p.name);
        REQUIRE(p.tensor.grad().defined());
        float largest = 0.0f;
        for (float g : p.tensor.grad().to_vector()) largest = std::max(largest, std::abs(g));
        CHECK(largest > 0.0f);
    }
    // the padding row alone gets nothing
    for (int64_t d = 0; d < 4; ++d) CHECK(embed.weight().grad().at({0, d}) == 0.0f);
}
