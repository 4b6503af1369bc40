// test_shape_ops.cpp: reshape/view/squeeze/unsqueeze (views), transpose/permute, slice/narrow,
// concat and broadcast_to: hand-computed values, gradcheck, storage sharing and error messages.
#include "testing.hpp"

#include <cmath>

using namespace ag;
using ag::testing::iota;
using ag::testing::check_close;
using ag::testing::error_of;
using ag::testing::param;

namespace {
using Inputs = std::vector<Tensor>;

// The gradient that y.backward(dout) leaves on the leaf x.
Tensor grad_of(const Tensor& x, const Tensor& y, const Tensor& dout) {
    x.set_grad(Tensor());
    y.backward(dout);
    return x.grad();
}
}  // namespace

// --- views -------------------------------------------------------------------------------------

TEST_CASE("reshape shares storage: no copy, and writes are seen both ways") {
    Tensor x = iota({6});
    Tensor y = reshape(x, {2, 3});
    CHECK(y.shape() == Shape{2, 3});
    CHECK(y.data() == x.data());
    CHECK(y.impl()->storage == x.impl()->storage);
    y.at({1, 2}) = 42.0f;  // element 5 of x
    CHECK(x.at({5}) == 42.0f);
    x.at({1}) = -7.0f;  // element (0, 1) of y
    CHECK(y.at({0, 1}) == -7.0f);
}

TEST_CASE("reshape infers one -1 and keeps row-major order") {
    Tensor x = iota({2, 3, 4});
    Tensor y = reshape(x, {4, -1});
    CHECK(y.shape() == Shape{4, 6});
    CHECK(y.at({1, 0}) == 6.0f);  // row 1 of (4, 6) starts at element 6
    CHECK(reshape(x, {-1}).shape() == Shape{24});
    CHECK(reshape(iota({1}), {}).shape() == Shape{});
    CHECK(reshape(empty({0, 3}), {3, 0}).shape() == Shape{3, 0});
}

TEST_CASE("reshape records its name and its backward reshapes back") {
    Tensor x = param({2, 3}, 1);
    Tensor y = reshape(x, {3, 2});
    REQUIRE(y.grad_fn());
    CHECK(y.grad_fn()->name() == "reshape");
    Tensor dout = iota({3, 2});
    check_close(grad_of(x, y, dout), iota({2, 3}));
    CHECK_GRADCHECK([](const Inputs& v) { return reshape(v[0], {4, -1}); }, {param({2, 3, 4}, 2)});
    CHECK_GRADCHECK([](const Inputs& v) { return reshape(v[0], {3, 1, 11}); }, {param({33}, 3)});
}

TEST_CASE("reshape errors") {
    Tensor x = iota({2, 3});
    std::string e = error_of([&] { reshape(x, {4, 2}); });
    CHECK(e == "[reshape] cannot reshape (2, 3) (6 elements) to (4, 2)");
    e = error_of([&] { reshape(x, {4, -1}); });
    CHECK(e == "[reshape] cannot reshape (2, 3) (6 elements) to (4, -1)");
    e = error_of([&] { reshape(x, {-1, -1}); });
    CHECK(e == "[reshape] only one size may be -1: got (-1, -1)");
    e = error_of([&] { reshape(x, {-2, -3}); });
    CHECK(e == "[reshape] invalid size -2 in (-2, -3)");
    e = error_of([&] { reshape(empty({0, 3}), {0, -1}); });
    CHECK(e == "[reshape] cannot infer the -1 in (0, -1): the other sizes multiply to 0");
    e = error_of([&] { reshape(x, {1, 1, 1, 1, 1, 2, 3}); });
    CHECK(e.find("[reshape] at most 6 dimensions") == 0);
}

TEST_CASE("view is reshape under its own name") {
    Tensor x = param({2, 6}, 4);
    Tensor y = view(x, {3, -1});
    CHECK(y.shape() == Shape{3, 4});
    CHECK(y.data() == x.data());
    CHECK(y.grad_fn()->name() == "view");
    CHECK(error_of([&] { view(x, {5}); }) == "[view] cannot reshape (2, 6) (12 elements) to (5,)");
    CHECK_GRADCHECK([](const Inputs& v) { return view(v[0], {-1}); }, {param({7, 9}, 5)});
}

TEST_CASE("unsqueeze and squeeze are views that insert and remove a size-1 axis") {
    Tensor x = param({2, 3}, 6);
    CHECK(unsqueeze(x, 0).shape() == Shape{1, 2, 3});
    CHECK(unsqueeze(x, 1).shape() == Shape{2, 1, 3});
    CHECK(unsqueeze(x, 2).shape() == Shape{2, 3, 1});
    CHECK(unsqueeze(x, -1).shape() == Shape{2, 3, 1});
    CHECK(unsqueeze(x, -3).shape() == Shape{1, 2, 3});
    CHECK(unsqueeze(scalar(1.0f), 0).shape() == Shape{1});
    Tensor u = unsqueeze(x, 1);
    CHECK(u.data() == x.data());
    CHECK(u.grad_fn()->name() == "unsqueeze");

    Tensor s = squeeze(u, 1);
    CHECK(s.shape() == Shape{2, 3});
    CHECK(s.data() == x.data());
    CHECK(s.grad_fn()->name() == "squeeze");
    CHECK(squeeze(param({7, 1}, 7), -1).shape() == Shape{7});

    CHECK_GRADCHECK([](const Inputs& v) { return unsqueeze(v[0], 1); }, {param({7, 9}, 8)});
    CHECK_GRADCHECK([](const Inputs& v) { return squeeze(v[0], 0); }, {param({1, 33}, 9)});
}

TEST_CASE("unsqueeze and squeeze errors") {
    Tensor x = iota({2, 3});
    CHECK(error_of([&] { unsqueeze(x, 3); }) == "[unsqueeze] axis 3 out of range for shape (2, 3)");
    CHECK(error_of([&] { unsqueeze(x, -4); }) == "[unsqueeze] axis -4 out of range for shape (2, 3)");
    std::string e = error_of([&] { unsqueeze(iota({1, 1, 1, 1, 1, 1}), 0); });
    CHECK(e.find("[unsqueeze] shape (1, 1, 1, 1, 1, 1) already has the most dimensions") == 0);
    CHECK(error_of([&] { squeeze(x, 1); }) == "[squeeze] cannot squeeze axis 1 of shape (2, 3): its size is 3, not 1");
    CHECK(error_of([&] { squeeze(x, 2); }) == "[squeeze] axis 2 out of range for shape (2, 3)");
}

// --- transpose, permute ------------------------------------------------------------------------

TEST_CASE("transpose of a matrix, by hand") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
    Tensor y = transpose(x, 0, 1);
    check_close(y, tensor({{1, 4}, {2, 5}, {3, 6}}));
    CHECK(y.data() != x.data());  // a copy
    check_close(transpose(x, -1, -2), y);
    check_close(transpose(x, 1, 1), x);
}

TEST_CASE("transpose and permute move every element to its permuted index") {
    Tensor x = iota({2, 3, 4});
    Tensor t = transpose(x, 0, 2);  // (4, 3, 2)
    Tensor p = permute(x, {2, 0, 1});  // (4, 2, 3): p[i, j, k] = x[j, k, i]
    REQUIRE(t.shape() == Shape{4, 3, 2});
    REQUIRE(p.shape() == Shape{4, 2, 3});
    for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j)
            for (int64_t k = 0; k < 4; ++k) {
                CHECK(t.at({k, j, i}) == x.at({i, j, k}));
                CHECK(p.at({k, i, j}) == x.at({i, j, k}));
            }
    // by hand: x[0, 1, 2] = 0*12 + 1*4 + 2 = 6 lands at p[2, 0, 1]
    CHECK(p.at({2, 0, 1}) == 6.0f);
    check_close(permute(x, {-3, -2, -1}), x);
}

TEST_CASE("transpose and permute backward apply the inverse permutation") {
    Tensor x = param({2, 3, 4}, 10);
    Tensor p = permute(x, {2, 0, 1});
    CHECK(p.grad_fn()->name() == "permute");
    CHECK(transpose(x, 0, 1).grad_fn()->name() == "transpose");
    // dout = iota over p's shape; dx[i, j, k] = dout[k, i, j]
    Tensor dout = iota({4, 2, 3});
    Tensor dx = grad_of(x, p, dout);
    for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j)
            for (int64_t k = 0; k < 4; ++k) CHECK(dx.at({i, j, k}) == dout.at({k, i, j}));

    CHECK_GRADCHECK([](const Inputs& v) { return transpose(v[0], 0, 1); }, {param({7, 9}, 11)});
    CHECK_GRADCHECK([](const Inputs& v) { return transpose(v[0], -1, 0); }, {param({1, 7, 9}, 12)});
    CHECK_GRADCHECK([](const Inputs& v) { return permute(v[0], {3, 0, 2, 1}); }, {param({7, 1, 9, 3}, 13)});
    CHECK_GRADCHECK([](const Inputs& v) { return permute(v[0], {1, 2, 0}); }, {param({2, 3, 4}, 14)});
}

TEST_CASE("transpose and permute errors") {
    Tensor x = iota({2, 3, 4});
    CHECK(error_of([&] { transpose(x, 0, 3); }) == "[transpose] axis 3 out of range for shape (2, 3, 4)");
    CHECK(error_of([&] { permute(x, {0, 1}); }) ==
          "[permute] dims (0, 1) has 2 entries for shape (2, 3, 4) of 3 dimensions");
    CHECK(error_of([&] { permute(x, {0, 2, -3}); }) ==
          "[permute] dims (0, 2, -3) is not a permutation: axis 0 repeats");
    CHECK(error_of([&] { permute(x, {0, 1, 5}); }) == "[permute] axis 5 out of range for shape (2, 3, 4)");
}

// --- slice, narrow -----------------------------------------------------------------------------

TEST_CASE("slice by hand, with Python's rules for negative and out-of-range bounds") {
    Tensor x = iota({10});  // 0 .. 9
    check_close(slice(x, 0, 1, 8, 3), tensor({1, 4, 7}));  // x[1:8:3]
    check_close(slice(x, 0, 1, 7, 3), tensor({1, 4}));     // 7 is excluded
    check_close(slice(x, 0, -3, 100), tensor({7, 8, 9}));  // x[-3:100]
    check_close(slice(x, 0, -100, 2), tensor({0, 1}));     // x[-100:2]
    check_close(slice(x, 0, 2, -6), tensor({2, 3}));       // x[2:-6]
    CHECK(slice(x, 0, 5, 3).shape() == Shape{0});          // x[5:3] is empty
    CHECK(slice(x, 0, 12, 20).shape() == Shape{0});
    // along the last axis of a matrix: columns 1 and 3
    Tensor m = tensor({{1, 2, 3, 4}, {5, 6, 7, 8}});
    check_close(slice(m, -1, 1, 4, 2), tensor({{2, 4}, {6, 8}}));
    check_close(slice(m, 0, 1, 2), tensor({{5, 6, 7, 8}}));
}

TEST_CASE("slice backward puts dout back in zeros") {
    Tensor x = param({2, 5}, 20);
    Tensor y = slice(x, 1, 1, 5, 2);  // columns 1 and 3
    CHECK(y.grad_fn()->name() == "slice");
    Tensor dx = grad_of(x, y, tensor({{1, 2}, {3, 4}}));
    check_close(dx, tensor({{0, 1, 0, 2, 0}, {0, 3, 0, 4, 0}}));

    CHECK_GRADCHECK([](const Inputs& v) { return slice(v[0], 1, 1, -1, 2); }, {param({7, 9}, 21)});
    CHECK_GRADCHECK([](const Inputs& v) { return slice(v[0], 0, -30, 33, 4); }, {param({33}, 22)});
    CHECK_GRADCHECK([](const Inputs& v) { return slice(v[0], 1, 0, 1); }, {param({3, 7, 2}, 23)});
}

TEST_CASE("narrow by hand, backward and gradcheck") {
    Tensor x = tensor({{1, 2, 3, 4}, {5, 6, 7, 8}});
    check_close(narrow(x, 1, 1, 2), tensor({{2, 3}, {6, 7}}));
    check_close(narrow(x, 1, -1, 1), tensor({4, 8}, {2, 1}));
    CHECK(narrow(x, 0, 2, 0).shape() == Shape{0, 4});

    Tensor p = param({2, 4}, 24);
    Tensor y = narrow(p, 0, 1, 1);
    CHECK(y.grad_fn()->name() == "narrow");
    check_close(grad_of(p, y, tensor({{1, 2, 3, 4}})), tensor({{0, 0, 0, 0}, {1, 2, 3, 4}}));
    CHECK_GRADCHECK([](const Inputs& v) { return narrow(v[0], 1, 2, 5); }, {param({1, 9, 7}, 25)});
}

TEST_CASE("slice and narrow errors") {
    Tensor x = iota({2, 4});
    CHECK(error_of([&] { slice(x, 1, 0, 4, 0); }) == "[slice] step must be positive: got 0");
    CHECK(error_of([&] { slice(x, 1, 0, 4, -1); }) == "[slice] step must be positive: got -1");
    CHECK(error_of([&] { slice(x, 2, 0, 1); }) == "[slice] axis 2 out of range for shape (2, 4)");
    CHECK(error_of([&] { narrow(x, 1, 3, 2); }) ==
          "[narrow] start 3 + length 2 exceeds size 4 of axis 1 of shape (2, 4)");
    CHECK(error_of([&] { narrow(x, 1, 5, 0); }) == "[narrow] start 5 out of range for axis 1 of shape (2, 4)");
    CHECK(error_of([&] { narrow(x, 1, 0, -1); }) == "[narrow] length must be non-negative: got -1");
}

// --- concat ------------------------------------------------------------------------------------

TEST_CASE("concat by hand along each axis") {
    Tensor a = tensor({{1, 2}, {3, 4}});
    Tensor b = tensor({{5, 6}});
    check_close(concat({a, b}, 0), tensor({{1, 2}, {3, 4}, {5, 6}}));
    Tensor c = tensor({7, 8}, {2, 1});
    check_close(concat({a, c}, 1), tensor({{1, 2, 7}, {3, 4, 8}}));
    check_close(concat({c, a, c}, -1), tensor({{7, 1, 2, 7}, {8, 3, 4, 8}}));
    check_close(concat({a}, 0), a);
    CHECK(concat({a}, 0).data() != a.data());  // a copy
}

TEST_CASE("concat backward cuts dout into the inputs' bands") {
    Tensor a = param({2, 1}, 30), b = param({2, 2}, 31);
    Tensor y = concat({a, b}, 1);
    CHECK(y.grad_fn()->name() == "concat");
    y.backward(tensor({{1, 2, 3}, {4, 5, 6}}));
    check_close(a.grad(), tensor({1, 4}, {2, 1}));
    check_close(b.grad(), tensor({{2, 3}, {5, 6}}));

    auto middle = [](const Inputs& v) { return concat(v, 1); };
    CHECK_GRADCHECK(middle, {param({3, 1, 2}, 32), param({3, 7, 2}, 33), param({3, 9, 2}, 34)});
    auto first = [](const Inputs& v) { return concat(v, 0); };
    CHECK_GRADCHECK(first, {param({33}, 35), param({1}, 36)});
    // an input that needs no gradient still takes its place in the output
    Tensor fixed = iota({2, 3});
    auto last = [&](const Inputs& v) { return concat({v[0], fixed, v[1]}, -1); };
    CHECK_GRADCHECK(last, {param({2, 2}, 37), param({2, 1}, 38)});
}

TEST_CASE("concat errors") {
    CHECK(error_of([] { concat({}, 0); }) == "[concat] needs at least one tensor: got an empty list");
    Tensor a = iota({2, 3});
    CHECK(error_of([&] { concat({a, iota({2, 4})}, 0); }) ==
          "[concat] tensor 1 has shape (2, 4) but tensor 0 has shape (2, 3): sizes must match except along axis 0");
    CHECK(error_of([&] { concat({a, iota({2, 3, 1})}, 1); }) ==
          "[concat] tensor 1 has shape (2, 3, 1) but tensor 0 has shape (2, 3): sizes must match except along axis 1");
    CHECK(error_of([&] { concat({a, a}, 2); }) == "[concat] axis 2 out of range for shape (2, 3)");
    CHECK(error_of([&] { concat({a, Tensor()}, 0); }) == "[concat] tensor 1 is undefined");
}

// --- broadcast_to ------------------------------------------------------------------------------

TEST_CASE("broadcast_to by hand") {
    check_close(broadcast_to(tensor({1, 2, 3}), {2, 3}), tensor({{1, 2, 3}, {1, 2, 3}}));
    check_close(broadcast_to(tensor({1, 2}, {2, 1}), {2, 3}), tensor({{1, 1, 1}, {2, 2, 2}}));
    Tensor y = broadcast_to(tensor({1, 2}, {2, 1}), {2, 2, 3});
    CHECK(y.shape() == Shape{2, 2, 3});
    CHECK(y.at({1, 1, 2}) == 2.0f);
    check_close(broadcast_to(scalar(5.0f), {2}), tensor({5, 5}));
}

TEST_CASE("broadcast_to backward sums over the expanded axes") {
    Tensor x = param({2, 1}, 40);
    Tensor y = broadcast_to(x, {3, 2, 4});
    CHECK(y.grad_fn()->name() == "broadcast_to");
    // every element of x was copied 3 * 4 = 12 times, so a gradient of ones sums to 12
    check_close(grad_of(x, y, ones({3, 2, 4})), full({2, 1}, 12.0f));
    // dout = iota(2, 3): its rows sum to 0+1+2 = 3 and 3+4+5 = 12
    Tensor z = param({2, 1}, 41);
    check_close(grad_of(z, broadcast_to(z, {2, 3}), iota({2, 3})), tensor({3, 12}, {2, 1}));

    CHECK_GRADCHECK([](const Inputs& v) { return broadcast_to(v[0], {7, 1, 9}); }, {param({9}, 42)});
    CHECK_GRADCHECK([](const Inputs& v) { return broadcast_to(v[0], {2, 7, 33}); }, {param({7, 1}, 43)});
}

TEST_CASE("broadcast_to errors") {
    CHECK(error_of([] { broadcast_to(iota({2, 3}), {3, 3}); }) == "[broadcast_to] cannot broadcast (2, 3) to (3, 3)");
    CHECK(error_of([] { broadcast_to(iota({2, 3}), {3}); }) == "[broadcast_to] cannot broadcast (2, 3) to (3,)");
}
