// fuzz_npy: libFuzzer target for load_npy. Any input must load or throw ag::Error.
// Build and run: scripts/fuzz.sh (corpus: tests/fuzz/corpus/npy).
#include "core/error.hpp"
#include "core/npy.hpp"
#include "fuzz_file.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = ag::fuzz::write_input(data, size, "npy");
    try {
        ag::Tensor t = ag::load_npy(path);
        float sum = 0.0f;
        for (int64_t i = 0; i < t.numel(); ++i) sum += t.data()[i];
        (void)sum;
    } catch (const ag::Error&) {
    }
    return 0;
}
