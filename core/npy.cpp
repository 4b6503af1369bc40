// npy.cpp: the .npy writer and its validating reader (format in npy.hpp).
//
// The header is a Python dict literal; we parse just the grammar NumPy writes:
//   dict  := '{' (key ':' value ',')* '}'        (last comma optional, spaces anywhere)
//   value := 'text' | True | False | '(' int, ... ')'
#include "core/npy.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"

#include <bit>
#include <cstring>
#include <optional>

namespace ag {

static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlign = 64;                // NumPy aligns the data to 64 bytes
constexpr uint32_t kMaxHeader = 1 << 20;     // far above any real header; refuses garbage lengths

// The three fields of the header dict, once parsed.
struct NpyHeader {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<Shape> shape;
};

// A recursive-descent reader over the header text; every error names the file.
class HeaderParser {
public:
    HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

    NpyHeader parse() {
        NpyHeader header;
        expect('{');
        while (!peek('}')) {
            std::string key = string_literal();
            expect(':');
            if (key == "descr") {
                check(!header.descr, "load_npy", "'{}': key 'descr' appears twice", path_);
                if (peek('[')) fail("load_npy", "'{}': structured dtypes are not supported, expected '<f4'", path_);
                header.descr = string_literal();
            } else if (key == "fortran_order") {
                check(!header.fortran_order, "load_npy", "'{}': key 'fortran_order' appears twice", path_);
                header.fortran_order = boolean();
            } else if (key == "shape") {
                check(!header.shape, "load_npy", "'{}': key 'shape' appears twice", path_);
                header.shape = tuple();
            } else {
                fail("load_npy", "'{}': unexpected key '{}' in the header", path_, key);
            }
            if (!peek('}')) expect(',');
        }
        expect('}');
        skip_spaces();
        check(pos_ == text_.size(), "load_npy", "'{}': unexpected text after the header dict: '{}'", path_,
              text_.substr(pos_));
        check(header.descr && header.fortran_order && header.shape, "load_npy",
              "'{}': header must have descr, fortran_order and shape: '{}'", path_, text_);
        return header;
    }

private:
    void skip_spaces() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
    }
    bool peek(char c) {
        skip_spaces();
        return pos_ < text_.size() && text_[pos_] == c;
    }
    void expect(char c) {
        if (!peek(c)) fail("load_npy", "'{}': cannot parse the header at character {}, expected '{}': '{}'", path_,
                           pos_, c, text_);
        ++pos_;
    }
    std::string string_literal() {
        skip_spaces();
        char quote = pos_ < text_.size() ? text_[pos_] : '\0';
        if (quote != '\'' && quote != '"') expect('\'');  // reports the error
        size_t close = text_.find(quote, pos_ + 1);
        if (close == std::string_view::npos) fail("load_npy", "'{}': unterminated string in the header", path_);
        std::string s(text_.substr(pos_ + 1, close - pos_ - 1));
        pos_ = close + 1;
        return s;
    }
    bool boolean() {
        skip_spaces();
        if (text_.substr(pos_, 4) == "True") {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_, 5) == "False") {
            pos_ += 5;
            return false;
        }
        fail("load_npy", "'{}': fortran_order must be True or False: '{}'", path_, text_);
    }
    // (2, 3) or (5,) or (): non-negative sizes whose product does not overflow
    Shape tuple() {
        expect('(');
        Shape shape;
        int64_t count = 1;
        while (!peek(')')) {
            int64_t size = 0;
            size_t start = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
                if (__builtin_mul_overflow(size, 10, &size) || __builtin_add_overflow(size, text_[pos_] - '0', &size))
                    fail("load_npy", "'{}': shape size too large in '{}'", path_, text_);
                ++pos_;
            }
            if (pos_ == start) fail("load_npy", "'{}': shape must hold non-negative integers: '{}'", path_, text_);
            if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long literals
            if (shape.ndim() == kMaxDims)
                fail("load_npy", "'{}': shape has more than {} dimensions: '{}'", path_, kMaxDims, text_);
            if (__builtin_mul_overflow(count, size, &count) || count > INT64_MAX / 4)
                fail("load_npy", "'{}': shape overflows the element count: '{}'", path_, text_);
            shape.push_back(size);
            if (!peek(')')) expect(',');
        }
        expect(')');
        return shape;
    }

    std::string_view text_;
    const std::string& path_;
    size_t pos_ = 0;
};

// The shape as a Python tuple literal: (), (5,), (2, 3).
std::string python_tuple(const Shape& shape) {
    if (shape.ndim() == 1) return fmt::format("({},)", shape[0]);
    return fmt::format("({})", fmt::join(shape.begin(), shape.end(), ", "));
}

}  // namespace

void save_npy(const std::string& path, const Tensor& t) {
    check(t.defined(), "save_npy", "'{}': the tensor is undefined", path);
    // header dict, padded with spaces and ended by '\n' so that the data starts at a multiple of 64
    std::string header =
        fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", python_tuple(t.shape()));
    size_t preamble = kMagicSize + 2 + 2;  // magic, version, u16 length
    size_t total = (preamble + header.size() + 1 + kAlign - 1) / kAlign * kAlign;
    header.append(total - preamble - header.size() - 1, ' ');
    header.push_back('\n');

    AtomicFile file(path, "save_npy");
    const unsigned char version[2] = {1, 0};
    uint16_t length = static_cast<uint16_t>(header.size());
    file.write(kMagic, kMagicSize);
    file.write(version, 2);
    file.write(&length, 2);
    file.write(header.data(), header.size());
    file.write(t.data(), sizeof(float) * t.numel());
    file.commit();
}

Tensor load_npy(const std::string& path) {
    const char* op = "load_npy";
    InputFile file(path, op);

    // magic and version
    unsigned char preamble[12] = {};
    check(file.size() >= 10, op, "'{}': file is {} bytes, too short for a .npy header", path, file.size());
    file.read_at(preamble, 10, 0);
    check(std::memcmp(preamble, kMagic, kMagicSize) == 0, op, "'{}': not a .npy file (bad magic bytes)", path);
    int major = preamble[6], minor = preamble[7];
    check((major == 1 || major == 2) && minor == 0, op, "'{}': .npy version {}.{} is not supported (1.0 and 2.0 are)",
          path, major, minor);

    // header length: u16 in version 1.0, u32 in 2.0
    uint64_t header_start = major == 1 ? 10 : 12;
    uint32_t length = 0;
    if (major == 1) {
        uint16_t length16 = 0;
        std::memcpy(&length16, preamble + 8, 2);
        length = length16;
    } else {
        check(file.size() >= 12, op, "'{}': file is {} bytes, too short for a version 2.0 header", path, file.size());
        file.read_at(&length, 4, 8);
    }
    check(length <= kMaxHeader, op, "'{}': header length {} is absurd (limit {})", path, length, kMaxHeader);
    check(header_start + length <= file.size(), op, "'{}': header length {} runs past the end of the file ({} bytes)",
          path, length, file.size());
    std::string text(length, '\0');
    file.read_at(text.data(), length, header_start);

    // the dict: '<f4', C order, a shape that matches the bytes left
    NpyHeader header = HeaderParser(text, path).parse();
    check(*header.descr == "<f4", op, "'{}': dtype '{}' is not supported, expected '<f4' (little-endian float32)", path,
          *header.descr);
    check(!*header.fortran_order, op, "'{}': fortran_order True (column-major) is not supported", path);
    const Shape& shape = *header.shape;
    uint64_t data_start = header_start + length;
    uint64_t expected = static_cast<uint64_t>(shape.numel()) * sizeof(float);
    check(file.size() - data_start == expected, op, "'{}': shape {} of '<f4' needs {} data bytes, the file has {}",
          path, shape, expected, file.size() - data_start);

    // data
    Tensor t = empty(shape);
    file.read_at(t.data(), expected, data_start);
    return t;
}

}  // namespace ag
