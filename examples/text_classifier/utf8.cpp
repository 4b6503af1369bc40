// utf8.cpp: UTF-8 repair and normalisation on top of utf8proc (see utf8.hpp).
#include "utf8.hpp"

#include "core/error.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace textclf {

namespace {

// One step of decoding: the code point at `bytes[i]` and its length, or -1 if it is invalid.
// utf8proc_iterate rejects overlong forms, surrogates and values past U+10FFFF.
utf8proc_ssize_t decode_one(std::string_view bytes, size_t i, utf8proc_int32_t* code_point) {
    return utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(bytes.data() + i),
                            static_cast<utf8proc_ssize_t>(bytes.size() - i), code_point);
}

}  // namespace

std::string to_valid_utf8(std::string_view bytes, int64_t* replaced) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        // ASCII is by far the most common case and is always valid
        if (static_cast<unsigned char>(bytes[i]) < 0x80) {
            out.push_back(bytes[i++]);
            continue;
        }
        utf8proc_int32_t code_point = 0;
        utf8proc_ssize_t length = decode_one(bytes, i, &code_point);
        if (length > 0) {
            out.append(bytes.substr(i, static_cast<size_t>(length)));
            i += static_cast<size_t>(length);
        } else {
            // NOTE: one U+FFFD per bad byte, then resynchronise on the next byte: a truncated
            // sequence never swallows the valid character after it.
            append_utf8(out, kReplacement);
            if (replaced) ++*replaced;
            ++i;
        }
    }
    return out;
}

bool is_valid_utf8(std::string_view bytes) {
    for (size_t i = 0; i < bytes.size();) {
        utf8proc_int32_t code_point = 0;
        utf8proc_ssize_t length = decode_one(bytes, i, &code_point);
        if (length <= 0) return false;
        i += static_cast<size_t>(length);
    }
    return true;
}

std::string latin1_to_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 8);
    for (unsigned char byte : bytes) append_utf8(out, byte);
    return out;
}

std::string nfc(std::string_view valid_utf8) {
    // ASCII text is already in NFC (nothing composes with it alone): skip utf8proc's allocations
    bool ascii = true;
    for (unsigned char byte : valid_utf8) ascii = ascii && byte < 0x80;
    if (ascii) return std::string(valid_utf8);
    utf8proc_uint8_t* mapped = nullptr;
    utf8proc_ssize_t length = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid_utf8.data()),
                                           static_cast<utf8proc_ssize_t>(valid_utf8.size()), &mapped,
                                           static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    // utf8proc allocates the result with malloc: hand it to a unique_ptr that frees it
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
    ag::check(length >= 0, "utf8", "normalisation failed: {}", utf8proc_errmsg(length));
    return std::string(reinterpret_cast<const char*>(mapped), static_cast<size_t>(length));
}

void append_utf8(std::string& out, char32_t code_point) {
    utf8proc_uint8_t buffer[4];
    utf8proc_ssize_t length = utf8proc_encode_char(static_cast<utf8proc_int32_t>(code_point), buffer);
    out.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
}

int64_t count_code_points(std::string_view valid_utf8) {
    // every code point has exactly one byte that is not a continuation byte (10xxxxxx)
    int64_t count = 0;
    for (unsigned char byte : valid_utf8) count += (byte & 0xC0) != 0x80;
    return count;
}

}  // namespace textclf
