// test_embedding.cpp: the Embedding module: lookup, padding row, initialisation, errors.
#include "testing.hpp"

#include "nn/embedding.hpp"

#include <algorithm>
#include <cmath>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;

TEST_CASE("Embedding looks up rows (hand-computed)") {
    Generator gen(0);
    Embedding embed(3, 2, gen);
    std::copy_n(tensor({{0, 1}, {10, 11}, {20, 21}}).data(), 6, embed.weight().data());
    // ids (2, 0, 2) pick rows 2, 0, 2
    check_close(embed(tensor({{2, 0, 2}})), tensor({20, 21, 0, 1, 20, 21}, Shape{1, 3, 2}), 0.0f, 0.0f);
    CHECK(embed.num_embeddings() == 3);
    CHECK(embed.embedding_dim() == 2);
    CHECK(embed.named_parameters().size() == 1);
    CHECK(embed.named_parameters()[0].name == "weight");
}

TEST_CASE("Embedding initialises from N(0, 1) with the padding row zero") {
    Generator gen(1);
    Embedding embed(100, 64, gen, 3);
    Tensor w = embed.weight();
    for (int64_t d = 0; d < 64; ++d) CHECK(w.at({3, d}) == 0.0f);
    // the other 99 · 64 = 6336 values: mean 0, variance 1 (tolerances ~5 standard errors)
    double total = 0, squares = 0;
    int64_t n = 0;
    for (int64_t v = 0; v < 100; ++v)
        for (int64_t d = 0; d < 64; ++d)
            if (v != 3) total += w.at({v, d}), squares += w.at({v, d}) * w.at({v, d}), ++n;
    CHECK(std::abs(total / n) < 5.0 / std::sqrt(n));
    CHECK(squares / n == doctest::Approx(1.0).epsilon(0.1));
    CHECK(w.requires_grad());
}

TEST_CASE("Embedding gives the padding row no gradient") {
    Generator gen(2);
    Embedding embed(4, 3, gen, -1);  // -1: the last row, stored as 3
    CHECK(embed.padding_idx() == 3);
    Tensor ids = tensor({3, 1, 3, 1});
    sum(embed(ids) * tensor({1, 2, 3})).backward();
    // row 1 read twice: 2 · (1, 2, 3); the padding row 3, read twice too, gets nothing
    check_close(embed.weight().grad(), tensor({{0, 0, 0}, {2, 4, 6}, {0, 0, 0}, {0, 0, 0}}), 0.0f, 0.0f);
}

TEST_CASE("Embedding errors") {
    Generator gen(0);
    std::string message = error_of([&] { Embedding(4, 3, gen, 4); });
    CHECK(message.find("[Embedding]") == 0);
    CHECK(message.find("padding_idx 4 out of range for 4 embeddings") != std::string::npos);
    CHECK(error_of([&] { Embedding(4, 3, gen, -5); }).find("padding_idx -5") != std::string::npos);
    CHECK(error_of([&] { Embedding(0, 3, gen); }).find("[Embedding]") == 0);
    Embedding embed(4, 3, gen);
    CHECK(error_of([&] { embed(tensor({4})); }).find("[embedding]") == 0);  // the op checks the ids
    CHECK(error_of([&] { embed(Tensor()); }).find("[Embedding] ids is an undefined tensor") == 0);
}
