// Bad inputs to nn modules: constructor arguments, input shapes, masks, ids and state dicts.
#include "reliability/bad_input.hpp"

#include <cmath>
#include <limits>

using namespace ag;
using ag::testing::kNaN;
using ag::testing::expect_error;

namespace {
}

TEST_CASE("bad modules: constructor arguments") {
    Generator gen(1);
    expect_error([&] { Linear(0, 3, gen); }, {"[Linear]", "0 and 3"});
    expect_error([&] { Linear(3, -1, gen); }, {"[Linear]", "3 and -1"});
    expect_error([&] { Embedding(0, 4, gen); }, {"[Embedding]", "0 and 4"});
    expect_error([&] { Embedding(4, -2, gen); }, {"[Embedding]", "4 and -2"});
    expect_error([&] { Embedding(4, 2, gen, 4); }, {"[Embedding]", "padding_idx 4", "4 embeddings"});
    expect_error([&] { Embedding(4, 2, gen, -5); }, {"[Embedding]", "padding_idx -5"});
    expect_error([] { LayerNorm(0); }, {"[LayerNorm]", "normalized_shape", "0"});
    expect_error([] { LayerNorm(4, -1e-5f); }, {"[LayerNorm]", "eps", "-1e-05"});
    expect_error([] { LayerNorm(4, kNaN); }, {"[LayerNorm]", "eps", "nan"});
    expect_error([&] { Dropout(-0.5f, gen); }, {"[Dropout]", "-0.5"});
    expect_error([&] { Dropout(1.01f, gen); }, {"[Dropout]", "1.01"});
    expect_error([&] { Dropout(kNaN, gen); }, {"[Dropout]", "nan"});
    expect_error([&] { MultiHeadAttention(8, 3, gen); }, {"[MultiheadAttention]", "embed_dim 8", "num_heads 3"});
    expect_error([&] { MultiHeadAttention(8, 0, gen); }, {"[MultiheadAttention]", "num_heads 0"});
    expect_error([&] { MultiHeadAttention(0, 1, gen); }, {"[MultiheadAttention]", "embed_dim 0"});
    expect_error([&] { MultiHeadAttention(-4, 2, gen); }, {"[MultiheadAttention]", "embed_dim -4"});
    expect_error([&] { MultiHeadAttention(8, 2, gen, 1.5f); }, {"[MultiheadAttention]", "dropout", "1.5"});
    expect_error([&] { MultiHeadAttention(8, 2, gen, kNaN); }, {"[MultiheadAttention]", "dropout", "nan"});
}

TEST_CASE("bad modules: input shapes and ids") {
    Generator gen(1);
    Linear fc(4, 3, gen);
    expect_error([&] { fc(zeros({2, 5})); }, {"[Linear]", "(2, 5)", "4"});
    expect_error([&] { fc(full({}, 1.0f)); }, {"[Linear]", "()"});
    expect_error([&] { fc(Tensor()); }, {"[Linear]", "undefined"});
    LayerNorm norm(4);
    expect_error([&] { norm(zeros({2, 3})); }, {"[LayerNorm]", "(..., 4)", "(2, 3)"});
    Embedding table(5, 2, gen, 0);
    expect_error([&] { table(tensor({0.0f, 5.0f})); }, {"[embedding]", "id 5", "5 embeddings"});
    expect_error([&] { table(tensor({-2.0f})); }, {"[embedding]", "id -2"});
    Sequential chain;
    chain.push_back(Linear(4, 4, gen));
    expect_error([&] { chain[3]; }, {"[Sequential]", "index 3", "1 layers"});
    expect_error([] { mse_loss(zeros({2, 3}), zeros({3, 2})); }, {"[mse_loss]", "(2, 3) and (3, 2)"});
    CrossEntropyLoss loss;
    expect_error([&] { loss(zeros({2, 3}), tensor({1.0f, 7.0f})); }, {"[cross_entropy]", "target 7"});
}

TEST_CASE("bad modules: attention shapes and masks") {
    Generator gen(1);
    MultiHeadAttention attention(8, 2, gen);
    Tensor x = zeros({2, 5, 8});  // B = 2, T = S = 5, D = 8
    expect_error([&] { attention(zeros({5, 8})); }, {"[MultiheadAttention]", "(B, T, 8)", "(5, 8)"});
    expect_error([&] { attention(zeros({2, 5, 6})); }, {"[MultiheadAttention]", "(2, 5, 6)"});
    expect_error([&] { attention.forward(x, zeros({3, 5, 8}), zeros({3, 5, 8})); },
                 {"[MultiheadAttention]", "key (3, 5, 8)"});
    expect_error([&] { attention.forward(x, zeros({2, 4, 8}), zeros({2, 5, 8})); },
                 {"[MultiheadAttention]", "key (2, 4, 8) and value (2, 5, 8)"});
    AttentionOptions padding;
    padding.key_padding_mask = zeros({2, 4});
    expect_error([&] { attention(x, padding); }, {"[MultiheadAttention]", "key_padding_mask", "(2, 5)", "(2, 4)"});
    padding.key_padding_mask = zeros({5, 2});
    expect_error([&] { attention(x, padding); }, {"[MultiheadAttention]", "key_padding_mask", "(5, 2)"});
    AttentionOptions mask;
    mask.attn_mask = zeros({5, 4});
    expect_error([&] { attention(x, mask); }, {"[MultiheadAttention]", "attn_mask", "(5, 5)", "(5, 4)"});
    mask.attn_mask = zeros({2, 5, 5});  // a per-batch mask is not supported
    expect_error([&] { attention(x, mask); }, {"[MultiheadAttention]", "attn_mask", "(2, 5, 5)"});
    mask.attn_mask_type = MaskType::Additive;
    mask.attn_mask = zeros({1, 5});
    expect_error([&] { attention(x, mask); }, {"[MultiheadAttention]", "attn_mask", "(1, 5)"});
}

TEST_CASE("bad modules: state dicts from another config") {
    Generator gen(1);
    Sequential model;
    model.push_back(Embedding(10, 4, gen));
    model.push_back(Linear(4, 3, gen));
    // a checkpoint of a model with a vocabulary of 12 and 5 classes
    Sequential other;
    other.push_back(Embedding(12, 4, gen));
    other.push_back(Linear(4, 5, gen));
    expect_error([&] { model.load_state_dict(other.state_dict()); },
                 {"[load_state_dict]", "'0.weight': expected shape (10, 4), found (12, 4)",
                  "'1.weight': expected shape (3, 4), found (5, 4)", "'1.bias': expected shape (3,), found (5,)"});
    StateDict state = model.state_dict();
    state.tensors.pop_back();
    expect_error([&] { model.load_state_dict(state); }, {"[load_state_dict]", "missing '1.bias'", "(3,)"});
    state = model.state_dict();
    state.tensors.push_back({"2.weight", zeros({2})});
    expect_error([&] { model.load_state_dict(state); }, {"[load_state_dict]", "unexpected '2.weight'"});
    state = model.state_dict();
    state.tensors.push_back(state.tensors.front());
    expect_error([&] { model.load_state_dict(state); }, {"[load_state_dict]", "'0.weight' given twice"});
    state = model.state_dict();
    state.tensors[1].tensor = Tensor();
    expect_error([&] { model.load_state_dict(state); }, {"[load_state_dict]", "an undefined tensor"});
    // and nothing was changed by any of the failed loads
    Tensor before = clone_data(model.state_dict().tensors[0].tensor);
    expect_error([&] { model.load_state_dict(other.state_dict()); }, {"[load_state_dict]"});
    CHECK(allclose(model.state_dict().tensors[0].tensor, before, 0.0f, 0.0f));
}
