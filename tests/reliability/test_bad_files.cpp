// Bad files: .safetensors and .npy that are missing, truncated, corrupt or of another model, and
// saves into a directory that is missing, read-only or full. Every error names the file and the
// offending value, and a failed save leaves the previous file and no temporary behind.
#include "reliability/bad_input.hpp"
#include "temp_dir.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>

using namespace ag;
using namespace ag::testing;

namespace {

// A .safetensors file made by hand: header length (or `length`), header, data.
std::string safetensors_bytes(const std::string& header, size_t data_bytes, int64_t length = -1) {
    return u64_le(length < 0 ? header.size() : static_cast<uint64_t>(length)) + header + std::string(data_bytes, '\0');
}

// A .npy file made by hand: magic, version, u16 header length, header, data.
std::string npy_bytes(const std::string& header, size_t data_bytes, unsigned char major = 1) {
    std::string s = "\x93NUMPY";
    s += static_cast<char>(major);
    s += '\0';
    uint16_t n = static_cast<uint16_t>(header.size());
    s.append(reinterpret_cast<const char*>(&n), 2);
    return s + header + std::string(data_bytes, '\0');
}

std::string npy_header(const std::string& descr, const std::string& order, const std::string& shape) {
    return fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}\n", descr, order, shape);
}

// Runs `f` in a forked child (so that its limits and identity do not leak into the test process)
// and returns the child's exit status: `f` returns it. 77 means "cannot test here".
template <class F>
int in_child(F&& f) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(f());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// In a child: 0 if `f` throws ag::Error containing every fragment, else 1 (and the message on stderr).
template <class F>
int child_expects_error(F&& f, std::initializer_list<std::string_view> fragments) {
    try {
        f();
    } catch (const Error& e) {
        std::string message = e.what();
        for (std::string_view fragment : fragments)
            if (message.find(fragment) == std::string::npos) {
                std::fprintf(stderr, "message lacks '%.*s': %s\n", static_cast<int>(fragment.size()), fragment.data(),
                             message.c_str());
                return 1;
            }
        return 0;
    }
    std::fprintf(stderr, "no ag::Error\n");
    return 1;
}

}  // namespace

TEST_CASE("bad files: safetensors headers and offsets") {
    TempDir dir;
    std::string path = dir.path("model.safetensors");
    auto load_bytes = [&](const std::string& bytes, std::initializer_list<std::string_view> fragments,
                          std::source_location at = std::source_location::current()) {
        write_bytes(path, bytes);
        expect_error([&] { load_safetensors(path); }, fragments, at);
    };
    auto entry = [](const std::string& name, const std::string& fields) {
        return fmt::format("\"{}\": {{{}}}", name, fields);
    };
    const std::string f32_2 = R"("dtype": "F32", "shape": [2], "data_offsets": [0, 8])";

    expect_error([&] { load_safetensors(dir.path("missing.safetensors")); },
                 {"[load_safetensors]", "missing.safetensors", "No such file"});
    expect_error([&] { load_safetensors(dir.path("")); }, {"[load_safetensors]", "not a regular file"});
    expect_error([&] { load_safetensors("/dev/zero"); }, {"[load_safetensors]", "/dev/zero", "not a regular file"});
    expect_error([&] { load_npy("/dev/urandom"); }, {"[load_npy]", "/dev/urandom", "not a regular file"});
    load_bytes("", {"[load_safetensors]", "model.safetensors", "0 bytes"});
    load_bytes(std::string("\x10\0\0", 3), {"[load_safetensors]", "3 bytes"});
    // header lengths: absurd, past the end, zero
    load_bytes(safetensors_bytes("{}", 0, int64_t{1} << 40), {"header length 1099511627776", "limit"});
    load_bytes(safetensors_bytes("{}", 0, UINT32_MAX), {"header length 4294967295"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", f32_2) + "}", 0, 500), {"header length 500", "runs past"});
    load_bytes(safetensors_bytes("", 0), {"not valid JSON"});
    // not JSON, not an object, binary garbage
    load_bytes(safetensors_bytes("{\"w\": ", 8), {"not valid JSON"});
    load_bytes(safetensors_bytes("[1, 2]", 0), {"must be a JSON object", "array"});
    load_bytes(safetensors_bytes(std::string("\x00\xff\xfe{", 4), 0), {"not valid JSON"});
    load_bytes(safetensors_bytes("{\"\xff\": {}}", 0), {"not valid JSON"});
    // found by fuzz_safetensors: a number too large for a double escaped as nlohmann::out_of_range
    load_bytes(safetensors_bytes(R"({"__metadata__": {"a": 1E400}})", 0), {"not valid JSON", "number overflow", "1E400"});
    load_bytes(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [1E400], "data_offsets": [0, 0]}})", 0),
               {"not valid JSON", "1E400"});
    // entries
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F64", "shape": [2], "data_offsets": [0, 16])") + "}", 16),
               {"tensor 'w'", "dtype F64"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F16", "shape": [2], "data_offsets": [0, 4])") + "}", 4),
               {"tensor 'w'", "dtype F16"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": 7, "shape": [2], "data_offsets": [0, 8])") + "}", 8),
               {"tensor 'w'", "dtype must be a string", "7"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [-2], "data_offsets": [0, 8])") + "}", 8),
               {"tensor 'w'", "[-2]", "non-negative"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [2.5], "data_offsets": [0, 8])") + "}", 8),
               {"tensor 'w'", "2.5"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [1,1,1,1,1,1,1], "data_offsets": [0, 4])") +
                                     "}", 4),
               {"tensor 'w'", "7 dimensions"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8])") +
                                     "}", 8),
               {"tensor 'w'", "overflows"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [2])") + "}", 8),
               {"tensor 'w'", "data_offsets"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", f32_2 + R"(, "extra": 1)") + "}", 8), {"tensor 'w'", "'extra'"});
    load_bytes(safetensors_bytes("{\"w\": 3}", 0), {"tensor 'w'", "must be an object"});
    // offsets: reversed, out of range, not matching the shape, overlapping, leaving a gap
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [0], "data_offsets": [8, 0])") + "}", 8),
               {"tensor 'w'", "[8, 0]", "reversed"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [2], "data_offsets": [0, 8])") + "}", 4),
               {"tensor 'w'", "[0, 8]", "past the data section of 4 bytes"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [2], "data_offsets": [0, 18446744073709551615])") +
                                     "}", 8),
               {"tensor 'w'", "18446744073709551615"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", R"("dtype": "F32", "shape": [3], "data_offsets": [0, 8])") + "}", 8),
               {"tensor 'w'", "(3,)", "12 bytes", "hold 8"});
    load_bytes(safetensors_bytes(std::string("{") + entry("a", f32_2) + ", " + entry("b", f32_2) + "}", 8),
               {"'a' [0, 8]", "'b' [0, 8]", "overlap"});
    load_bytes(safetensors_bytes(std::string("{") + entry("a", R"("dtype": "F32", "shape": [2], "data_offsets": [8, 16])") + "}", 16),
               {"bytes [0, 8)", "no tensor"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", f32_2) + "}", 12), {"cover 8 bytes", "has 12"});
    load_bytes(safetensors_bytes(std::string("{") + entry("w", f32_2) + ", " + entry("w", f32_2) + "}", 8), {"'w' appears twice"});
    load_bytes(safetensors_bytes(R"({"__metadata__": {"step": 3}})", 0), {"metadata 'step'", "3"});
    load_bytes(safetensors_bytes(R"({"__metadata__": [1]})", 0), {"__metadata__", "must be an object"});
}

TEST_CASE("bad files: a truncated checkpoint, at every length") {
    TempDir dir;
    std::string good = dir.path("good.safetensors"), cut = dir.path("cut.safetensors");
    save_safetensors(good, {{{"w", ag::testing::param({3, 5}, 1)}, {"b", ag::testing::param({5}, 2)}}, {{"step", "9"}}});
    std::string bytes = read_bytes(good);
    int rejected = 0;
    for (size_t n = 0; n < bytes.size(); ++n) {
        write_bytes(cut, bytes.substr(0, n));
        std::string message = error_of([&] { load_safetensors(cut); });
        rejected += message.find("[load_safetensors] '" + cut + "'") == 0;
    }
    CHECK(rejected == static_cast<int>(bytes.size()));  // every proper prefix, named by path
    write_bytes(cut, bytes);
    CHECK(load_safetensors(cut).tensors.size() == 2);
}

TEST_CASE("bad files: a checkpoint of another model") {
    TempDir dir;
    std::string path = dir.path("model.safetensors");
    Generator gen(1);
    Linear model(4, 3, gen);
    save_safetensors(path, {{{"weight", zeros({5, 4})}, {"bias", zeros({5})}}, {}});
    expect_error([&] { load_safetensors_into(path, model.named_parameters()); },
                 {"[load_safetensors]", "model.safetensors", "'weight'", "(5, 4)", "(3, 4)"});
    save_safetensors(path, {{{"weight", zeros({3, 4})}}, {}});
    expect_error([&] { load_safetensors_into(path, model.named_parameters()); }, {"'bias' is missing"});
    save_safetensors(path, {{{"weight", zeros({3, 4})}, {"bias", zeros({3})}, {"scale", zeros({1})}}, {}});
    expect_error([&] { load_safetensors_into(path, model.named_parameters()); }, {"unexpected tensor 'scale'"});
    // through the module: a state dict read from a file of another config
    save_safetensors(path, {{{"weight", zeros({3, 5})}, {"bias", zeros({3})}}, {}});
    expect_error([&] { model.load_state_dict(load_safetensors(path)); }, {"[load_state_dict]", "'weight'", "(3, 5)"});
}

TEST_CASE("bad files: npy") {
    TempDir dir;
    std::string path = dir.path("x.npy");
    auto load_bytes = [&](const std::string& bytes, std::initializer_list<std::string_view> fragments,
                          std::source_location at = std::source_location::current()) {
        write_bytes(path, bytes);
        expect_error([&] { load_npy(path); }, fragments, at);
    };
    expect_error([&] { load_npy(dir.path("missing.npy")); }, {"[load_npy]", "missing.npy", "No such file"});
    load_bytes("", {"[load_npy]", "x.npy", "0 bytes"});
    load_bytes("PK\x03\x04 this is a zip file", {"[load_npy]", "bad magic"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(2,)"), 8, 3), {"[load_npy]", "version 3.0"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(2,)"), 8).substr(0, 20), {"[load_npy]", "runs past the end"});
    load_bytes(npy_bytes(npy_header("<f8", "False", "(2,)"), 16), {"[load_npy]", "'<f8'"});
    load_bytes(npy_bytes(npy_header(">f4", "False", "(2,)"), 8), {"[load_npy]", "'>f4'"});
    load_bytes(npy_bytes(npy_header("<i8", "False", "(2,)"), 16), {"[load_npy]", "'<i8'"});
    load_bytes(npy_bytes(npy_header("<f4", "True", "(2, 3)"), 24), {"[load_npy]", "fortran_order True"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(2, 3)"), 20), {"[load_npy]", "(2, 3)", "24 data bytes", "20"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(2,)"), 12), {"[load_npy]", "(2,)", "8 data bytes", "12"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(-2,)"), 8), {"[load_npy]", "non-negative"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(1, 1, 1, 1, 1, 1, 1)"), 4), {"[load_npy]", "more than 6"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(99999999999999999999,)"), 4), {"[load_npy]", "too large"});
    load_bytes(npy_bytes(npy_header("<f4", "False", "(4294967296, 4294967296)"), 4), {"[load_npy]", "overflows"});
    load_bytes(npy_bytes(npy_header("<f4", "Maybe", "(2,)"), 8), {"[load_npy]", "True or False"});
    load_bytes(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", 8),
               {"[load_npy]", "structured"});
    load_bytes(npy_bytes("{'descr': '<f4', 'shape': (2,), }\n", 8), {"[load_npy]", "descr, fortran_order and shape"});
    load_bytes(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", 8),
               {"[load_npy]", "unexpected key 'x'"});
    load_bytes(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", 8),
               {"[load_npy]", "'descr' appears twice"});
    load_bytes(npy_bytes("{'descr': '<f4, 'fortran_order': False}\n", 8), {"[load_npy]"});
    load_bytes(npy_bytes(std::string("\xff\xfe\x00garbage", 10), 8), {"[load_npy]", "cannot parse the header"});
}

TEST_CASE("bad files: saving into a missing directory, a file, an undefined tensor, bad names") {
    TempDir dir;
    StateDict state{{{"w", ones({4})}}, {}};
    expect_error([&] { save_safetensors(dir.path("missing/w.safetensors"), state); },
                 {"[save_safetensors]", "missing/w.safetensors", "No such file or directory"});
    expect_error([&] { save_npy(dir.path("missing/x.npy"), ones({2})); },
                 {"[save_npy]", "missing/x.npy", "No such file or directory"});
    write_bytes(dir.path("file"), "x");
    expect_error([&] { save_npy(dir.path("file/x.npy"), ones({2})); }, {"[save_npy]", "file/x.npy", "Not a directory"});
    expect_error([&] { save_npy(dir.path("x.npy"), Tensor()); }, {"[save_npy]", "undefined"});
    expect_error([&] { save_safetensors(dir.path("w.safetensors"), {{{"", ones({1})}}, {}}); },
                 {"[save_safetensors]", "invalid tensor name ''"});
    expect_error([&] { save_safetensors(dir.path("w.safetensors"), {{{"__metadata__", ones({1})}}, {}}); },
                 {"[save_safetensors]", "'__metadata__'"});
    expect_error([&] { save_safetensors(dir.path("w.safetensors"), {{{"a", ones({1})}, {"a", ones({1})}}, {}}); },
                 {"[save_safetensors]", "'a' appears twice"});
    expect_error([&] { save_safetensors(dir.path("w.safetensors"), {{{"a", Tensor()}}, {}}); },
                 {"[save_safetensors]", "'a' is undefined"});
    expect_error([&] { save_safetensors(dir.path("w.safetensors"), {{{"\xff\xfe", ones({1})}}, {}}); },
                 {"[save_safetensors]", "cannot encode the header"});
    CHECK(dir.count_entries() == 1);  // only "file": no temporaries left behind
}

TEST_CASE("bad files: saving into a read-only directory") {
    TempDir dir;
    std::filesystem::create_directory(dir.path("ro"));
    std::string path = dir.path("ro/w.safetensors");
    ::chmod(dir.path("ro").c_str(), 0555);
    // NOTE: root ignores directory permissions, so as root the child gives up root first
    int status = in_child([&] {
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 77;
        return child_expects_error([&] { save_safetensors(path, {{{"w", ones({4})}}, {}}); },
                                   {"[save_safetensors]", "ro/w.safetensors", "Permission denied"});
    });
    if (status == 77) {
        MESSAGE("skipped: running as root without the right to drop to an unprivileged user");
    } else {
        CHECK(status == 0);
    }
    ::chmod(dir.path("ro").c_str(), 0755);
    CHECK(std::filesystem::is_empty(dir.path("ro")));
}

TEST_CASE("bad files: saving onto a full disk leaves the previous checkpoint") {
    TempDir dir;
    std::string path = dir.path("w.safetensors"), npy = dir.path("x.npy");
    save_safetensors(path, {{{"old", ones({3})}}, {}});
    save_npy(npy, ones({3}));
    std::string before = read_bytes(path), npy_before = read_bytes(npy);
    // a file size limit in a child makes write() fail as a full disk does (SIGXFSZ ignored: EFBIG)
    int status = in_child([&] {
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit{};
        ::getrlimit(RLIMIT_FSIZE, &limit);
        limit.rlim_cur = 1000;
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 77;
        int failures = child_expects_error([&] { save_safetensors(path, {{{"w", ones({1000})}}, {}}); },
                                           {"[save_safetensors]", "cannot write", "w.safetensors", "File too large"});
        failures += child_expects_error([&] { save_npy(npy, ones({1000})); },
                                        {"[save_npy]", "cannot write", "x.npy", "File too large"});
        return failures;
    });
    CHECK(status == 0);
    CHECK(read_bytes(path) == before);
    CHECK(read_bytes(npy) == npy_before);
    CHECK(dir.count_entries() == 2);  // the temporaries are gone
}
