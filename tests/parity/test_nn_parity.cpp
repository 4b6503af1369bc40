// test_nn_parity.cpp: the nn modules against torch.nn, forward and every gradient.
//
// The fixtures (tests/parity/fixtures/nn_*.safetensors) were written by generate_nn.py with
// torch.nn: the module's parameters under torch's state_dict names, the inputs, an upstream
// gradient dout, torch's output (and attention weights), and torch's gradient of every input and
// parameter after output.backward(dout). Our module loads the parameters through
// load_state_dict, so the names and layouts are checked too. This test needs no Python.
//
// Tolerance: 1e-5 relative plus 1e-6 absolute. Both sides compute in float32 from the same
// inputs; they differ only in the order of summation inside matmul, softmax and layer_norm
// (a few ulp, ~1e-7 relative; the largest values here are ~10; 1e-6 relative already fails).
// The absolute part covers values that are 0 in exact arithmetic, such as the gradient of the key
// bias (adding it shifts every score of a query equally, which softmax ignores): ~3e-7 on both
// sides, from rounding. A wrong formula (a missing mask, a transposed head split, a dropped term
// of a gradient) moves values by 1e-2 or more.
#include "testing.hpp"

#include "nn/attention.hpp"
#include "nn/embedding.hpp"
#include "nn/layer_norm.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"

#include <string>

using namespace ag;
using ag::testing::kFixtures;
using ag::testing::kParityRtol;
using ag::testing::check_close;

namespace {

constexpr float kAtol = 1e-6f;

// One fixture file and what a test takes from it.
class Fixture {
public:
    explicit Fixture(const std::string& name) : file_(load_safetensors(kFixtures + "nn_" + name + ".safetensors")) {}

    /// The tensor called `name`; fails the test if absent.
    const Tensor& at(const std::string& name) const {
        const Tensor* t = file_.find(name);
        INFO("fixture tensor ", name);
        REQUIRE(t != nullptr);
        return *t;
    }
    /// Input `name` as a fresh leaf; float inputs that torch differentiated require grad here too.
    Tensor input(const std::string& name) const {
        Tensor t = clone_data(at("input." + name));
        if (file_.find("grad.input." + name) != nullptr) t.requires_grad_();
        return t;
    }
    const std::string& metadata(const std::string& key) const { return file_.metadata.at(key); }
    /// The "param.*" tensors with the prefix stripped: a state dict in torch's names.
    StateDict params() const {
        StateDict state;
        for (const NamedTensor& t : file_.tensors)
            if (t.name.rfind("param.", 0) == 0) state.tensors.push_back({t.name.substr(6), t.tensor});
        return state;
    }

    /// Compares the forward output, then every gradient torch has: of the module's parameters
    /// (by its names) and of the inputs given.
    void check(const Tensor& output, Module& module, const std::vector<std::pair<std::string, Tensor>>& inputs) const {
        check_close(output, at("output"), kParityRtol, kAtol);
        int compared = 0;
        for (const NamedTensor& p : module.named_parameters()) {
            CAPTURE(p.name);
            REQUIRE(p.tensor.grad().defined());
            check_close(p.tensor.grad(), at("grad.param." + p.name), kParityRtol, kAtol);
            ++compared;
        }
        for (const auto& [name, t] : inputs) {
            CAPTURE(name);
            REQUIRE(t.grad().defined());
            check_close(t.grad(), at("grad.input." + name), kParityRtol, kAtol);
            ++compared;
        }
        // nothing torch differentiated was left unchecked
        int expected = 0;
        for (const NamedTensor& t : file_.tensors) expected += t.name.rfind("grad.", 0) == 0;
        CHECK(compared == expected);
    }

private:
    StateDict file_;
};

// The MultiheadAttention cases: self-attention on "x" or cross-attention on query/key/value.
void check_attention(const std::string& name, AttentionOptions options) {
    CAPTURE(name);
    Fixture f(name);
    Generator gen(0);
    MultiHeadAttention mha(std::stoll(f.metadata("embed_dim")), std::stoll(f.metadata("num_heads")), gen);
    mha.load_state_dict(f.params());
    mha.eval();
    options.need_weights = true;
    options.average_weights = f.metadata("average_attn_weights") == "True";

    std::vector<std::pair<std::string, Tensor>> inputs;
    AttentionOutput out;
    if (name.find("cross") == std::string::npos) {
        Tensor x = f.input("x");
        out = mha(x, options);
        inputs = {{"x", x}};
    } else {
        Tensor q = f.input("query"), k = f.input("key"), v = f.input("value");
        out = mha.forward(q, k, v, options);
        inputs = {{"query", q}, {"key", k}, {"value", v}};
    }
    out.output.backward(f.at("dout"));
    check_close(out.weights, f.at("weights"), kParityRtol, kAtol);
    f.check(out.output, mha, inputs);
}

}  // namespace

TEST_CASE("Linear matches torch.nn.Linear") {
    Fixture f("linear");
    Generator gen(0);
    Linear linear(5, 3, gen);
    linear.load_state_dict(f.params());
    Tensor x = f.input("x");
    Tensor out = linear(x);
    out.backward(f.at("dout"));
    f.check(out, linear, {{"x", x}});
}

TEST_CASE("Embedding with padding_idx matches torch.nn.Embedding") {
    Fixture f("embedding_padding");
    Generator gen(0);
    Embedding embed(6, 4, gen, 2);
    embed.load_state_dict(f.params());  // torch's padding row is not zero here: the forward still reads it
    Tensor out = embed(f.input("ids"));
    out.backward(f.at("dout"));
    f.check(out, embed, {});
}

TEST_CASE("LayerNorm matches torch.nn.LayerNorm") {
    Fixture f("layer_norm");
    LayerNorm norm(7, std::stof(f.metadata("eps")));
    norm.load_state_dict(f.params());
    Tensor x = f.input("x");
    Tensor out = norm(x);
    out.backward(f.at("dout"));
    f.check(out, norm, {{"x", x}});
}

TEST_CASE("MultiHeadAttention matches torch.nn.MultiheadAttention") {
    SUBCASE("self-attention with a key padding mask, weights averaged over heads") {
        Fixture f("mha_key_padding");
        check_attention("mha_key_padding", {.key_padding_mask = f.at("input.key_padding_mask")});
    }
    SUBCASE("causal self-attention, weights per head: is_causal equals torch's Boolean triangle") {
        check_attention("mha_causal", {.is_causal = true});
        Fixture f("mha_causal");
        check_attention("mha_causal", {.attn_mask = f.at("input.attn_mask")});
    }
    SUBCASE("cross-attention (T = 3, S = 4) with an additive mask holding -inf") {
        Fixture f("mha_cross_additive");
        check_attention("mha_cross_additive",
                        {.attn_mask = f.at("input.attn_mask"), .attn_mask_type = MaskType::Additive});
    }
}

TEST_CASE("CrossEntropyLoss matches torch.nn.CrossEntropyLoss") {
    for (const char* name : {"cross_entropy_smoothing", "cross_entropy_weighted"}) {
        CAPTURE(name);
        Fixture f(name);
        CrossEntropyOptions options;
        options.ignore_index = std::stoll(f.metadata("ignore_index"));
        options.label_smoothing = std::stof(f.metadata("label_smoothing"));
        if (!f.params().tensors.empty()) options.weight = zeros({5});  // the buffer, loaded below
        CrossEntropyLoss loss(options);
        loss.load_state_dict(f.params());
        Tensor logits = f.input("logits");
        Tensor out = loss(logits, f.input("targets"));
        out.backward(f.at("dout"));
        f.check(out, loss, {{"logits", logits}});
    }
}
