// fuzz_safetensors: libFuzzer target for load_safetensors and load_safetensors_into.
// Any input must load or throw ag::Error: never crash, leak, hang or read out of bounds.
// Build and run: scripts/fuzz.sh (corpus: tests/fuzz/corpus/safetensors).
#include "core/safetensors.hpp"
#include "core/error.hpp"
#include "fuzz_file.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = ag::fuzz::write_input(data, size, "safetensors");
    try {
        ag::StateDict state = ag::load_safetensors(path);
        // every tensor's byte count matched its shape: touch every element
        float sum = 0.0f;
        for (const ag::NamedTensor& t : state.tensors)
            for (int64_t i = 0; i < t.tensor.numel(); ++i) sum += t.tensor.data()[i];
        (void)sum;
    } catch (const ag::Error&) {
    }
    // into a fixed destination: names and shapes checked before any byte is copied
    try {
        std::vector<ag::NamedTensor> destination{{"w", ag::zeros({2, 3})}, {"b", ag::zeros({3})}};
        ag::load_safetensors_into(path, destination);
    } catch (const ag::Error&) {
    }
    return 0;
}
