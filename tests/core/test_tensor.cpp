// test_tensor.cpp: storage, factories, element access, allclose.
#include "testing.hpp"

#include <cmath>
#include <cstdint>

using namespace ag;
using ag::testing::error_of;

TEST_CASE("tensor: storage is 64-byte aligned and views share it") {
    for (int64_t n : {1, 7, 33, 1000}) {
        Tensor t = zeros({n});
        CHECK(reinterpret_cast<uintptr_t>(t.data()) % 64 == 0);
    }
    Tensor a = arange(6);
    Tensor b = a.detach();
    CHECK(b.data() == a.data());
    b.data()[2] = 42.0f;
    CHECK(a.at({2}) == 42.0f);
}

TEST_CASE("tensor: factories") {
    Tensor z = zeros({2, 3});
    CHECK(z.shape() == Shape{2, 3});
    CHECK(z.to_vector() == std::vector<float>(6, 0.0f));
    CHECK(ones({2}).to_vector() == std::vector<float>{1, 1});
    CHECK(full({3}, 2.5f).to_vector() == std::vector<float>{2.5f, 2.5f, 2.5f});
    CHECK(arange(4).to_vector() == std::vector<float>{0, 1, 2, 3});
    CHECK(arange(1.0f, 2.0f, 0.25f).to_vector() == std::vector<float>{1.0f, 1.25f, 1.5f, 1.75f});
    CHECK(arange(3.0f, 0.0f, -1.0f).to_vector() == std::vector<float>{3, 2, 1});
    Tensor m = tensor({{1, 2, 3}, {4, 5, 6}});
    CHECK(m.shape() == Shape{2, 3});
    CHECK(m.at({1, 0}) == 4.0f);
    CHECK(tensor({1, 2}).shape() == Shape{2});
    CHECK(tensor(std::vector<float>{1, 2, 3, 4}, Shape{2, 2}).at({1, 1}) == 4.0f);
    CHECK(scalar(3.0f).ndim() == 0);
    CHECK(scalar(3.0f).item() == 3.0f);
}

TEST_CASE("tensor: random factories are seeded and in range") {
    Generator g1(7), g2(7);
    Tensor a = rand({1000}, g1), b = rand({1000}, g2);
    CHECK(a.to_vector() == b.to_vector());
    float lo = 1, hi = 0;
    for (float v : a.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
    CHECK(lo >= 0.0f);
    CHECK(hi < 1.0f);
    CHECK(hi > 0.99f);  // 1000 draws reach near the top

    Generator g3(1);
    Tensor u = uniform({1000}, -2.0f, 3.0f, g3);
    for (float v : u.to_vector()) CHECK((v >= -2.0f && v < 3.0f));

    Generator g4(3);
    Tensor n = randn({20000}, g4);
    double mean = 0, var = 0;
    for (float v : n.to_vector()) mean += v;
    mean /= 20000;
    for (float v : n.to_vector()) var += (v - mean) * (v - mean);
    var /= 20000;
    CHECK(std::fabs(mean) < 0.04);  // 5 standard errors of 1/sqrt(20000)
    CHECK(std::fabs(var - 1.0) < 0.05);
}

TEST_CASE("tensor: errors name the factory and the values") {
    CHECK(error_of([] { tensor(std::vector<float>{1, 2, 3}, Shape{2, 2}); }) ==
          "[tensor] 3 values do not fill shape (2, 2) (4 elements)");
    CHECK(error_of([] { tensor({{1, 2}, {3}}); }) == "[tensor] rows differ in length: 2 and 1");
    CHECK(error_of([] { zeros({2, 3}).item(); }) ==
          "[item] only a one-element tensor converts to a number: got shape (2, 3)");
    CHECK(error_of([] { zeros({2, 3}).at({2, 0}); }) == "[at] index (2, 0) out of range for shape (2, 3)");
    CHECK(error_of([] { zeros({2, 3}).at({1}); }) == "[at] index (1,) has 1 coordinates for shape (2, 3)");
    CHECK(error_of([] { arange(0.0f, 1.0f, 0.0f); }).find("[arange] step must be finite and non-zero") == 0);
    Generator g;
    CHECK(error_of([&] { uniform({2}, 1.0f, 0.0f, g); }) == "[uniform] need finite low <= high: got 1 and 0");
    CHECK(error_of([] { Tensor().shape(); }) == "[tensor] use of an undefined tensor");
}

TEST_CASE("tensor: allclose") {
    CHECK(allclose(tensor({1.0f, 2.0f}), tensor({1.0f, 2.0f + 1e-6f})));
    CHECK_FALSE(allclose(tensor({1.0f, 2.0f}), tensor({1.0f, 2.1f})));
    CHECK_FALSE(allclose(tensor({1.0f, 2.0f}), tensor({{1.0f, 2.0f}})));  // shapes differ
    CHECK_FALSE(allclose(tensor({NAN}), tensor({NAN})));
    CHECK(allclose(tensor({INFINITY}), tensor({INFINITY})));
    CHECK(allclose(tensor({1.0f}), tensor({1.1f}), 0.1f, 0.0f));
}

TEST_CASE("tensor: size accepts negative dimensions and checks range") {
    Tensor t = zeros({2, 3});
    CHECK(t.size(-1) == 3);
    CHECK(t.size(0) == 2);
    CHECK(error_of([&] { t.size(2); }) == "[size] axis 2 out of range for shape (2, 3)");
}

TEST_CASE("tensor: freed large buffers are reused by the next allocation of their size class") {
    empty_cache();
    CHECK(cached_bytes() == 0);
    const float* first = nullptr;
    {
        Tensor big = empty({100000});  // 400,000 bytes: cached when freed
        first = big.data();
    }
    CHECK(cached_bytes() >= 400000);
    {
        Tensor again = empty({99000});  // a little smaller, the same size class (384 to 448 KiB)
        CHECK(again.data() == first);
        CHECK(cached_bytes() == 0);
    }
    {
        Tensor small = empty({100});  // small blocks are malloc's business, never cached
        (void)small;
    }
    const int64_t before_small = cached_bytes();
    { Tensor small = empty({100}); }
    CHECK(cached_bytes() == before_small);
    empty_cache();
    CHECK(cached_bytes() == 0);
}

TEST_CASE("tensor: the buffer cache stays under its cap, freeing the oldest buffers") {
    empty_cache();
    {
        // five 64 MiB buffers (never written, so the OS gives them no pages): 320 MiB freed at once
        std::vector<Tensor> big;
        for (int i = 0; i < 5; ++i) big.push_back(empty({16 << 20}));
    }
    CHECK(cached_bytes() <= (int64_t{256} << 20));
    CHECK(cached_bytes() >= (int64_t{192} << 20));
    empty_cache();
}
