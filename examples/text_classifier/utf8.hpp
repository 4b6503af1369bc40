// utf8.hpp: making arbitrary bytes into valid, normalised UTF-8 (with utf8proc).
//
// Every text that enters the classifier passes through to_valid_utf8 first, so nothing after it
// has to think about broken input:
//   bytes -> code points, each invalid byte -> U+FFFD (the replacement character, "�")
// and then through nfc, so that "é" typed as one code point (U+00E9) and as "e" + U+0301
// (combining acute) become the same token.
//   Unicode Standard, ch. 3.9 (U+FFFD substitution) and UAX #15 (normalization forms).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace textclf {

/// The replacement character U+FFFD, which stands for every byte that is not valid UTF-8.
inline constexpr char32_t kReplacement = 0xFFFD;

/// `bytes` with each byte that does not start a valid UTF-8 sequence replaced by U+FFFD;
/// adds the number of replacements to *replaced when given.
std::string to_valid_utf8(std::string_view bytes, int64_t* replaced = nullptr);
/// True if `bytes` is entirely valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view bytes);
/// `bytes` read as ISO-8859-1 (every byte is the code point of the same value), as UTF-8.
std::string latin1_to_utf8(std::string_view bytes);
/// Canonical composition (NFC) of valid UTF-8 text.
std::string nfc(std::string_view valid_utf8);
/// Appends the UTF-8 encoding of `code_point` to `out`.
void append_utf8(std::string& out, char32_t code_point);
/// Number of code points in valid UTF-8 text.
int64_t count_code_points(std::string_view valid_utf8);

}  // namespace textclf
