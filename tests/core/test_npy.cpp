// test_npy.cpp: the exact byte layout, round trips, files written by NumPy itself (committed
// fixtures made by tests/parity/generate_optim.py), and every defect load_npy must reject.
#include "core/npy.hpp"
#include "testing.hpp"
#include "temp_dir.hpp"

#include <cstring>
#include <filesystem>

using namespace ag;
using ag::testing::kFixtures;
using namespace ag::testing;

namespace {


// A .npy made by hand: magic, version, little-endian length (2 or 4 bytes), header, data.
std::string raw_npy(int major, const std::string& header, const std::string& data) {
    std::string s = "\x93NUMPY";
    s += static_cast<char>(major);
    s += '\0';
    uint32_t n = static_cast<uint32_t>(header.size());
    s.append(reinterpret_cast<const char*>(&n), major == 1 ? 2 : 4);
    return s + header + data;
}

std::string npy_error(const TempDir& dir, const std::string& bytes) {
    write_bytes(dir.path("bad.npy"), bytes);
    return error_of([&] { load_npy(dir.path("bad.npy")); });
}

// The values the fixtures hold: 0.25 * i - 1 for i = 0, 1, ...
Tensor fixture_values(const Shape& shape) {
    Tensor t = empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.25f * static_cast<float>(i) - 1.0f;
    return t;
}

}  // namespace

TEST_CASE("save_npy writes NumPy's version 1.0 layout with the data 64-byte aligned") {
    TempDir dir;
    std::string path = dir.path("a.npy");
    save_npy(path, tensor({{1, 2, 3}, {4, 5, 6}}));
    std::string bytes = read_bytes(path);

    // By hand: 10 bytes of preamble + the 60-character dict + spaces + '\n' rounded up to 128, so the
    // header length field says 118 (0x76) and the 24 data bytes start at byte 128.
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    REQUIRE(bytes.size() == 128 + 24);
    CHECK(bytes.substr(0, 10) == std::string("\x93NUMPY\x01\x00\x76\x00", 10));
    CHECK(bytes.substr(10, dict.size()) == dict);
    CHECK(bytes.substr(10 + dict.size(), 118 - dict.size() - 1) == std::string(118 - dict.size() - 1, ' '));
    CHECK(bytes[127] == '\n');
    float data[6];
    std::memcpy(data, bytes.data() + 128, 24);
    CHECK(data[0] == 1.0f);
    CHECK(data[5] == 6.0f);
}

TEST_CASE("save_npy and load_npy round trip every rank, including scalars and empty tensors") {
    TempDir dir;
    for (const Shape& shape : {Shape{}, Shape{5}, Shape{0}, Shape{2, 3}, Shape{3, 0, 2}, Shape{1, 2, 3, 2, 1, 2}}) {
        CAPTURE(shape);
        Tensor t = fixture_values(shape);
        save_npy(dir.path("t.npy"), t);
        CHECK(read_bytes(dir.path("t.npy")).size() % 64 == (t.numel() * 4) % 64);  // data starts 64-aligned
        Tensor back = load_npy(dir.path("t.npy"));
        CHECK(back.shape() == shape);
        CHECK(back.to_vector() == t.to_vector());
    }
}

TEST_CASE("load_npy reads files written by numpy.save, versions 1.0 and 2.0") {
    // made by generate_optim.py: numpy.save of 0.25 * arange(24) - 1 reshaped to (2, 3, 4), and the
    // same through numpy.lib.format.write_array(version=(2, 0)); a 0-d array; a (5,) vector
    Tensor expected = fixture_values({2, 3, 4});
    check_close(load_npy(kFixtures + "numpy_v1.npy"), expected, 0, 0);
    check_close(load_npy(kFixtures + "numpy_v2.npy"), expected, 0, 0);
    check_close(load_npy(kFixtures + "numpy_scalar.npy"), fixture_values({}), 0, 0);
    check_close(load_npy(kFixtures + "numpy_vector.npy"), fixture_values({5}), 0, 0);
}

TEST_CASE("load_npy rejects other dtypes, orders and versions from numpy, naming them") {
    std::string e = error_of([&] { load_npy(kFixtures + "numpy_f64.npy"); });
    CHECK(e.find("[load_npy] '" + kFixtures + "numpy_f64.npy': dtype '<f8' is not supported, expected '<f4'") == 0);
    e = error_of([&] { load_npy(kFixtures + "numpy_bigendian.npy"); });
    CHECK(e.find("dtype '>f4' is not supported") != std::string::npos);
    e = error_of([&] { load_npy(kFixtures + "numpy_fortran.npy"); });
    CHECK(e.find("fortran_order True (column-major) is not supported") != std::string::npos);
}

TEST_CASE("load_npy validates magic, version, header and size") {
    TempDir dir;
    std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
    std::string data(8, '\0');
    CHECK(npy_error(dir, raw_npy(1, good, data)).empty());
    CHECK(npy_error(dir, raw_npy(2, good, data)).empty());

    std::string e = npy_error(dir, "NUMPY\x01\x00" + good);
    CHECK(e.find(dir.path("bad.npy") + "': not a .npy file (bad magic bytes)") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(3, good, data)).find(".npy version 3.0 is not supported") != std::string::npos);
    CHECK(npy_error(dir, "\x93NUMPY").find("file is 6 bytes, too short") != std::string::npos);

    // header length beyond the file
    std::string truncated = raw_npy(1, good, data).substr(0, 30);
    CHECK(npy_error(dir, truncated).find("header length 58 runs past the end of the file (30 bytes)") !=
          std::string::npos);

    // shape against the bytes present
    e = npy_error(dir, raw_npy(1, good, data.substr(0, 6)));
    CHECK(e.find("shape (2,) of '<f4' needs 8 data bytes, the file has 6") != std::string::npos);
    e = npy_error(dir, raw_npy(1, good, data + "abcd"));
    CHECK(e.find("needs 8 data bytes, the file has 12") != std::string::npos);

    // header syntax and keys
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'shape': (2,), }\n", data))
              .find("header must have descr, fortran_order and shape") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", data))
              .find("unexpected key 'x'") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", data))
              .find("fortran_order must be True or False") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", data))
              .find("shape must hold non-negative integers") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", data))
              .find("cannot parse the header") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,)}", data))
              .find("structured dtypes are not supported") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", data))
              .find("key 'descr' appears twice") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,2)}", data))
              .find("more than 6 dimensions") != std::string::npos);
    CHECK(npy_error(dir, raw_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", data))
              .find("shape size too large") != std::string::npos);
}

TEST_CASE("save_npy fails cleanly and leaves the previous file intact") {
    // NOTE: as root chmod does not stop writes; a directory in place of the target makes the
    // final rename fail after the temporary was written (the safetensors tests cover the rest).
    TempDir dir;
    std::filesystem::create_directory(dir.path("target"));
    std::string e = error_of([&] { save_npy(dir.path("target"), ones({3})); });
    CHECK(e.find("[save_npy] cannot rename the temporary over '" + dir.path("target") + "': Is a directory") == 0);
    CHECK(dir.count_entries() == 1);

    e = error_of([&] { save_npy(dir.path("missing/t.npy"), ones({3})); });
    CHECK(e.find(dir.path("missing/t.npy") + "': No such file or directory") != std::string::npos);

    save_npy(dir.path("t.npy"), ones({3}));
    std::string before = read_bytes(dir.path("t.npy"));
    CHECK(!error_of([&] { save_npy(dir.path("t.npy"), Tensor()); }).empty());
    CHECK(read_bytes(dir.path("t.npy")) == before);
    CHECK(dir.count_entries() == 2);
}
