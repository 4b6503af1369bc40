// test_linear.cpp: linear(x, W, b) = x Wᵀ + b, and linear_rows over listed rows: values, gradients, errors.
#include "testing.hpp"
#include "thread_testing.hpp"

#include <algorithm>
#include <cmath>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

TEST_CASE("linear: values by hand") {
    // W = [[1, 2], [3, 4], [5, 6]] (out 3, in 2); x = [[1, -1], [2, 0.5]]; b = [10, 20, 30]
    Tensor W = tensor({{1, 2}, {3, 4}, {5, 6}});
    Tensor x = tensor({{1, -1}, {2, 0.5f}});
    Tensor b = tensor({10, 20, 30});
    // row 0: (1-2, 3-4, 5-6) = (-1, -1, -1); row 1: (2+1, 6+2, 10+3) = (3, 8, 13)
    check_close(linear(x, W, b), tensor({{9, 19, 29}, {13, 28, 43}}));
    check_close(linear(x, W, Tensor()), tensor({{-1, -1, -1}, {3, 8, 13}}));
}

TEST_CASE("linear: gradients by hand") {
    Tensor W = tensor({{1, 2}, {3, 4}});
    Tensor x = tensor({{1, -1}});
    Tensor b = tensor({0, 0});
    W.requires_grad_();
    x.requires_grad_();
    b.requires_grad_();
    // dy = [[1, 2]]: dx = dy W = [1+6, 2+8]; dW = dyᵀ x = [[1, -1], [2, -2]]; db = dy
    linear(x, W, b).backward(tensor({{1, 2}}));
    check_close(x.grad(), tensor({{7, 10}}));
    check_close(W.grad(), tensor({{1, -1}, {2, -2}}));
    check_close(b.grad(), tensor({1, 2}));
}

TEST_CASE("linear: equals matmul with the transposed weight plus the bias") {
    Tensor x = param({2, 5, 7}, 1), W = param({9, 7}, 2), b = param({9}, 3);
    check_close(linear(x, W, b), matmul(x, transpose(W, 0, 1)) + b, 1e-5f, 1e-5f);
}

TEST_CASE("linear: gradcheck on awkward sizes, with and without bias") {
    auto with_bias = [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); };
    auto without_bias = [](const std::vector<Tensor>& in) { return linear(in[0], in[1], Tensor()); };
    for (int64_t n : {1, 7, 9, 33}) {
        CAPTURE(n);
        CHECK_GRADCHECK(with_bias, {param({n, 7}, 4), param({9, 7}, 5), param({9}, 6)});
        CHECK_GRADCHECK(with_bias, {param({2, 3, n}, 7), param({1, n}, 8), param({1}, 9)});
        CHECK_GRADCHECK(without_bias, {param({n}, 10), param({7, n}, 11)});
    }
}

TEST_CASE("linear: gradients with zero rows in dy equal matmul's, with the same bits on 1, 2 and 3 threads") {
    // A zero row of dy (a padding position) is left out of dW = dyᵀ x (gemm_tn_rows), and on 2
    // threads the products dx and dW run side by side: neither may change a bit, and the
    // gradients must be those of the composed matmul (another code path, so within rounding).
    // O = 400 makes the zero-row scan four chunks of rows, which threads may take in any order.
    const int64_t N = 300, I = 70, O = 400;
    Tensor x = param({N, I}, 21), W = param({O, I}, 22), b = param({O}, 23);
    Tensor dy = param({N, O}, 24).detach();
    for (int64_t n = 0; n < N; ++n)
        if (n % 4 == 3 || n >= 250)
            for (int64_t o = 0; o < O; ++o) dy.data()[n * O + o] = 0.0f;
    auto grads = [&] {
        for (const Tensor* t : {&x, &W, &b}) t->zero_grad();
        linear(x, W, b).backward(dy);
        return std::vector<Tensor>{clone_data(x.grad()), clone_data(W.grad()), clone_data(b.grad())};
    };
    const std::vector<Tensor> fused = grads();
    for (const Tensor* t : {&x, &W, &b}) t->zero_grad();
    (matmul(x, transpose(W, 0, 1)) + b).backward(dy);
    check_close(fused[0], x.grad(), 1e-5f, 1e-5f);
    check_close(fused[1], W.grad(), 1e-4f, 1e-5f);
    check_close(fused[2], b.grad(), 1e-4f, 1e-5f);
    // the bias gradient is summed while dW's gemm packs dy (gemm_tn_rows' a_sums): the sum op's bits
    const Tensor column_sums = sum(dy, {0});
    for (int64_t o = 0; o < O; ++o) CHECK(fused[2].data()[o] == column_sums.data()[o]);
    ag::testing::check_same_bits_on_threads([&] {
        const std::vector<Tensor> g = grads();
        std::vector<float> all;
        for (const Tensor& t : g) all.insert(all.end(), t.data(), t.data() + t.numel());
        return all;
    });
}

TEST_CASE("linear: a NaN row of dy is not skipped as zero; a row of -0 is") {
    Tensor x = param({6, 3}, 31), W = param({2, 3}, 32);
    Tensor dy = zeros({6, 2});
    dy.data()[2 * 2 + 1] = NAN;                       // row 2: (0, NaN)
    dy.data()[4 * 2] = dy.data()[4 * 2 + 1] = -0.0f;  // row 4: all -0
    linear(x, W, Tensor()).backward(dy);
    for (int64_t i = 0; i < 3; ++i) CHECK(std::isnan(x.grad().at({2, i})));  // dx row 2 = dy row 2 · W
    CHECK(std::isnan(W.grad().at({1, 0})));                                  // dW row 1 sums dy column 1
    for (int64_t i = 0; i < 3; ++i) CHECK(x.grad().at({4, i}) == 0.0f);
}

TEST_CASE("linear: errors name the op and the shapes") {
    Tensor x = zeros({2, 3});
    CHECK(error_of([&] { linear(x, zeros({4, 5}), Tensor()); }) ==
          "[linear] input's last dimension must equal in_features: (2, 3) with weight (4, 5)");
    CHECK(error_of([&] { linear(x, zeros({3}), Tensor()); }) ==
          "[linear] weight must be 2-D (out_features, in_features), got shape (3,)");
    CHECK(error_of([&] { linear(x, zeros({4, 3}), zeros({3})); }) == "[linear] bias must have shape (4,), got (3,)");
    CHECK(error_of([&] { linear(Tensor(), zeros({4, 3}), Tensor()); }) ==
          "[linear] the input or the weight is an undefined tensor");
}

TEST_CASE("linear_rows: values and gradients by hand; the rows left out are 0 and get no gradient") {
    Tensor W = tensor({{1, 2}, {3, 4}, {5, 6}});
    Tensor x = tensor({{1, -1}, {7, 7}, {2, 0.5f}});
    Tensor b = tensor({10, 20, 30});
    W.requires_grad_();
    x.requires_grad_();
    b.requires_grad_();
    // rows 0 and 2 as in "linear: values by hand"; row 1 is left out
    Tensor y = linear_rows(x, W, b, {0, 2});
    check_close(y, tensor({{9, 19, 29}, {0, 0, 0}, {13, 28, 43}}));
    // dy = 1 everywhere, row 1 too: it is ignored there. dx row = (1+3+5, 2+4+6) = (9, 12) for the
    // listed rows, 0 for row 1; dW = Σ over rows 0 and 2 of xᵀ = (1+2, -1+0.5) on every row; db = 2
    y.backward(ones({3, 3}));
    check_close(x.grad(), tensor({{9, 12}, {0, 0}, {9, 12}}));
    check_close(W.grad(), tensor({{3, -0.5f}, {3, -0.5f}, {3, -0.5f}}));
    check_close(b.grad(), tensor({2, 2, 2}));
    check_close(linear_rows(x, W, Tensor(), {}), zeros({3, 3}));
}

TEST_CASE("linear_rows: gradcheck on awkward sizes and row lists, with and without bias") {
    for (int64_t n : {1, 7, 33}) {
        // none, every other one, all but the last, all
        std::vector<std::vector<int64_t>> lists(4);
        for (int64_t i = 0; i < n; ++i) {
            if (i % 2 == 0) lists[1].push_back(i);
            if (i + 1 < n) lists[2].push_back(i);
            lists[3].push_back(i);
        }
        for (const std::vector<int64_t>& rows : lists) {
            CAPTURE(n);
            CAPTURE(rows.size());
            auto with_bias = [&](const std::vector<Tensor>& in) { return linear_rows(in[0], in[1], in[2], rows); };
            auto without_bias = [&](const std::vector<Tensor>& in) { return linear_rows(in[0], in[1], Tensor(), rows); };
            CHECK_GRADCHECK(with_bias, {param({n, 7}, 4), param({9, 7}, 5), param({9}, 6)});
            CHECK_GRADCHECK(without_bias, {param({n, 1, 5}, 7), param({3, 5}, 8)});
        }
    }
}

TEST_CASE("linear_rows: the listed rows have linear's bits, forward and backward, on 1, 2 and 3 threads") {
    // The padding case: linear_rows over the real positions, with dy nonzero only there (as after
    // masked pooling), must give linear's outputs on those rows and linear's gradients, to the
    // bit. What dy holds on the other rows must not matter. N = 300 rows of O = 400: four chunks
    // of rows for the zero-row scan; I = 70 crosses no depth slice, I = 300 (with O = 40) does.
    for (int64_t I : {70, 300}) {
        CAPTURE(I);
        const int64_t N = 300, O = I == 70 ? 400 : 40;
        Tensor x = param({N, I}, 41), W = param({O, I}, 42), b = param({O}, 43);
        std::vector<int64_t> rows;
        for (int64_t n = 0; n < N; ++n)
            if (n % 64 < 48 && n != 5) rows.push_back(n);
        Tensor dy = param({N, O}, 44).detach();
        for (int64_t n = 0; n < N; ++n)
            if (!std::binary_search(rows.begin(), rows.end(), n))
                for (int64_t o = 0; o < O; ++o) dy.data()[n * O + o] = 0.0f;
        Tensor dy_noisy = clone_data(dy);  // the same, but nonzero on the rows left out
        for (int64_t n = 0; n < N; ++n)
            if (!std::binary_search(rows.begin(), rows.end(), n)) dy_noisy.data()[n * O] = 1.0f;

        auto run = [&](bool full, const Tensor& grad_out) {
            for (const Tensor* t : {&x, &W, &b}) t->zero_grad();
            Tensor y = full ? linear(x, W, b) : linear_rows(x, W, b, rows);
            y.backward(grad_out);
            return std::vector<Tensor>{clone_data(y), clone_data(x.grad()), clone_data(W.grad()), clone_data(b.grad())};
        };
        const std::vector<Tensor> want = run(true, dy), got = run(false, dy_noisy);
        int64_t bad = 0;
        for (int64_t n = 0; n < N; ++n) {
            const bool listed = std::binary_search(rows.begin(), rows.end(), n);
            for (int64_t o = 0; o < O; ++o)
                bad += got[0].data()[n * O + o] != (listed ? want[0].data()[n * O + o] : 0.0f);
        }
        CHECK(bad == 0);
        for (size_t g = 1; g < 4; ++g) {  // dx (0 on the rows left out, as linear's is there), dW, db
            CAPTURE(g);
            CHECK(std::equal(got[g].data(), got[g].data() + got[g].numel(), want[g].data()));
        }
        ag::testing::check_same_bits_on_threads([&] {
            std::vector<float> all;
            for (const Tensor& t : run(false, dy_noisy)) all.insert(all.end(), t.data(), t.data() + t.numel());
            return all;
        });
    }
}

TEST_CASE("linear_rows: a row list that is not ascending or not in range is refused, naming the row") {
    Tensor x = zeros({2, 3, 4}), W = zeros({5, 4});
    CHECK(error_of([&] { linear_rows(x, W, Tensor(), {0, 6}); }) ==
          "[linear_rows] rows must be ascending row numbers in [0, 6) (input (2, 3, 4)), got 6 at position 1 after 0");
    CHECK(error_of([&] { linear_rows(x, W, Tensor(), {-1}); }) ==
          "[linear_rows] rows must be ascending row numbers in [0, 6) (input (2, 3, 4)), got -1 at position 0");
    CHECK(error_of([&] { linear_rows(x, W, Tensor(), {3, 3}); }) ==
          "[linear_rows] rows must be ascending row numbers in [0, 6) (input (2, 3, 4)), got 3 at position 1 after 3");
    CHECK(error_of([&] { linear_rows(x, W, Tensor(), {4, 2}); }) ==
          "[linear_rows] rows must be ascending row numbers in [0, 6) (input (2, 3, 4)), got 2 at position 1 after 4");
    CHECK(error_of([&] { linear_rows(x, zeros({5, 3}), Tensor(), {0}); }) ==
          "[linear_rows] input's last dimension must equal in_features: (2, 3, 4) with weight (5, 3)");
}
