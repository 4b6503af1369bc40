// test_safetensors.cpp: the exact byte layout, round trips, every corrupt header we reject, and
// atomic writes that fail without harming the previous file.
#include "core/safetensors.hpp"
#include "testing.hpp"
#include "temp_dir.hpp"

#include <sys/resource.h>

#include <csignal>
#include <cstring>
#include <filesystem>

using namespace ag;
using namespace ag::testing;

namespace {

std::string float_bytes(std::initializer_list<float> values) {
    std::string s(values.size() * 4, '\0');
    std::memcpy(s.data(), std::data(values), s.size());
    return s;
}

// A file made by hand: length, header, data; `length` overrides the true header length.
std::string raw_file(const std::string& header, const std::string& data, int64_t length = -1) {
    return u64_le(length < 0 ? header.size() : static_cast<uint64_t>(length)) + header + data;
}

// The error load_safetensors gives for a file of these bytes.
std::string load_error(const TempDir& dir, const std::string& bytes) {
    std::string path = dir.path("bad.safetensors");
    write_bytes(path, bytes);
    return error_of([&] { load_safetensors(path); });
}

const std::string kOneTensor = R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";

}  // namespace

TEST_CASE("save_safetensors writes the documented byte layout") {
    TempDir dir;
    std::string path = dir.path("w.safetensors");
    save_safetensors(path, {{{"w", tensor({1.5f, -2.0f})}}, {{"step", "3"}}});
    std::string bytes = read_bytes(path);

    // By hand: the header is the JSON below, 82 characters, padded with 6 spaces to 88 (a multiple
    // of 8); then 8 data bytes: the two floats. Total 8 + 88 + 8 = 104.
    std::string header = R"({"__metadata__":{"step":"3"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    CHECK(header.size() == 82);
    CHECK(bytes == u64_le(88) + header + "      " + float_bytes({1.5f, -2.0f}));
}

TEST_CASE("save_safetensors pads the header with spaces to a multiple of 8") {
    TempDir dir;
    std::string path = dir.path("p.safetensors");
    save_safetensors(path, {{{"ab", tensor({1.0f})}}, {}});
    std::string bytes = read_bytes(path);
    // {"ab":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} is 55 characters: 1 space makes 56
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    CHECK(n == 56);
    CHECK(bytes.substr(8 + 54, 2) == "} ");
    CHECK(bytes.size() == 8 + 56 + 4);
}

TEST_CASE("load_safetensors round trip keeps order, shapes, values and metadata") {
    TempDir dir;
    std::string path = dir.path("rt.safetensors");
    StateDict state;
    state.tensors = {{"z.weight", param({2, 3, 4}, 1)},
                     {"a.bias", tensor({1.0f, 2.0f, 3.0f})},
                     {"scalar", full({}, 7.0f)},
                     {"empty", zeros({0, 3})},
                     {"six", param({1, 2, 1, 2, 1, 3}, 2)}};
    state.metadata = {{"format", "pt"}, {"step", "100"}};
    save_safetensors(path, state);

    StateDict loaded = load_safetensors(path);
    REQUIRE(loaded.tensors.size() == state.tensors.size());
    for (size_t i = 0; i < state.tensors.size(); ++i) {
        CHECK(loaded.tensors[i].name == state.tensors[i].name);  // file order, not alphabetical
        CHECK(loaded.tensors[i].tensor.shape() == state.tensors[i].tensor.shape());
        CHECK(loaded.tensors[i].tensor.to_vector() == state.tensors[i].tensor.to_vector());
    }
    CHECK(loaded.metadata == state.metadata);
    CHECK(loaded.find("scalar")->item() == 7.0f);
    CHECK(loaded.find("missing") == nullptr);
}

TEST_CASE("load_safetensors reads a hand-written file with tensors out of offset order") {
    // The format allows header order to differ from data order; "b" comes first in the data.
    TempDir dir;
    std::string header =
        R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},)"
        R"( "b": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}})";
    write_bytes(dir.path("h.safetensors"), raw_file(header, float_bytes({2.0f, 1.0f})));
    StateDict loaded = load_safetensors(dir.path("h.safetensors"));
    REQUIRE(loaded.tensors.size() == 2);
    CHECK(loaded.tensors[0].name == "a");
    CHECK(loaded.tensors[0].tensor.item() == 1.0f);
    CHECK(loaded.tensors[1].tensor.item() == 2.0f);
    CHECK(loaded.metadata.empty());
}

TEST_CASE("load_safetensors rejects every kind of corrupt file, naming file, tensor and values") {
    TempDir dir;
    std::string file = dir.path("bad.safetensors");
    std::string data = float_bytes({1.0f, 2.0f});
    std::string e;

    SUBCASE("shorter than the length field") {
        e = load_error(dir, "abc");
        CHECK(e.find("[load_safetensors]") == 0);
        CHECK(e.find(file) != std::string::npos);
        CHECK(e.find("3 bytes") != std::string::npos);
    }
    SUBCASE("header length past the end of the file") {
        e = load_error(dir, raw_file(kOneTensor, data, 1000));
        CHECK(e.find(file) != std::string::npos);
        CHECK(e.find("header length 1000 runs past the end of the file (") != std::string::npos);
    }
    SUBCASE("header length absurdly large") {
        e = load_error(dir, raw_file(kOneTensor, data, int64_t{1} << 40));
        CHECK(e.find("header length 1099511627776 is larger than the 100000000 byte limit") != std::string::npos);
    }
    SUBCASE("truncated data") {
        e = load_error(dir, raw_file(kOneTensor, data.substr(0, 6)));
        CHECK(e.find("tensor 'w'") != std::string::npos);
        CHECK(e.find("run past the data section of 6 bytes") != std::string::npos);
    }
    SUBCASE("extra bytes after the last tensor") {
        e = load_error(dir, raw_file(kOneTensor, data + "xxxx"));
        CHECK(e.find("the tensors cover 8 bytes but the data section has 12") != std::string::npos);
    }
    SUBCASE("not JSON") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": )", data));
        CHECK(e.find(file) != std::string::npos);
        CHECK(e.find("header is not valid JSON") != std::string::npos);
    }
    SUBCASE("JSON but not an object") {
        e = load_error(dir, raw_file("[1, 2]  ", data));
        CHECK(e.find("header must be a JSON object, found array") != std::string::npos);
    }
    SUBCASE("dtype other than F32") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}})", data));
        CHECK(e.find("tensor 'w': dtype F16 is not supported, expected F32") != std::string::npos);
    }
    SUBCASE("negative size") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", data));
        CHECK(e.find("tensor 'w': shape [-2] must hold non-negative integers") != std::string::npos);
    }
    SUBCASE("shape that overflows") {
        e = load_error(dir, raw_file(
            R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", data));
        CHECK(e.find("tensor 'w': shape [4294967296,4294967296] overflows the element count") != std::string::npos);
    }
    SUBCASE("too many dimensions") {
        e = load_error(dir,
                       raw_file(R"({"w": {"dtype": "F32", "shape": [1,1,1,1,1,1,2], "data_offsets": [0, 8]}})", data));
        CHECK(e.find("has 7 dimensions, at most 6") != std::string::npos);
    }
    SUBCASE("offsets reversed") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", data));
        CHECK(e.find("tensor 'w': data_offsets [8, 0] are reversed") != std::string::npos);
    }
    SUBCASE("offsets out of range") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", data));
        CHECK(e.find("tensor 'w': data_offsets [4, 12] run past the data section of 8 bytes") != std::string::npos);
    }
    SUBCASE("offsets that do not match the shape") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", data));
        CHECK(e.find("tensor 'w': shape (3,) of F32 needs 12 bytes, data_offsets [0, 8] hold 8") != std::string::npos);
    }
    SUBCASE("overlapping tensors") {
        e = load_error(dir, raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                                     R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                     data));
        CHECK(e.find("tensors 'a' [0, 8] and 'b' [4, 8] overlap") != std::string::npos);
    }
    SUBCASE("a gap between tensors") {
        e = load_error(dir, raw_file(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", data));
        CHECK(e.find("bytes [0, 4) of the data section belong to no tensor (before 'a')") != std::string::npos);
    }
    SUBCASE("duplicate names") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                                     R"( "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                     data));
        CHECK(e.find("tensor 'w' appears twice in the header") != std::string::npos);
    }
    SUBCASE("missing and unknown fields, bad metadata") {
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F32", "shape": [2]}})", data));
        CHECK(e.find("tensor 'w': entry needs dtype, shape and data_offsets") != std::string::npos);
        e = load_error(dir, raw_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": 1}})", data));
        CHECK(e.find("tensor 'w': unknown field 'x'") != std::string::npos);
        e = load_error(dir, raw_file(R"({"__metadata__": {"step": 3}, )" + kOneTensor.substr(1), data));
        CHECK(e.find("metadata 'step' must be a string, found 3") != std::string::npos);
    }
    SUBCASE("a missing file") {
        e = error_of([&] { load_safetensors(dir.path("none.safetensors")); });
        CHECK(e.find("cannot open '" + dir.path("none.safetensors") + "': No such file or directory") !=
              std::string::npos);
    }
}

TEST_CASE("load_safetensors_into copies matching tensors and leaves the destination alone on error") {
    TempDir dir;
    std::string path = dir.path("m.safetensors");
    save_safetensors(path, {{{"w", tensor({{1, 2}, {3, 4}})}, {"b", tensor({5, 6})}}, {{"epoch", "2"}}});

    Tensor w = zeros({2, 2}), b = zeros({2});
    auto unchanged = [&] {
        CHECK(w.to_vector() == std::vector<float>{0, 0, 0, 0});
        CHECK(b.to_vector() == std::vector<float>{0, 0});
    };
    SUBCASE("success") {
        auto metadata = load_safetensors_into(path, {{"b", b}, {"w", w}});
        CHECK(w.to_vector() == std::vector<float>{1, 2, 3, 4});
        CHECK(b.to_vector() == std::vector<float>{5, 6});
        CHECK(metadata.at("epoch") == "2");
    }
    SUBCASE("shape mismatch") {
        // "w" comes first and matches: it must not be copied before "b" is found wrong
        Tensor b3 = zeros({3});
        std::string e = error_of([&] { load_safetensors_into(path, {{"w", w}, {"b", b3}}); });
        CHECK(e.find("tensor 'b' has shape (2,) in the file, expected (3,)") != std::string::npos);
        CHECK(e.find(path) != std::string::npos);
        unchanged();
        CHECK(b3.to_vector() == std::vector<float>{0, 0, 0});
    }
    SUBCASE("missing tensor") {
        Tensor c = zeros({1});
        std::string e = error_of([&] { load_safetensors_into(path, {{"w", w}, {"b", b}, {"c", c}}); });
        CHECK(e.find("tensor 'c' is missing from the file") != std::string::npos);
        unchanged();
    }
    SUBCASE("unexpected tensor") {
        std::string e = error_of([&] { load_safetensors_into(path, {{"w", w}}); });
        CHECK(e.find("unexpected tensor 'b' in the file") != std::string::npos);
        unchanged();
    }
    SUBCASE("corrupt file") {
        std::string bytes = read_bytes(path);
        write_bytes(path, bytes.substr(0, bytes.size() - 1));
        std::string e = error_of([&] { load_safetensors_into(path, {{"w", w}, {"b", b}}); });
        CHECK(e.find("[load_safetensors]") == 0);
        unchanged();
    }
}

TEST_CASE("save_safetensors rejects bad names") {
    TempDir dir;
    std::string path = dir.path("n.safetensors");
    CHECK(error_of([&] { save_safetensors(path, {{{"w", ones({1})}, {"w", ones({1})}}, {}}); })
              .find("tensor 'w' appears twice") != std::string::npos);
    CHECK(error_of([&] { save_safetensors(path, {{{"", ones({1})}}, {}}); }).find("invalid tensor name ''") !=
          std::string::npos);
    CHECK(error_of([&] { save_safetensors(path, {{{"__metadata__", ones({1})}}, {}}); })
              .find("invalid tensor name '__metadata__'") != std::string::npos);
    CHECK(!std::filesystem::exists(path));
}

// Atomic writes. NOTE: the tests run as root, for whom chmod does not stop writes, so the failures
// are made otherwise: a missing directory, a regular file used as a directory, sysfs (which
// refuses new files even to root), a directory in place of the target (the final rename fails),
// and a file-size limit (RLIMIT_FSIZE) that makes write() fail half-way like a full disk.
TEST_CASE("save_safetensors fails cleanly and leaves the previous file intact") {
    TempDir dir;
    StateDict state{{{"w", param({300}, 3)}}, {}};

    SUBCASE("missing directory") {
        std::string path = dir.path("missing/w.safetensors");
        std::string e = error_of([&] { save_safetensors(path, state); });
        CHECK(e.find("[save_safetensors] cannot create a temporary file to write '" + path +
                     "': No such file or directory") == 0);
    }
    SUBCASE("a file where a directory is expected") {
        write_bytes(dir.path("file"), "x");
        std::string path = dir.path("file/w.safetensors");
        std::string e = error_of([&] { save_safetensors(path, state); });
        CHECK(e.find(path) != std::string::npos);
        CHECK(e.find("Not a directory") != std::string::npos);
    }
    SUBCASE("a directory that refuses new files (sysfs)") {
        if (std::filesystem::is_directory("/sys/kernel")) {
            std::string e = error_of([&] { save_safetensors("/sys/kernel/attograd.safetensors", state); });
            CHECK(e.find("/sys/kernel/attograd.safetensors") != std::string::npos);
            CHECK(!std::filesystem::exists("/sys/kernel/attograd.safetensors"));
        }
    }
    SUBCASE("the target is a directory: the rename fails, the temporary is removed") {
        std::filesystem::create_directory(dir.path("target"));
        std::string e = error_of([&] { save_safetensors(dir.path("target"), state); });
        CHECK(e.find("cannot rename the temporary over '" + dir.path("target") + "': Is a directory") !=
              std::string::npos);
        CHECK(dir.count_entries() == 1);
        CHECK(std::filesystem::is_directory(dir.path("target")));
    }
    SUBCASE("a write that fails half-way (file size limit, like a full disk)") {
        std::string path = dir.path("w.safetensors");
        save_safetensors(path, {{{"old", tensor({1, 2, 3})}}, {}});
        std::string before = read_bytes(path);

        // 300 floats need 1200+ bytes; allow 512. SIGXFSZ would kill us: ignore it, get EFBIG.
        rlimit old_limit{};
        getrlimit(RLIMIT_FSIZE, &old_limit);
        auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit small = old_limit;
        small.rlim_cur = 512;
        setrlimit(RLIMIT_FSIZE, &small);
        std::string e = error_of([&] { save_safetensors(path, state); });
        setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);

        CHECK(e.find("[save_safetensors] cannot write '" + path + "': File too large") == 0);
        CHECK(read_bytes(path) == before);
        CHECK(dir.count_entries() == 1);  // the temporary is gone
        CHECK(load_safetensors(path).find("old") != nullptr);
    }
}

TEST_CASE("save_safetensors replaces an existing file") {
    TempDir dir;
    std::string path = dir.path("w.safetensors");
    save_safetensors(path, {{{"a", ones({4})}}, {}});
    save_safetensors(path, {{{"b", full({2}, 3.0f)}}, {}});
    StateDict loaded = load_safetensors(path);
    REQUIRE(loaded.tensors.size() == 1);
    CHECK(loaded.tensors[0].name == "b");
    CHECK(dir.count_entries() == 1);
}
