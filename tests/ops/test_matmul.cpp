// test_matmul.cpp: matmul: hand-computed products and gradients, torch.matmul's 1-D and batch
// broadcasting rules, gradcheck on every path (one matrix for the batch, whole batches, mixed
// broadcasting, vectors) with awkward sizes, and error messages.
#include "testing.hpp"

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {
using Inputs = std::vector<Tensor>;
auto matmul_of = [](const Inputs& v) { return matmul(v[0], v[1]); };
}  // namespace

TEST_CASE("matmul 2x3 @ 3x2 by hand") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    Tensor b = tensor({{7, 8}, {9, 10}, {11, 12}});
    // row 0: 1*7 + 2*9 + 3*11 = 58    1*8 + 2*10 + 3*12 = 64
    // row 1: 4*7 + 5*9 + 6*11 = 139   4*8 + 5*10 + 6*12 = 154
    check_close(matmul(a, b), tensor({{58, 64}, {139, 154}}));
    // with a transposed operand: aᵀa for a = [[1, 2], [3, 4]] is [[1+9, 2+12], [2+12, 4+16]]
    Tensor s = tensor({{1, 2}, {3, 4}});
    check_close(matmul(transpose(s, 0, 1), s), tensor({{10, 14}, {14, 20}}));
}

TEST_CASE("matmul backward by hand: da = dout @ bT, db = aT @ dout") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}}).requires_grad_();
    Tensor b = tensor({{7, 8}, {9, 10}, {11, 12}}).requires_grad_();
    Tensor y = matmul(a, b);
    REQUIRE(y.grad_fn());
    CHECK(y.grad_fn()->name() == "matmul");
    y.backward(ones({2, 2}));
    // dout of ones: every row of da is b's row sums (7+8, 9+10, 11+12)
    check_close(a.grad(), tensor({{15, 19, 23}, {15, 19, 23}}));
    // db[k, n] = a's column k summed (1+4, 2+5, 3+6), for each n
    check_close(b.grad(), tensor({{5, 5}, {7, 7}, {9, 9}}));

    // with dout = [[1, 0], [0, 0]] only out[0, 0] = a[0, :] · b[:, 0] matters
    a.set_grad(Tensor());
    b.set_grad(Tensor());
    matmul(a, b).backward(tensor({{1, 0}, {0, 0}}));
    check_close(a.grad(), tensor({{7, 9, 11}, {0, 0, 0}}));
    check_close(b.grad(), tensor({{1, 0}, {2, 0}, {3, 0}}));
}

TEST_CASE("matmul with vectors follows torch.matmul") {
    Tensor u = tensor({1, 2, 3}), v = tensor({4, 5, 6});
    Tensor dot = matmul(u, v);  // 4 + 10 + 18
    CHECK(dot.shape() == Shape{});
    CHECK(dot.item() == 32.0f);
    Tensor m = tensor({{1, 2, 3}, {4, 5, 6}});
    check_close(matmul(tensor({1, 2}), m), tensor({9, 12, 15}));  // row vector: 1*row0 + 2*row1
    check_close(matmul(m, tensor({1, 0, -1})), tensor({-2, -2}));  // column vector: col0 - col2
    // the promoted dimension is dropped, batch dimensions stay
    CHECK(matmul(ones({4}), ones({2, 4, 3})).shape() == Shape{2, 3});
    CHECK(matmul(ones({2, 3, 4}), ones({4})).shape() == Shape{2, 3});
}

TEST_CASE("matmul broadcasts batch dimensions") {
    Tensor a = param({2, 1, 3, 4}, 1);
    Tensor b = param({5, 4, 6}, 2);
    Tensor y = matmul(a, b);
    REQUIRE(y.shape() == Shape{2, 5, 3, 6});
    // each output matrix is the product of the matrices its batch index broadcasts from
    for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 5; ++j)
            for (int64_t m = 0; m < 3; ++m)
                for (int64_t n = 0; n < 6; ++n) {
                    float expected = 0.0f;
                    for (int64_t k = 0; k < 4; ++k) expected += a.at({i, 0, m, k}) * b.at({j, k, n});
                    CHECK(y.at({i, j, m, n}) == doctest::Approx(expected).epsilon(1e-5));
                }
    CHECK(matmul(ones({3, 4}), ones({2, 4, 5})).shape() == Shape{2, 3, 5});
    CHECK(matmul(ones({2, 3, 4}), ones({1, 4, 5})).shape() == Shape{2, 3, 5});
    CHECK(matmul(ones({7, 1, 1, 2}), ones({1, 9, 2, 3})).shape() == Shape{7, 9, 1, 3});
}

TEST_CASE("matmul with an empty inner dimension is zeros") {
    check_close(matmul(empty({2, 0}), empty({0, 3})), zeros({2, 3}));
    CHECK(matmul(ones({0, 3}), ones({3, 2})).shape() == Shape{0, 2});
}

TEST_CASE("matmul gradcheck: matrices of awkward sizes") {
    CHECK_GRADCHECK(matmul_of, {param({7, 33}, 3, 0.5f), param({33, 9}, 4, 0.5f)});
    CHECK_GRADCHECK(matmul_of, {param({1, 1}, 5), param({1, 1}, 6)});
    CHECK_GRADCHECK(matmul_of, {param({1, 7}, 7), param({7, 9}, 8)});
    CHECK_GRADCHECK(matmul_of, {param({9, 1}, 9), param({1, 7}, 10)});
}

TEST_CASE("matmul gradcheck: batches") {
    // one b for the whole batch (a linear layer): folded into one gemm, forward and backward
    CHECK_GRADCHECK(matmul_of, {param({2, 7, 4}, 11), param({4, 9}, 12)});
    CHECK_GRADCHECK(matmul_of, {param({2, 3, 4}, 13), param({1, 4, 5}, 14)});
    // every matrix on both sides
    CHECK_GRADCHECK(matmul_of, {param({2, 3, 4}, 15), param({2, 4, 5}, 16)});
    // one a for the whole batch: da is summed over the batch
    CHECK_GRADCHECK(matmul_of, {param({3, 4}, 17), param({2, 4, 5}, 18)});
    CHECK_GRADCHECK(matmul_of, {param({1, 3, 4}, 19), param({7, 4, 1}, 20)});
    // mixed broadcasting: both gradients are summed over dimensions they were broadcast along
    CHECK_GRADCHECK(matmul_of, {param({2, 1, 3, 4}, 21), param({5, 4, 6}, 22)});
    CHECK_GRADCHECK(matmul_of, {param({7, 1, 1, 2}, 23), param({1, 9, 2, 3}, 24)});
}

TEST_CASE("matmul gradcheck: vectors") {
    CHECK_GRADCHECK(matmul_of, {param({4}, 25), param({4}, 26)});
    CHECK_GRADCHECK(matmul_of, {param({33}, 27, 0.5f), param({33}, 28, 0.5f)});
    CHECK_GRADCHECK(matmul_of, {param({3}, 29), param({3, 7}, 30)});
    CHECK_GRADCHECK(matmul_of, {param({7, 3}, 31), param({3}, 32)});
    CHECK_GRADCHECK(matmul_of, {param({4}, 33), param({2, 4, 3}, 34)});
    CHECK_GRADCHECK(matmul_of, {param({2, 3, 4}, 35), param({4}, 36)});
    CHECK_GRADCHECK(matmul_of, {param({1}, 37), param({9, 1, 1}, 38)});
}

TEST_CASE("matmul gradient of one operand when the other needs none") {
    Tensor a = param({2, 3, 4}, 39);
    Tensor w = ones({4, 2});  // a constant
    CHECK_GRADCHECK([&](const Inputs& v) { return matmul(v[0], w); }, {a});
    CHECK_GRADCHECK([&](const Inputs& v) { return matmul(w, v[0]); }, {param({2, 7}, 40)});
}

TEST_CASE("matmul errors") {
    CHECK(error_of([] { matmul(ones({2, 3}), ones({4, 5})); }) == "[matmul] inner dimensions differ: (2, 3) @ (4, 5)");
    CHECK(error_of([] { matmul(ones({3}), ones({4})); }) == "[matmul] inner dimensions differ: (3,) @ (4,)");
    CHECK(error_of([] { matmul(ones({2, 3}), ones({2})); }) == "[matmul] inner dimensions differ: (2, 3) @ (2,)");
    CHECK(error_of([] { matmul(scalar(2.0f), ones({3})); }) ==
          "[matmul] both operands need at least one dimension: got () @ (3,)");
    CHECK(error_of([] { matmul(ones({3, 3}), scalar(2.0f)); }) ==
          "[matmul] both operands need at least one dimension: got (3, 3) @ ()");
    CHECK(error_of([] { matmul(ones({2, 3, 4}), ones({5, 4, 6})); }) ==
          "[matmul] batch dimensions cannot be broadcast: (2, 3, 4) @ (5, 4, 6)");
    CHECK(error_of([] { matmul(Tensor(), ones({3})); }) == "[matmul] an operand is an undefined tensor");
}
