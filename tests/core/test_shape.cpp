// test_shape.cpp: Shape, strides and NumPy broadcasting.
#include "testing.hpp"

using namespace ag;
using ag::testing::error_of;

TEST_CASE("shape: sizes, numel and formatting") {
    Shape s{2, 3, 4};
    CHECK(s.ndim() == 3);
    CHECK(s.numel() == 24);
    CHECK(s[-1] == 4);
    CHECK(fmt::format("{}", s) == "(2, 3, 4)");
    CHECK(fmt::format("{}", Shape{5}) == "(5,)");
    CHECK(fmt::format("{}", Shape{}) == "()");
    CHECK(Shape{}.numel() == 1);  // a scalar has one element
    CHECK(Shape{3, 0}.numel() == 0);
}

TEST_CASE("shape: at most 6 dimensions, no negative sizes") {
    CHECK(error_of([] { Shape s{1, 1, 1, 1, 1, 1, 1}; }).find("at most 6 dimensions") != std::string::npos);
    CHECK(error_of([] { Shape s{2, -1}; }).find("got -1") != std::string::npos);
}

TEST_CASE("shape: row-major strides") {
    auto st = contiguous_strides(Shape{2, 3, 4});
    CHECK(st[0] == 12);
    CHECK(st[1] == 4);
    CHECK(st[2] == 1);
}

TEST_CASE("shape: broadcasting follows NumPy") {
    CHECK(broadcast_shapes(Shape{2, 3, 4}, Shape{3, 1}, "t") == Shape{2, 3, 4});
    CHECK(broadcast_shapes(Shape{1}, Shape{5, 1, 7}, "t") == Shape{5, 1, 7});
    CHECK(broadcast_shapes(Shape{}, Shape{2, 2}, "t") == Shape{2, 2});
    CHECK(broadcast_shapes(Shape{4, 1}, Shape{1, 3}, "t") == Shape{4, 3});
    CHECK(broadcastable(Shape{2, 3, 4}, Shape{3, 1}));
    CHECK(broadcastable(Shape{}, Shape{5}));
    CHECK_FALSE(broadcastable(Shape{2, 3}, Shape{4}));
    CHECK_FALSE(broadcastable(Shape{2, 1}, Shape{3, 3, 3}));  // 2 against 3
    CHECK(error_of([] { broadcast_shapes(Shape{2, 3}, Shape{4}, "add"); }) ==
          "[add] shapes cannot be broadcast: (2, 3) and (4,)");
}

TEST_CASE("shape: broadcast strides are zero along broadcast dimensions") {
    auto st = broadcast_strides(Shape{3, 1}, Shape{2, 3, 4});
    CHECK(st[0] == 0);  // missing leading dimension
    CHECK(st[1] == 1);
    CHECK(st[2] == 0);  // size-1 dimension broadcast to 4
}

TEST_CASE("shape: normalize_axis") {
    CHECK(normalize_axis(-1, Shape{2, 3}, "t") == 1);
    CHECK(normalize_axis(0, Shape{2, 3}, "t") == 0);
    CHECK(error_of([] { normalize_axis(2, Shape{2, 3}, "sum"); }) == "[sum] axis 2 out of range for shape (2, 3)");
    CHECK(error_of([] { normalize_axis(-3, Shape{2, 3}, "sum"); }) == "[sum] axis -3 out of range for shape (2, 3)");
}
