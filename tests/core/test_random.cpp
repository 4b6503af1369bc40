// test_random.cpp: Philox4x32-10 against the published known-answer vectors, and the Generator.
#include "testing.hpp"

using namespace ag;

TEST_CASE("random: philox4x32-10 matches Random123's known-answer tests") {
    // kat_vectors from the Random123 distribution: philox4x32 10 rounds
    auto zero = philox4x32_block({0, 0, 0, 0}, {0, 0});
    CHECK(zero == std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    auto ones = philox4x32_block({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff});
    CHECK(ones == std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    auto pi = philox4x32_block({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0});
    CHECK(pi == std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("random: element i of a fill depends only on (seed, offset + i / 4)") {
    Generator whole(11);
    Tensor all = rand({12}, whole);
    CHECK(whole.offset() == 3);  // 12 numbers = 3 blocks of 4
    // the second half drawn on its own, starting at block 1, matches elements 4..11
    Generator part(11);
    part.set_state(11, 1);
    Tensor tail = rand({8}, part);
    for (int i = 0; i < 8; ++i) CHECK(tail.data()[i] == all.data()[4 + i]);
    CHECK(all.data()[0] == uniform01(philox4x32(11, 0)[0]));
    CHECK(all.data()[5] == uniform01(philox4x32(11, 1)[1]));
}

TEST_CASE("random: different seeds and successive draws differ") {
    Generator a(1), b(2);
    CHECK(rand({4}, a).to_vector() != rand({4}, b).to_vector());
    Generator c(1);
    Tensor first = rand({4}, c);
    CHECK(rand({4}, c).to_vector() != first.to_vector());
}

TEST_CASE("random: next_below is uniform over its range") {
    Generator g(5);
    std::array<int, 6> counts{};
    for (int i = 0; i < 60000; ++i) counts[g.next_below(6)]++;
    for (int c : counts) CHECK((c > 9500 && c < 10500));  // 10000 ± 5 standard deviations (~91)
}

TEST_CASE("random: uniform01 is in [0, 1) and exact") {
    CHECK(uniform01(0) == 0.0f);
    CHECK(uniform01(0xffffffff) < 1.0f);
    CHECK(uniform01(0x80000000) == 0.5f);
}
