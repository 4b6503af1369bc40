// safetensors.cpp: the .safetensors writer and its validating readers (format in safetensors.hpp).
//
// Loading runs in three phases, and only the last one allocates or copies:
//   1. header   length within the file and below 100 MB, JSON object, no duplicate names
//   2. entries  dtype F32, shape sane, offsets ordered, in range, 4 * numel bytes, tiling the data
//   3. data     one read per tensor, straight into its storage
#include "core/safetensors.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

namespace ag {

// NOTE: the format is little-endian and we copy floats byte for byte; a big-endian port would
// have to swap every value.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

using Json = nlohmann::ordered_json;  // keeps the header's order: tensors load in file order

namespace {

constexpr const char* kMetadataKey = "__metadata__";

// One header entry once validated: where its bytes are and what shape they have.
struct Entry {
    std::string name;
    Shape shape;
    uint64_t begin = 0;
    uint64_t end = 0;
};

// The validated header: entries in file order, the metadata, and where the data section starts.
struct Header {
    std::vector<Entry> entries;
    std::map<std::string, std::string> metadata;
    uint64_t data_start = 0;
};

// The shape of entry `name`: an array of at most kMaxDims non-negative integers whose product,
// in bytes, does not overflow.
Shape parse_shape(const Json& j, const std::string& path, const std::string& name, uint64_t& bytes) {
    const char* op = "load_safetensors";
    if (!j.is_array()) fail(op, "'{}': tensor '{}': shape must be an array, found {}", path, name, j.dump());
    if (j.size() > static_cast<size_t>(kMaxDims))
        fail(op, "'{}': tensor '{}': shape {} has {} dimensions, at most {} are supported", path, name, j.dump(),
             j.size(), kMaxDims);
    Shape shape;
    uint64_t count = 1;
    for (const Json& size : j) {
        if (!size.is_number_unsigned())  // -1 parses as a signed integer, 2.5 as a float
            fail(op, "'{}': tensor '{}': shape {} must hold non-negative integers", path, name, j.dump());
        uint64_t s = size.get<uint64_t>();
        if (s > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(count, s, &count) ||
            count > static_cast<uint64_t>(INT64_MAX) / sizeof(float))
            fail(op, "'{}': tensor '{}': shape {} overflows the element count", path, name, j.dump());
        shape.push_back(static_cast<int64_t>(s));
    }
    bytes = count * sizeof(float);
    return shape;
}

// One tensor's entry: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}.
Entry parse_entry(const std::string& path, const std::string& name, const Json& j, uint64_t data_size) {
    const char* op = "load_safetensors";
    if (!j.is_object()) fail(op, "'{}': tensor '{}': entry must be an object, found {}", path, name, j.dump());
    for (const auto& [key, value] : j.items())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            fail(op, "'{}': tensor '{}': unknown field '{}'", path, name, key);
    if (!j.contains("dtype") || !j.contains("shape") || !j.contains("data_offsets"))
        fail(op, "'{}': tensor '{}': entry needs dtype, shape and data_offsets, found {}", path, name, j.dump());

    // dtype
    const Json& dtype = j["dtype"];
    if (!dtype.is_string()) fail(op, "'{}': tensor '{}': dtype must be a string, found {}", path, name, dtype.dump());
    if (dtype.get<std::string>() != "F32")
        fail(op, "'{}': tensor '{}': dtype {} is not supported, expected F32", path, name, dtype.get<std::string>());

    // shape
    Entry entry{name, {}, 0, 0};
    uint64_t expected_bytes = 0;
    entry.shape = parse_shape(j["shape"], path, name, expected_bytes);

    // offsets: ordered, inside the data section, exactly the shape's bytes
    const Json& offsets = j["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
        fail(op, "'{}': tensor '{}': data_offsets must be two non-negative integers, found {}", path, name,
             offsets.dump());
    entry.begin = offsets[0].get<uint64_t>();
    entry.end = offsets[1].get<uint64_t>();
    if (entry.begin > entry.end)
        fail(op, "'{}': tensor '{}': data_offsets [{}, {}] are reversed", path, name, entry.begin, entry.end);
    if (entry.end > data_size)
        fail(op, "'{}': tensor '{}': data_offsets [{}, {}] run past the data section of {} bytes", path, name,
             entry.begin, entry.end, data_size);
    if (entry.end - entry.begin != expected_bytes)
        fail(op, "'{}': tensor '{}': shape {} of F32 needs {} bytes, data_offsets [{}, {}] hold {}", path, name,
             entry.shape, expected_bytes, entry.begin, entry.end, entry.end - entry.begin);
    return entry;
}

// Phase 1 and 2: read and check the whole header against the file size.
Header read_header(const InputFile& file, const std::string& path) {
    const char* op = "load_safetensors";
    // header length
    if (file.size() < 8) fail(op, "'{}': file is {} bytes, too short for the 8-byte header length", path, file.size());
    uint64_t n = 0;
    file.read_at(&n, 8, 0);
    if (n > kMaxSafetensorsHeader)
        fail(op, "'{}': header length {} is larger than the {} byte limit: not a safetensors file?", path, n,
             kMaxSafetensorsHeader);
    if (n > file.size() - 8)
        fail(op, "'{}': header length {} runs past the end of the file ({} bytes): truncated?", path, n, file.size());

    // JSON, watching for duplicate top-level names (the parser would silently keep the last one)
    std::string text(n, '\0');
    file.read_at(text.data(), n, 8);
    std::set<std::string> seen;
    std::string duplicate;
    auto on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::key && depth == 1 && !seen.insert(parsed.get<std::string>()).second)
            duplicate = parsed.get<std::string>();
        return true;
    };
    Json header;
    try {
        header = Json::parse(text, on_event);
    } catch (const Json::exception& e) {
        // NOTE: not only parse_error: a number too large for a double (1E400) is an out_of_range
        fail(op, "'{}': header is not valid JSON: {}", path, e.what());
    }
    if (!header.is_object()) fail(op, "'{}': header must be a JSON object, found {}", path, header.type_name());
    if (!duplicate.empty()) fail(op, "'{}': tensor '{}' appears twice in the header", path, duplicate);

    // entries and metadata
    Header result;
    result.data_start = 8 + n;
    uint64_t data_size = file.size() - result.data_start;
    for (const auto& [name, value] : header.items()) {
        if (name == kMetadataKey) {
            if (!value.is_object()) fail(op, "'{}': {} must be an object, found {}", path, kMetadataKey, value.dump());
            for (const auto& [key, text_value] : value.items()) {
                if (!text_value.is_string())
                    fail(op, "'{}': metadata '{}' must be a string, found {}", path, key, text_value.dump());
                result.metadata[key] = text_value.get<std::string>();
            }
            continue;
        }
        result.entries.push_back(parse_entry(path, name, value, data_size));
    }

    // the tensors must tile the data section: sorted by offset, each begins where the last ended
    std::vector<const Entry*> by_offset;
    for (const Entry& e : result.entries) by_offset.push_back(&e);
    std::stable_sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry* e : by_offset) {
        if (e->begin < covered)
            fail(op, "'{}': tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", path, previous->name, previous->begin,
                 previous->end, e->name, e->begin, e->end);
        if (e->begin > covered)
            fail(op, "'{}': bytes [{}, {}) of the data section belong to no tensor (before '{}')", path, covered,
                 e->begin, e->name);
        covered = e->end;
        previous = e;
    }
    if (covered != data_size)
        fail(op, "'{}': the tensors cover {} bytes but the data section has {}", path, covered, data_size);
    return result;
}

}  // namespace

const Tensor* StateDict::find(const std::string& name) const {
    for (const NamedTensor& t : tensors)
        if (t.name == name) return &t.tensor;
    return nullptr;
}

void save_safetensors(const std::string& path, const StateDict& state) {
    const char* op = "save_safetensors";
    // header: metadata first, then the tensors back to back in the given order
    Json header = Json::object();
    if (!state.metadata.empty()) header[kMetadataKey] = state.metadata;
    std::set<std::string> names;
    uint64_t offset = 0;
    for (const NamedTensor& t : state.tensors) {
        check(!t.name.empty() && t.name != kMetadataKey, op, "'{}': invalid tensor name '{}'", path, t.name);
        check(names.insert(t.name).second, op, "'{}': tensor '{}' appears twice", path, t.name);
        check(t.tensor.defined(), op, "'{}': tensor '{}' is undefined", path, t.name);
        uint64_t bytes = static_cast<uint64_t>(t.tensor.numel()) * sizeof(float);
        Json entry = Json::object();
        entry["dtype"] = "F32";
        entry["shape"] = std::vector<int64_t>(t.tensor.shape().begin(), t.tensor.shape().end());
        entry["data_offsets"] = {offset, offset + bytes};
        header[t.name] = std::move(entry);
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const Json::exception& e) {  // e.g. a name that is not valid UTF-8
        fail(op, "'{}': cannot encode the header: {}", path, e.what());
    }
    // pad with spaces so the data section starts 8-byte aligned
    text.append((8 - text.size() % 8) % 8, ' ');

    // length, header, data: written next to the target, then renamed over it
    AtomicFile file(path, op);
    uint64_t n = text.size();
    file.write(&n, 8);
    file.write(text.data(), text.size());
    for (const NamedTensor& t : state.tensors) file.write(t.tensor.data(), sizeof(float) * t.tensor.numel());
    file.commit();
}

StateDict load_safetensors(const std::string& path) {
    InputFile file(path, "load_safetensors");
    Header header = read_header(file, path);
    // phase 3: every check passed, now allocate and read
    StateDict state;
    state.metadata = std::move(header.metadata);
    for (const Entry& e : header.entries) {
        Tensor t = empty(e.shape);
        file.read_at(t.data(), e.end - e.begin, header.data_start + e.begin);
        state.tensors.push_back({e.name, t});
    }
    return state;
}

std::map<std::string, std::string> load_safetensors_into(const std::string& path,
                                                         const std::vector<NamedTensor>& destination) {
    const char* op = "load_safetensors";
    // read the whole file into fresh tensors first: an error there leaves the destination alone
    StateDict loaded = load_safetensors(path);

    // names: none missing, none unexpected; shapes equal
    std::map<std::string, const Tensor*> by_name;
    for (const NamedTensor& t : loaded.tensors) by_name[t.name] = &t.tensor;
    std::set<std::string> wanted;
    for (const NamedTensor& d : destination) {
        check(wanted.insert(d.name).second, op, "'{}': destination names tensor '{}' twice", path, d.name);
        auto it = by_name.find(d.name);
        check(it != by_name.end(), op, "'{}': tensor '{}' is missing from the file", path, d.name);
        check(d.tensor.defined(), op, "'{}': destination tensor '{}' is undefined", path, d.name);
        check(it->second->shape() == d.tensor.shape(), op, "'{}': tensor '{}' has shape {} in the file, expected {}",
              path, d.name, it->second->shape(), d.tensor.shape());
    }
    for (const NamedTensor& t : loaded.tensors)
        check(wanted.count(t.name) == 1, op, "'{}': unexpected tensor '{}' in the file", path, t.name);

    // copy: nothing can fail from here on
    for (const NamedTensor& d : destination)
        std::memcpy(d.tensor.data(), by_name[d.name]->data(), sizeof(float) * d.tensor.numel());
    return loaded.metadata;
}

}  // namespace ag
