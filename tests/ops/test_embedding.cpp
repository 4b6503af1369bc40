// test_embedding.cpp: embedding's gather, its scatter-add backward, the padding row, its errors,
// and the SIMD kernels against the reference bit for bit at every SIMD level.
#include "simd_testing.hpp"
#include "testing.hpp"
#include "thread_testing.hpp"

#include <cmath>
#include <vector>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {

// ids of `shape` in [0, V): id i = (5i + 2) mod V, so small tables see every row and repeats.
Tensor ids_of(const Shape& shape, int64_t V) {
    Tensor ids = empty(shape);
    for (int64_t i = 0; i < ids.numel(); ++i) ids.data()[i] = static_cast<float>((5 * i + 2) % V);
    return ids;
}

}  // namespace

TEST_CASE("embedding gathers rows (hand-computed)") {
    // row v of the table is (10v, 10v + 1), so every output names the row it came from
    Tensor weight = tensor({{0, 1}, {10, 11}, {20, 21}, {30, 31}});  // V = 4, D = 2

    SUBCASE("2-D ids: out shape (2, 2) + (2,)") {
        Tensor ids = tensor({{3, 0}, {3, 1}});
        Tensor out = embedding(ids, weight);
        check_close(out, tensor({30, 31, 0, 1, 30, 31, 10, 11}, Shape{2, 2, 2}), 0.0f, 0.0f);
    }
    SUBCASE("1-D ids") {
        check_close(embedding(tensor({2, 2, 0}), weight), tensor({{20, 21}, {20, 21}, {0, 1}}), 0.0f, 0.0f);
    }
    SUBCASE("a 0-D id gives one row of shape (D,)") {
        check_close(embedding(scalar(1), weight), tensor({10, 11}), 0.0f, 0.0f);
    }
    SUBCASE("no ids: out shape (0, D)") {
        CHECK(embedding(empty({0}), weight).shape() == Shape{0, 2});
    }
}

TEST_CASE("embedding scatter-adds the gradient of repeated ids (hand-computed)") {
    Tensor weight = param({4, 3}, 1);
    Tensor ids = tensor({1, 3, 1, 1});
    Tensor out = embedding(ids, weight);
    Tensor dout = tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 20, 30}});
    out.backward(dout);
    // row 1 was read at positions 0, 2 and 3: (1+7+10, 2+8+20, 3+9+30); row 3 at position 1 only;
    // rows 0 and 2 were never read
    check_close(weight.grad(), tensor({{0, 0, 0}, {18, 30, 42}, {0, 0, 0}, {4, 5, 6}}), 0.0f, 0.0f);
}

TEST_CASE("embedding gives the padding row exactly zero gradient") {
    Tensor weight = param({3, 2}, 2);
    Tensor ids = tensor({0, 2, 2, 1});
    for (int64_t padding_idx : {2, -1}) {  // -1 counts from the end: also row 2
        CAPTURE(padding_idx);
        weight.set_grad(Tensor());
        Tensor out = embedding(ids, weight, padding_idx);
        // the forward still reads the padding row, as PyTorch does
        CHECK(out.at({1, 0}) == weight.at({2, 0}));
        CHECK(out.at({2, 1}) == weight.at({2, 1}));
        out.backward(tensor({{1, 2}, {3, 4}, {5, 6}, {7, 8}}));
        // row 0 from position 0, row 1 from position 3; row 2 (positions 1 and 2) gets nothing
        check_close(weight.grad(), tensor({{1, 2}, {7, 8}, {0, 0}}), 0.0f, 0.0f);
    }
}

TEST_CASE("embedding gives ids no gradient") {
    Tensor weight = param({5, 2}, 3);
    Tensor ids = tensor({4, 0, 4}).requires_grad_();
    embedding(ids, weight).backward(ones({3, 2}));
    CHECK_FALSE(ids.grad().defined());
    check_close(weight.grad(), tensor({{1, 1}, {0, 0}, {0, 0}, {0, 0}, {2, 2}}), 0.0f, 0.0f);
}

TEST_CASE("embedding gradcheck for weight, ids fixed") {
    struct Case { int64_t V, D; Shape ids_shape; };
    for (const Case& c : {Case{7, 9, {33}}, Case{1, 1, {1}}, Case{9, 7, {3, 11}}, Case{33, 1, {2, 2, 2}}}) {
        CAPTURE(c.V);
        CAPTURE(c.D);
        Tensor ids = ids_of(c.ids_shape, c.V);
        Tensor weight = param({c.V, c.D}, 10 + static_cast<uint64_t>(c.V));
        auto f = [ids](const std::vector<Tensor>& in) { return embedding(ids, in[0]); };
        CHECK_GRADCHECK(f, {weight});
    }
}

TEST_CASE("embedding gradcheck with a padding row no id uses: the other rows are unaffected") {
    // NOTE: a padding row that ids do use is read by the forward but gets no gradient, by design,
    // so finite differences would disagree there; the hand-computed test above covers it
    Tensor ids = tensor({0, 1, 3, 1, 0});  // never 2
    Tensor weight = param({4, 3}, 20);
    auto f = [ids](const std::vector<Tensor>& in) { return embedding(ids, in[0], 2); };
    CHECK_GRADCHECK(f, {weight});
}

TEST_CASE("embedding errors name the op and the offending value") {
    Tensor weight = zeros({10, 4});

    // the first offending id is reported, with its position
    CHECK(error_of([&] { embedding(tensor({1, 0, 4, 12, -1}), weight); }) ==
          "[embedding] id 12 at position 3 is out of range for 10 embeddings");
    CHECK(error_of([&] { embedding(tensor({0, -1}), weight); }) ==
          "[embedding] id -1 at position 1 is out of range for 10 embeddings");
    CHECK(error_of([&] { embedding(tensor({10}), weight); }) ==
          "[embedding] id 10 at position 0 is out of range for 10 embeddings");
    CHECK(error_of([&] { embedding(tensor({3, 2.5f}), weight); }) ==
          "[embedding] id 2.5 at position 1 is not an integer");
    CHECK(error_of([&] { embedding(tensor({NAN}), weight); }) == "[embedding] id nan at position 0 is not an integer");
    CHECK(error_of([&] { embedding(tensor({INFINITY}), weight); }) ==
          "[embedding] id inf at position 0 is out of range for 10 embeddings");
    // for ids of several dimensions the position is the full index
    CHECK(error_of([&] { embedding(tensor({{0, 1}, {12, 0}}), weight); }) ==
          "[embedding] id 12 at position (1, 0) is out of range for 10 embeddings");

    // weight must be a 2-D table
    std::string message = error_of([&] { embedding(tensor({0}), zeros({10})); });
    CHECK(message.find("[embedding]") == 0);
    CHECK(message.find("2-D") != std::string::npos);
    CHECK(message.find("(10,)") != std::string::npos);
    CHECK(error_of([&] { embedding(tensor({0}), zeros({2, 10, 4})); }).find("(2, 10, 4)") != std::string::npos);

    // padding_idx in [-V, V)
    CHECK(error_of([&] { embedding(tensor({0}), weight, 10); }) ==
          "[embedding] padding_idx 10 is out of range for 10 embeddings (expected -10 to 9)");
    CHECK(error_of([&] { embedding(tensor({0}), weight, -11); }) ==
          "[embedding] padding_idx -11 is out of range for 10 embeddings (expected -10 to 9)");
    CHECK(error_of([&] { embedding(tensor({0}), weight, -10); }).empty());

    // the output gains a dimension, so ids may have at most kMaxDims - 1
    message = error_of([&] { embedding(zeros({1, 1, 1, 1, 1, 1}), weight); });
    CHECK(message.find("[embedding]") == 0);
    CHECK(message.find("(1, 1, 1, 1, 1, 1)") != std::string::npos);
    CHECK(error_of([&] { embedding(zeros({1, 1, 1, 1, 1}), weight); }).empty());

    CHECK(error_of([&] { embedding(Tensor(), weight); }) == "[embedding] ids is an undefined tensor");
    CHECK(error_of([&] { embedding(tensor({0}), Tensor()); }) == "[embedding] weight is an undefined tensor");
}

TEST_CASE("embedding SIMD kernels match the reference bit for bit at every level") {
    // Rows are copied, and added in the reference's order (n = 0, 1, ...), so no tolerance. The
    // ids repeat (an id used twice sums two rows) and include the padding row 3 when it is set.
    for (SimdLevel level : testing::simd_levels()) {
        testing::ScopedSimdLevel scoped(level);
        for (int64_t D : testing::kAwkwardCols) {
            for (int64_t N : {1, 6, 13}) {
                for (int64_t padding : {int64_t{-1}, int64_t{3}}) {
                    INFO("level ", std::string(simd_level_name(level)), ", N ", N, ", D ", D, ", padding ", padding);
                    const int64_t V = 5;
                    const auto seed = static_cast<uint32_t>(N * D);
                    const std::vector<float> weight = testing::uniform_floats(V * D, seed);
                    const std::vector<float> dout = testing::uniform_floats(N * D, seed + 1);
                    std::vector<float> ids(N);
                    for (int64_t n = 0; n < N; ++n) ids[n] = static_cast<float>((5 * n + 2) % V);

                    std::vector<float> out(N * D), out_ref(N * D);
                    embedding_forward(out.data(), ids.data(), weight.data(), N, D);
                    embedding_forward_reference(out_ref.data(), ids.data(), weight.data(), N, D);
                    testing::check_identical(out, out_ref);

                    // dweight starts as garbage: the kernels must zero it first
                    std::vector<float> dweight(V * D, NAN), dweight_ref(V * D, NAN);
                    embedding_backward(dweight.data(), dout.data(), ids.data(), N, V, D, padding);
                    embedding_backward_reference(dweight_ref.data(), dout.data(), ids.data(), N, V, D, padding);
                    testing::check_identical(dweight, dweight_ref);
                }
            }
        }
    }
}

TEST_CASE("embedding forward and backward: threads take ranges, and the results are the reference's bits") {
    // Backward splits the 300 rows of 512 floats into ranges (64 rows at least, see
    // embedding_backward), forward the 700 ids (64 per range: row_grain). An id that repeats adds
    // its rows in order whichever thread owns its range, and the padding row (150, inside a
    // range) stays zero. Checked at every SIMD level on 1, 2 and 3 threads.
    const int64_t V = 300, D = 512, N = 700, padding = 150;
    const std::vector<float> dout = testing::uniform_floats(N * D, 31);
    std::vector<float> ids(N);
    for (int64_t n = 0; n < N; ++n) ids[n] = static_cast<float>((37 * n + 11) % V);  // each id 2-3 times
    std::vector<float> expected(V * D, NAN);
    embedding_backward_reference(expected.data(), dout.data(), ids.data(), N, V, D, padding);
    const std::vector<float> weight = testing::uniform_floats(V * D, 32);
    std::vector<float> gathered(N * D);
    embedding_forward_reference(gathered.data(), ids.data(), weight.data(), N, D);
    for (SimdLevel level : testing::simd_levels()) {
        testing::ScopedSimdLevel scoped(level);
        INFO("level ", std::string(simd_level_name(level)));
        testing::check_same_bits_on_threads([&] {
            std::vector<float> dweight(V * D, NAN);  // garbage: every range must zero its rows
            embedding_backward(dweight.data(), dout.data(), ids.data(), N, V, D, padding);
            testing::check_identical(dweight, expected);
            std::vector<float> out(N * D, NAN);  // 700 rows of 512 floats: several ranges of ids
            embedding_forward(out.data(), ids.data(), weight.data(), N, D);
            testing::check_identical(out, gathered);
            dweight.insert(dweight.end(), out.begin(), out.end());
            return dweight;
        });
    }
}
