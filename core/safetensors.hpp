// safetensors.hpp: named tensors to and from Hugging Face's .safetensors format.
//
// The layout, byte by byte (all integers little-endian):
//
//   [ N: u64 ][ N bytes of JSON header, padded with spaces ][ data: the tensors' raw floats ]
//
//   {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
//    "b": {"dtype": "F32", "shape": [3],    "data_offsets": [24, 36]},
//    "__metadata__": {"step": "100"}}
//
// data_offsets are [begin, end) in bytes from the start of the data section; the tensors tile the
// data section exactly (no gap, no overlap) and end - begin = 4 * numel. attograd writes only F32,
// in the order given, and pads the header so the data starts at a multiple of 8 bytes.
//
// Loading trusts nothing: the header is checked whole (length, JSON, dtypes, shapes, offsets,
// duplicate names) against the file size before a single tensor is allocated, and the loading
// into existing tensors also checks names and shapes before the first byte is copied.
#pragma once

#include "core/tensor.hpp"

#include <map>
#include <string>
#include <vector>

namespace ag {

/// One tensor and its name ("layers.0.weight").
struct NamedTensor {
    /// Its name, e.g. a parameter's "layers.0.weight".
    std::string name;
    /// The tensor itself (a handle: it shares storage with the original).
    Tensor tensor;
};

/// Named tensors in order plus string metadata: what a .safetensors file holds, and what
/// optimizers and modules hand out as their state.
struct StateDict {
    /// The tensors, in file or visit order.
    std::vector<NamedTensor> tensors;
    /// Free-form strings saved with them (the safetensors "__metadata__").
    std::map<std::string, std::string> metadata;

    /// The tensor called `name`, or nullptr.
    const Tensor* find(const std::string& name) const;
};

/// The largest header load_safetensors accepts (the reference implementation's limit too).
inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

/// Writes `state` to `path` atomically (see atomic_file.hpp). Names must be unique and non-empty.
void save_safetensors(const std::string& path, const StateDict& state);

/// Reads every tensor of `path` (in header order) and its metadata; throws ag::Error on any defect.
StateDict load_safetensors(const std::string& path);

/// Copies the tensors of `path` into `destination` (same names, same shapes, none missing or
/// extra) and returns the file's metadata. On any error the destination is left unchanged.
/// NOTE: the file is read whole into fresh tensors first, so this briefly needs twice the memory.
std::map<std::string, std::string> load_safetensors_into(const std::string& path,
                                                         const std::vector<NamedTensor>& destination);

}  // namespace ag
