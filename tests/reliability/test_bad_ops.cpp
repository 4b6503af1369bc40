// Bad inputs to tensors and ops: each is an ag::Error naming the op and the offending value, and
// empty tensors give well-defined results (never uninitialised memory).
#include "reliability/bad_input.hpp"

#include <climits>
#include <cmath>
#include <limits>

using namespace ag;
using ag::testing::kNaN;
using ag::testing::kInf;
using ag::testing::check_close;
using ag::testing::expect_error;

namespace {
}  // namespace

TEST_CASE("bad ops: tensors and shapes") {
    Tensor x = zeros({2, 3});
    expect_error([] { (void)Shape{2, -1}; }, {"[shape]", "-1"});
    expect_error([] { (void)Shape{1, 1, 1, 1, 1, 1, 1}; }, {"[shape]", "at most 6"});
    expect_error([] { empty({int64_t{1} << 40, int64_t{1} << 40}); }, {"[shape]", "1099511627776 elements times a dimension of 1099511627776"});
    expect_error([] { empty({INT64_MAX / 2}); }, {"[storage]", "4611686018427387903"});
    expect_error([] { tensor({1.0f, 2.0f, 3.0f}, Shape{2, 2}); }, {"[tensor]", "3 values", "(2, 2)"});
    expect_error([] { tensor({{1.0f, 2.0f}, {3.0f}}); }, {"[tensor]", "rows differ"});
    expect_error([&] { x.item(); }, {"[item]", "(2, 3)"});
    expect_error([&] { x.at({2, 0}); }, {"[at]", "(2, 0)", "(2, 3)"});
    expect_error([&] { x.at({-1, 0}); }, {"[at]", "-1", "(2, 3)"});
    expect_error([&] { x.at({0}); }, {"[at]", "1 coordinates", "(2, 3)"});
    expect_error([&] { x.size(2); }, {"[size]", "axis 2", "(2, 3)"});
    expect_error([] { Tensor().shape(); }, {"[tensor]", "undefined"});
    expect_error([] { arange(int64_t{-1}); }, {"[arange]", "-1"});
    expect_error([] { arange(0.0f, 1.0f, 0.0f); }, {"[arange]", "step", "0"});
    expect_error([] { arange(0.0f, kNaN); }, {"[arange]", "nan"});
    expect_error([] { arange(0.0f, 3e38f, 1e-30f); }, {"[arange]", "elements"});
    expect_error([] {
        Generator gen(1);
        uniform({2}, 1.0f, 0.0f, gen);
    }, {"[uniform]", "1 and 0"});
    expect_error([] { Generator(1).next_below(0); }, {"[next_below]", "0"});
    expect_error([&] { x.requires_grad_(); (x * 2.0f).requires_grad_(false); }, {"[requires_grad_]", "mul"});
    expect_error([] { zeros({2}).set_grad(zeros({3})); }, {"[set_grad]", "(3,)", "(2,)"});
}

TEST_CASE("bad ops: broadcasting, matmul, linear") {
    Tensor a = zeros({2, 3}), b = zeros({4, 5});
    expect_error([&] { add(a, b); }, {"[add]", "(2, 3) and (4, 5)"});
    expect_error([&] { a * zeros({2}); }, {"[mul]", "(2, 3) and (2,)"});
    expect_error([&] { add(a, Tensor()); }, {"[add]", "undefined"});
    expect_error([&] { matmul(a, b); }, {"[matmul]", "inner dimensions differ: (2, 3) @ (4, 5)"});
    expect_error([&] { matmul(full({}, 1.0f), a); }, {"[matmul]", "at least one dimension"});
    expect_error([&] { matmul(zeros({2, 2, 3}), zeros({3, 3, 4})); }, {"[matmul]", "batch", "(2, 2, 3) @ (3, 3, 4)"});
    expect_error([&] { linear(a, zeros({4, 5}), Tensor()); }, {"[linear]", "(2, 3)", "(4, 5)"});
    expect_error([&] { linear(a, zeros({3}), Tensor()); }, {"[linear]", "2-D", "(3,)"});
    expect_error([&] { linear(a, zeros({4, 3}), zeros({3})); }, {"[linear]", "bias", "(4,)", "(3,)"});
    expect_error([&] { where(zeros({3}), a, zeros({2, 1, 4})); }, {"[where]", "(3,)", "(2, 1, 4)"});
    expect_error([&] { masked_fill(zeros({3}), zeros({2, 3}), 0.0f); }, {"[masked_fill]", "(2, 3)", "(3,)"});
    expect_error([&] { broadcast_to(a, Shape{3, 3}); }, {"[broadcast_to]", "(2, 3)", "(3, 3)"});
}

TEST_CASE("bad ops: axes out of range") {
    Tensor x = zeros({2, 3});
    expect_error([&] { sum(x, {2}); }, {"[sum]", "axis 2", "(2, 3)"});
    expect_error([&] { mean(x, {-3}); }, {"[mean]", "axis -3", "(2, 3)"});
    expect_error([&] { max(x, {0, 0}); }, {"[max]", "twice"});
    expect_error([&] { sum(x, {INT_MIN}); }, {"[sum]", "-2147483648"});
    expect_error([&] { transpose(x, 0, 5); }, {"[transpose]", "axis 5"});
    expect_error([&] { permute(x, {0}); }, {"[permute]", "(2, 3)"});
    expect_error([&] { permute(x, {1, 1}); }, {"[permute]", "repeats"});
    expect_error([&] { permute(x, {0, 7}); }, {"[permute]", "7"});
    expect_error([&] { unsqueeze(x, 3); }, {"[unsqueeze]", "axis 3"});
    expect_error([&] { squeeze(x, 1); }, {"[squeeze]", "size is 3"});
    expect_error([&] { squeeze(x, 2); }, {"[squeeze]", "axis 2"});
    expect_error([&] { slice(x, 2, 0, 1); }, {"[slice]", "axis 2"});
    expect_error([&] { slice(x, 1, 0, 3, 0); }, {"[slice]", "step", "0"});
    expect_error([&] { slice(x, 1, 0, 3, -1); }, {"[slice]", "step", "-1"});
    expect_error([&] { narrow(x, 1, 2, 2); }, {"[narrow]", "length 2", "size 3"});
    expect_error([&] { narrow(x, 1, 0, -1); }, {"[narrow]", "-1"});
    expect_error([&] { narrow(x, 1, 1, INT64_MAX); }, {"[narrow]", "9223372036854775807"});
    expect_error([&] { narrow(x, 1, 4, 0); }, {"[narrow]", "start 4"});
    expect_error([&] { concat({}, 0); }, {"[concat]", "empty list"});
    expect_error([&] { concat({x, zeros({2, 4})}, 0); }, {"[concat]", "(2, 4)", "(2, 3)"});
    expect_error([&] { concat({x, zeros({2, 3, 1})}, 1); }, {"[concat]", "(2, 3, 1)"});
    expect_error([&] { concat({x, x}, 2); }, {"[concat]", "axis 2"});
    expect_error([&] { softmax(full({}, 1.0f)); }, {"[softmax]", "()"});
    expect_error([&] { log_softmax(full({}, 1.0f)); }, {"[log_softmax]", "()"});
}

TEST_CASE("bad ops: reshape") {
    Tensor x = zeros({2, 3});
    expect_error([&] { reshape(x, {4, 2}); }, {"[reshape]", "(2, 3)", "6 elements", "to (4, 2)"});
    expect_error([&] { reshape(x, {-1, -1}); }, {"[reshape]", "one size may be -1"});
    expect_error([&] { reshape(x, {-2, 3}); }, {"[reshape]", "-2"});
    expect_error([&] { reshape(zeros({0}), {0, -1}); }, {"[reshape]", "cannot infer"});
    expect_error([&] { view(x, {1, 1, 1, 1, 1, 1, 6}); }, {"[view]", "at most 6"});
    // sizes whose product overflows int64 must not wrap around to a "matching" count
    expect_error([&] { reshape(x, {int64_t{1} << 62, 4, 6}); }, {"[reshape]", "overflow", "4611686018427387904"});
    expect_error([&] { reshape(x, {-1, int64_t{1} << 62, 8}); }, {"[reshape]", "overflow", "4611686018427387904"});
}

TEST_CASE("bad ops: slice bounds that would overflow are clamped, not wrapped") {
    Tensor x = arange(int64_t{5});
    check_close(slice(x, 0, 1, INT64_MAX, INT64_MAX), tensor({1.0f}));
    check_close(slice(x, 0, INT64_MIN, INT64_MAX, 2), tensor({0.0f, 2.0f, 4.0f}));
    CHECK(slice(x, 0, INT64_MAX, INT64_MIN).numel() == 0);
}

TEST_CASE("bad ops: ids, targets and classes out of range") {
    Tensor weight = zeros({4, 2});
    expect_error([&] { embedding(tensor({0.0f, 4.0f}), weight); }, {"[embedding]", "id 4", "position 1", "4 embeddings"});
    expect_error([&] { embedding(tensor({-1.0f}), weight); }, {"[embedding]", "id -1"});
    expect_error([&] { embedding(tensor({1.5f}), weight); }, {"[embedding]", "1.5", "not an integer"});
    expect_error([&] { embedding(tensor({kNaN}), weight); }, {"[embedding]", "nan"});
    expect_error([&] { embedding(tensor({kInf}), weight); }, {"[embedding]", "inf"});
    expect_error([&] { embedding(tensor({1e30f}), weight); }, {"[embedding]", "1e+30"});
    expect_error([&] { embedding(tensor({0.0f}), weight, 4); }, {"[embedding]", "padding_idx 4", "-4 to 3"});
    expect_error([&] { embedding(tensor({0.0f}), weight, -5); }, {"[embedding]", "padding_idx -5"});
    expect_error([&] { embedding(tensor({0.0f}), zeros({4})); }, {"[embedding]", "2-D", "(4,)"});
    Tensor logits = zeros({2, 3});
    expect_error([&] { cross_entropy(logits, tensor({0.0f, 3.0f})); }, {"[cross_entropy]", "target 3", "index 1"});
    expect_error([&] { cross_entropy(logits, tensor({-1.0f, 0.0f})); }, {"[cross_entropy]", "target -1", "index 0"});
    expect_error([&] { cross_entropy(logits, tensor({0.5f, 0.0f})); }, {"[cross_entropy]", "0.5", "not an integer"});
    expect_error([&] { cross_entropy(logits, tensor({kNaN, 0.0f})); }, {"[cross_entropy]", "nan"});
    expect_error([&] { cross_entropy(logits, tensor({0.0f, 1.0f, 2.0f})); }, {"[cross_entropy]", "(3,)", "(2, 3)"});
    expect_error([&] { cross_entropy(zeros({2, 0}), tensor({0.0f, 0.0f})); }, {"[cross_entropy]", "no classes"});
    CrossEntropyOptions bad_weight;
    bad_weight.weight = ones({2});
    expect_error([&] { cross_entropy(logits, tensor({0.0f, 1.0f}), bad_weight); }, {"[cross_entropy]", "weight", "(2,)"});
    CrossEntropyOptions bad_smoothing;
    bad_smoothing.label_smoothing = 1.5f;
    expect_error([&] { cross_entropy(logits, tensor({0.0f, 1.0f}), bad_smoothing); }, {"[cross_entropy]", "1.5"});
    bad_smoothing.label_smoothing = kNaN;
    expect_error([&] { cross_entropy(logits, tensor({0.0f, 1.0f}), bad_smoothing); }, {"[cross_entropy]", "nan"});
}

TEST_CASE("bad ops: probabilities and epsilons") {
    Generator gen(1);
    Tensor x = ones({4});
    expect_error([&] { dropout(x, -0.1f, true, gen); }, {"[dropout]", "-0.1"});
    expect_error([&] { dropout(x, 1.5f, true, gen); }, {"[dropout]", "1.5"});
    expect_error([&] { dropout(x, kNaN, true, gen); }, {"[dropout]", "nan"});
    expect_error([&] { layer_norm(zeros({2, 3}), Tensor(), Tensor(), -1e-5f); }, {"[layer_norm]", "eps", "-1e-05"});
    expect_error([&] { layer_norm(zeros({2, 3}), Tensor(), Tensor(), kNaN); }, {"[layer_norm]", "nan"});
    expect_error([&] { layer_norm(zeros({2, 3}), ones({4}), Tensor()); }, {"[layer_norm]", "(4,)"});
    expect_error([&] { layer_norm(zeros({2, 0}), Tensor(), Tensor()); }, {"[layer_norm]", "(2, 0)"});
    expect_error([] { set_num_threads(0); }, {"[set_num_threads]", "0"});
    expect_error([] { parse_num_threads("4x"); }, {"[num_threads]", "4x"});
}

TEST_CASE("bad ops: backward misuse") {
    Tensor x = ag::testing::param({2, 3}, 1);
    expect_error([&] { (x * 2.0f).backward(); }, {"[backward]", "(2, 3)"});
    expect_error([&] { (x * 2.0f).backward(zeros({3})); }, {"[backward]", "(3,)", "(2, 3)"});
    expect_error([] { zeros({1}).backward(); }, {"[backward]", "does not require grad"});
    Tensor y = sum(exp(x));
    y.backward();
    expect_error([&] { y.backward(); }, {"[backward]", "already freed", "retain_graph"});
}

// Empty tensors are valid inputs: results are defined, and sized as in PyTorch.
TEST_CASE("bad ops: empty tensors give defined results") {
    // a product over an empty inner dimension is all zeros, not whatever the buffer held
    Tensor a = ag::testing::param({3, 0}, 1), b = ag::testing::param({0, 4}, 2);
    Tensor c = matmul(a, b);
    check_close(c, zeros({3, 4}));
    sum(c * ones({3, 4})).backward();
    CHECK(a.grad().shape() == Shape{3, 0});
    check_close(linear(zeros({2, 0}), zeros({3, 0}), tensor({1.0f, 2.0f, 3.0f})),
                tensor({{1.0f, 2.0f, 3.0f}, {1.0f, 2.0f, 3.0f}}));
    check_close(sum(zeros({0, 3})), full({}, 0.0f));
    check_close(sum(zeros({0, 3}), {0}), zeros({3}));
    expect_error([] { max(zeros({0, 3})); }, {"[max]", "(0, 3)"});
    expect_error([] { max(zeros({0, 3}), {0}); }, {"[max]", "axis 0", "(0, 3)"});
    CHECK(max(zeros({0, 3}), {1}).shape() == Shape{0});
    CHECK(softmax(zeros({0, 5})).shape() == Shape{0, 5});
    CHECK(layer_norm(zeros({0, 5}), Tensor(), Tensor()).shape() == Shape{0, 5});
    Generator gen(1);
    CHECK(embedding(zeros({0}), randn({4, 2}, gen)).shape() == Shape{0, 2});
    CHECK(concat({zeros({0, 2}), ones({1, 2})}, 0).shape() == Shape{1, 2});
    CHECK(transpose(zeros({0, 3}), 0, 1).shape() == Shape{3, 0});
    CHECK(dropout(zeros({0}), 0.5f, true, gen).numel() == 0);
}
