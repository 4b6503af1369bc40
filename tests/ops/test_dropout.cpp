// test_dropout.cpp: dropout's mask contract, its statistics, the regenerated backward mask, the
// identity and all-zero cases, its errors, and the SIMD kernel against the reference bit for bit
// at every SIMD level.
#include "simd_testing.hpp"
#include "thread_testing.hpp"
#include "testing.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

using namespace ag;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {

// True when a and b hold bitwise-equal values (same shape).
bool same_values(const Tensor& a, const Tensor& b) { return a.shape() == b.shape() && a.to_vector() == b.to_vector(); }

}  // namespace

TEST_CASE("dropout follows the element-to-counter contract") {
    // u_i = uniform01(word i % 4 of philox4x32(seed, first + i / 4)), written out here on its own
    const float p = 0.3f;
    for (int64_t n : {1, 7, 8, 9, 33, 1000}) {
        CAPTURE(n);
        Tensor x = param({n}, 1);
        Generator gen(1234);
        gen.reserve(5);  // a generator that has already been used: first = 5
        Tensor out = dropout(x, p, true, gen);
        CHECK(gen.offset() == 5 + static_cast<uint64_t>((n + 3) / 4));  // ceil(n / 4) blocks reserved
        Tensor expected = empty({n});
        for (int64_t i = 0; i < n; ++i) {
            const float u = uniform01(philox4x32(1234, 5 + static_cast<uint64_t>(i / 4))[i % 4]);
            expected.data()[i] = u >= p ? x.data()[i] / (1.0f - p) : 0.0f;
        }
        CHECK(same_values(out, expected));
    }
}

TEST_CASE("dropout draws the same numbers as rand from the same generator state") {
    Tensor x = ones({3, 11});
    Generator a(99), b(99);
    Tensor out = dropout(x, 0.5f, true, a);
    Tensor u = rand({3, 11}, b);
    int64_t disagreements = 0;
    for (int64_t i = 0; i < x.numel(); ++i) disagreements += (out.data()[i] != 0.0f) != (u.data()[i] >= 0.5f);
    CHECK(disagreements == 0);
    CHECK(a.offset() == b.offset());
}

TEST_CASE("dropout is deterministic for a seed") {
    Tensor x = param({7, 9}, 2);
    Generator a(42), b(42), c(43);
    Tensor out_a = dropout(x, 0.3f, true, a);
    CHECK(same_values(out_a, dropout(x, 0.3f, true, b)));
    CHECK_FALSE(same_values(out_a, dropout(x, 0.3f, true, c)));
}

TEST_CASE("dropout draws a new mask on each call") {
    Tensor x = ones({1000});
    Generator gen(7);
    Tensor first = dropout(x, 0.5f, true, gen);
    CHECK(gen.offset() == 250);
    Tensor second = dropout(x, 0.5f, true, gen);
    CHECK(gen.offset() == 500);
    CHECK_FALSE(same_values(first, second));
}

TEST_CASE("dropout drops a fraction close to p and scales the rest by exactly 1 / (1 - p)") {
    const int64_t n = 100000;
    Tensor x = param({n}, 3);
    for (float p : {0.1f, 0.5f, 0.9f}) {
        CAPTURE(p);
        Generator gen(11);
        Tensor out = dropout(x, p, true, gen);
        int64_t dropped = 0, wrongly_scaled = 0;
        for (int64_t i = 0; i < n; ++i) {
            const float y = out.data()[i];
            if (y == 0.0f)
                ++dropped;
            else if (y != x.data()[i] / (1.0f - p))  // a kept value is x, scaled, and nothing else
                ++wrongly_scaled;
        }
        CHECK(wrongly_scaled == 0);
        // the number dropped is Binomial(n, p): mean n p, standard deviation sqrt(n p (1 - p))
        const double mean = static_cast<double>(n) * p;
        const double sd = std::sqrt(static_cast<double>(n) * p * (1.0 - p));
        CAPTURE(dropped);
        CHECK(std::fabs(static_cast<double>(dropped) - mean) <= 5.0 * sd);
    }
}

TEST_CASE("dropout backward regenerates the forward's mask") {
    for (int64_t n : {1, 7, 9, 33, 1000}) {
        CAPTURE(n);
        Tensor x = param({n}, 4);
        Generator gen(5);
        gen.reserve(3);
        Tensor out = dropout(x, 0.4f, true, gen);
        // another draw from the same generator in between must not change this node's mask
        dropout(x, 0.4f, true, gen);
        Tensor dout = param({n}, 5).detach();
        out.backward(dout);
        // out = x m / (1 - p) and dx = dout m / (1 - p), so dx = dout * out / x wherever x != 0
        // (a normal sample is never exactly 0; were one, its dx would go unchecked)
        Tensor expected = clone_data(x.grad());
        for (int64_t i = 0; i < n; ++i)
            if (x.data()[i] != 0.0f) expected.data()[i] = dout.data()[i] * out.data()[i] / x.data()[i];
        check_close(x.grad(), expected, 1e-5f, 1e-6f);
    }
}

TEST_CASE("dropout keeps no mask: the node holds three numbers, not a tensor") {
    Tensor x = param({1000}, 6);
    int64_t one_output = 0;
    {
        int64_t before = allocated_bytes();
        Tensor t = empty({1000});
        one_output = allocated_bytes() - before;
    }
    Generator gen(8);
    int64_t before = allocated_bytes();
    Tensor out = dropout(x, 0.5f, true, gen);
    CHECK(out.requires_grad());
    CHECK(allocated_bytes() - before == one_output);
}

TEST_CASE("dropout is the identity for p == 0 and in evaluation") {
    Tensor x = param({3, 4}, 7);
    Generator gen(9);
    Tensor zero_p = dropout(x, 0.0f, true, gen);
    Tensor eval = dropout(x, 0.5f, false, gen);
    // the same tensor, not a copy: no new storage and no node
    CHECK(zero_p.impl() == x.impl());
    CHECK(eval.impl() == x.impl());
    CHECK(eval.is_leaf());
    CHECK(gen.offset() == 0);  // no random numbers drawn
}

TEST_CASE("dropout with p == 1 gives zeros and a zero gradient") {
    Tensor x = param({7}, 8);
    Generator gen(10);
    Tensor out = dropout(x, 1.0f, true, gen);
    check_close(out, zeros({7}), 0.0f, 0.0f);
    out.backward(ones({7}));
    check_close(x.grad(), zeros({7}), 0.0f, 0.0f);  // zeros, not 0 * inf = NaN
}

TEST_CASE("dropout gradcheck with the generator re-seeded inside f") {
    for (float p : {0.3f, 0.5f, 1.0f}) {
        for (const Shape& shape : {Shape{1}, Shape{7}, Shape{9}, Shape{3, 11}}) {
            CAPTURE(p);
            CAPTURE(shape.numel());
            Tensor x = param(shape, 9);
            // a fresh generator per call, so every evaluation draws the same mask
            auto f = [p](const std::vector<Tensor>& in) {
                Generator gen(21);
                return dropout(in[0], p, true, gen);
            };
            CHECK_GRADCHECK(f, {x});
        }
    }
}

TEST_CASE("dropout errors name the op and the offending p") {
    Tensor x = ones({3});
    Generator gen(0);
    CHECK(error_of([&] { dropout(x, -0.1f, true, gen); }) == "[dropout] probability p must be in [0, 1], got -0.1");
    CHECK(error_of([&] { dropout(x, 1.5f, true, gen); }) == "[dropout] probability p must be in [0, 1], got 1.5");
    CHECK(error_of([&] { dropout(x, NAN, true, gen); }) == "[dropout] probability p must be in [0, 1], got nan");
    // a bad p is an error in evaluation too, where it would otherwise go unnoticed
    CHECK(error_of([&] { dropout(x, 2.0f, false, gen); }) == "[dropout] probability p must be in [0, 1], got 2");
    CHECK(error_of([&] { dropout(Tensor(), 0.5f, true, gen); }) == "[dropout] x is an undefined tensor");
    CHECK(gen.offset() == 0);
}

TEST_CASE("dropout SIMD kernel matches the reference bit for bit at every level") {
    // The SIMD kernel draws the same Philox words, compares the same u_i with p and divides by
    // 1 - p: no tolerance. Sizes around each register width and each step of 4 registers (up to
    // 64 elements); a counter `first` whose low word wraps inside the call (the carry must reach
    // c1); a seed with both key words set; inputs with ±0, ±inf and NaN, which must pass through
    // the same division.
    using testing::check_identical;
    using testing::ScopedSimdLevel;
    std::vector<int64_t> sizes = testing::kAwkwardCols;
    for (int64_t n : {63, 64, 65, 127, 130}) sizes.push_back(n);
    const uint64_t firsts[] = {0, 5, (uint64_t{1} << 32) - 7};
    const uint64_t seeds[] = {1234, 0x0123456789ABCDEFull};
    for (SimdLevel level : testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int64_t n : sizes) {
            std::vector<float> x = testing::uniform_floats(n, static_cast<uint32_t>(n), -3.0f, 3.0f);
            const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN};
            for (int64_t i = 0; i < n && i < 5; ++i) x[static_cast<size_t>(i * (n / 5))] = specials[i];
            for (uint64_t seed : seeds) {
                for (uint64_t first : firsts) {
                    for (float p : {0.1f, 0.5f, 0.9f}) {
                        INFO("level ", std::string(simd_level_name(level)), ", n ", n, ", seed ", seed, ", first ",
                             first, ", p ", p);
                        std::vector<float> out(n), expected(n), dx(n), dx_expected(n);
                        dropout_forward(out.data(), x.data(), n, p, seed, first);
                        dropout_forward_reference(expected.data(), x.data(), n, p, seed, first);
                        check_identical(out, expected);
                        dropout_backward(dx.data(), x.data(), n, p, seed, first);
                        dropout_backward_reference(dx_expected.data(), x.data(), n, p, seed, first);
                        check_identical(dx, dx_expected);
                    }
                }
            }
        }
    }
}

TEST_CASE("dropout SIMD kernel matches the reference bit for bit on outputs big enough to stream") {
    // Outputs of 16 MiB and more are written with non-temporal stores when `out` is aligned to the
    // register size; an unaligned `out` takes the normal stores. Both must give the reference's bits.
    using testing::ScopedSimdLevel;
    const int64_t n = (int64_t{16} << 20) / 4 + 5;  // 16 MiB of floats, plus a tail
    const std::vector<float> x = testing::uniform_floats(n, 7, -3.0f, 3.0f);
    std::vector<float> expected(n);
    dropout_forward_reference(expected.data(), x.data(), n, 0.25f, 99, 3);
    Tensor out = empty({n + 1});  // 64-byte aligned storage
    for (int64_t offset : {0, 1}) {  // out aligned, then out one float off alignment
        for (SimdLevel level : testing::simd_levels()) {
            ScopedSimdLevel scoped(level);
            INFO("level ", std::string(simd_level_name(level)), ", offset ", offset);
            dropout_forward(out.data() + offset, x.data(), n, 0.25f, 99, 3);
            std::vector<float> got(out.data() + offset, out.data() + offset + n);
            testing::check_identical(got, expected);
        }
    }
}

TEST_CASE("dropout SIMD kernel decides u == p exactly as the reference") {
    // The SIMD kernel compares the integer top 24 bits of each word with ceil(p 2^24) instead of
    // the float u with p. Random data almost never lands on the boundary (2^-24 per element), so
    // pick p = u_0, the first element's own random number, and its two float neighbours: u_0 >= p
    // keeps element 0 for p = u_0 and below, and drops it just above.
    const uint64_t seed = 2024, first = 11;
    const int64_t n = 1000;  // long enough for whole SIMD steps; element 0 is in the first
    const float u0 = uniform01(philox4x32(seed, first)[0]);
    REQUIRE(u0 > 0.0f);
    const std::vector<float> x = testing::uniform_floats(n, 3, 1.0f, 2.0f);  // never 0
    for (float p : {u0, std::nextafter(u0, 0.0f), std::nextafter(u0, 1.0f)}) {
        std::vector<float> expected(n);
        dropout_forward_reference(expected.data(), x.data(), n, p, seed, first);
        CHECK((expected[0] != 0.0f) == (p <= u0));  // the reference itself: kept exactly when u0 >= p
        for (SimdLevel level : testing::simd_levels()) {
            testing::ScopedSimdLevel scoped(level);
            INFO("level ", std::string(simd_level_name(level)), ", p ", p, ", u0 ", u0);
            std::vector<float> out(n);
            dropout_forward(out.data(), x.data(), n, p, seed, first);
            testing::check_identical(out, expected);
        }
    }
}

TEST_CASE("dropout: the same bits on 1, 2 and 3 threads, and still the reference's") {
    // 100003 floats: four chunks of kChunkFloats = 32768, the last one not a multiple of 4. Each
    // chunk must start at its own Philox block (first + i0 / 4), which the reference checks.
    const int64_t n = 100003;
    const std::vector<float> x = ag::testing::uniform_floats(n, 41);
    std::vector<float> expected(n);
    dropout_forward_reference(expected.data(), x.data(), n, 0.3f, 77, 5);
    ag::testing::check_same_bits_on_threads([&] {
        std::vector<float> y(n);
        dropout_forward(y.data(), x.data(), n, 0.3f, 77, 5);
        CHECK(y == expected);
        return y;
    });
}

TEST_CASE("dropout's mask bits are its keep decisions, and applying them gives its bits, at every level") {
    // dropout_forward can keep its mask as bits (attention keeps it for backward): bit i % 8 of
    // byte i / 8 is 1 exactly where element i was kept, whatever the level and the size (each
    // register width, whole steps and tails; 100003 spans several thread chunks), and the bits past
    // n in the last byte are 0. dropout_apply_mask on the same x must then give dropout_forward's
    // bits, as must the reference. x is never 0, so "kept" is "out != 0"; two inputs are ±inf and
    // NaN, which pass through the same division either way.
    using testing::check_identical;
    using testing::ScopedSimdLevel;
    std::vector<int64_t> sizes = testing::kAwkwardCols;
    for (int64_t n : {63, 64, 65, 127, 130, 100003}) sizes.push_back(n);
    for (SimdLevel level : testing::simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (int64_t n : sizes)
            for (float p : {0.1f, 0.5f}) {
                INFO("level ", std::string(simd_level_name(level)), ", n ", n, ", p ", p);
                std::vector<float> x = testing::uniform_floats(n, static_cast<uint32_t>(n), 0.5f, 3.0f);
                if (n > 2) x[1] = -INFINITY, x[2] = NAN;
                const size_t bytes = static_cast<size_t>((n + 7) / 8);
                std::vector<uint8_t> mask(bytes, 0xA5), reference_mask(bytes, 0x5A);  // stale bytes: all overwritten
                std::vector<float> out(n), expected(n), applied(n), applied_reference(n);
                dropout_forward(out.data(), x.data(), n, p, 8, 3, mask.data());
                dropout_forward_reference(expected.data(), x.data(), n, p, 8, 3, reference_mask.data());
                check_identical(out, expected);
                CHECK(mask == reference_mask);
                int64_t wrong = 0;
                for (int64_t i = 0; i < n; ++i) {
                    const bool bit = (mask[static_cast<size_t>(i / 8)] >> (i % 8)) & 1u;
                    const bool kept = std::isnan(out[static_cast<size_t>(i)]) || out[static_cast<size_t>(i)] != 0.0f;
                    wrong += bit == kept ? 0 : 1;
                }
                CHECK(wrong == 0);
                if (n % 8 != 0) CHECK((mask.back() >> (n % 8)) == 0);
                dropout_apply_mask(applied.data(), x.data(), n, p, mask.data());
                check_identical(applied, expected);
                dropout_apply_mask_reference(applied_reference.data(), x.data(), n, p, mask.data());
                check_identical(applied_reference, expected);
            }
    }
}
