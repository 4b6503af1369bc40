// interop_writer.cpp: writes .safetensors and .npy files with known contents into a directory,
// for check_interop.py to read back with NumPy/torch (development check; not a unit test).
//
//   ./build/tests/interop_writer DIR
//
// Every tensor holds 0.25 * i - 1 for i = 0, 1, ... (the formula the script recomputes).
#include "core/npy.hpp"
#include "core/safetensors.hpp"

#include <fmt/format.h>

#include <string>

using namespace ag;

namespace {
Tensor values(const Shape& shape) {
    Tensor t = empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.25f * static_cast<float>(i) - 1.0f;
    return t;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        fmt::print(stderr, "usage: {} DIR\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    const Shape shapes[] = {Shape{}, Shape{5}, Shape{0}, Shape{2, 3}, Shape{2, 3, 4}, Shape{1, 2, 1, 3, 1, 2}};

    StateDict state;
    state.metadata = {{"format", "pt"}, {"written_by", "attograd"}};
    for (const Shape& shape : shapes) {
        std::string name = fmt::format("t{}", fmt::join(shape.begin(), shape.end(), "x"));
        state.tensors.push_back({name, values(shape)});
        save_npy(fmt::format("{}/{}.npy", dir, name), values(shape));
    }
    save_safetensors(dir + "/attograd.safetensors", state);
    fmt::print("wrote {} tensors to {}\n", state.tensors.size(), dir);
    return 0;
}
