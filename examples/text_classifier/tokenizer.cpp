// tokenizer.cpp: the code point classes of tokenizer.hpp, then one pass that builds the tokens.
#include "tokenizer.hpp"

#include "utf8.hpp"

#include <utf8proc.h>

namespace textclf {

namespace {

enum class CharClass { Word, Apostrophe, Punctuation, Ignored, Separator };

CharClass classify(utf8proc_int32_t c) {
    if (c == U'\'' || c == U'\u2019') return CharClass::Apostrophe;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return CharClass::Word;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        return CharClass::Punctuation;
    case UTF8PROC_CATEGORY_CF:
        return CharClass::Ignored;
    default:
        return CharClass::Separator;  // Z* spaces, Cc controls, Cn unassigned, Co private use
    }
}

}  // namespace

std::vector<std::string> tokenize(std::string_view text, size_t max_tokens) {
    // repair and normalise, then decode: the tokenizer works on whole code points
    std::string clean = nfc(to_valid_utf8(text));
    std::vector<utf8proc_int32_t> chars;
    chars.reserve(clean.size());
    for (size_t i = 0; i < clean.size();) {
        utf8proc_int32_t c = 0;
        i += static_cast<size_t>(utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(clean.data() + i),
                                                  static_cast<utf8proc_ssize_t>(clean.size() - i), &c));
        chars.push_back(c);
    }

    std::vector<std::string> tokens;
    std::string word;
    auto end_word = [&] {
        if (!word.empty() && tokens.size() < max_tokens) tokens.push_back(word);
        word.clear();
    };
    auto add_to_word = [&](utf8proc_int32_t c) {
        std::string encoded;
        append_utf8(encoded, static_cast<char32_t>(utf8proc_tolower(c)));
        if (word.size() + encoded.size() <= kMaxTokenBytes) word += encoded;  // else: cut (see header)
    };
    // one pass: word characters accumulate, anything else ends the current word
    for (size_t i = 0; i < chars.size() && tokens.size() < max_tokens; ++i) {
        CharClass kind = classify(chars[i]);
        if (kind == CharClass::Apostrophe) {
            bool inside = !word.empty() && i + 1 < chars.size() && classify(chars[i + 1]) == CharClass::Word;
            if (inside) chars[i] = U'\'';  // "don’t" and "don't" are one token
            kind = inside ? CharClass::Word : CharClass::Punctuation;
        }
        switch (kind) {
        case CharClass::Word: add_to_word(chars[i]); break;
        case CharClass::Ignored: break;
        case CharClass::Punctuation:
            end_word();
            if (tokens.size() < max_tokens) {
                tokens.emplace_back();
                append_utf8(tokens.back(), static_cast<char32_t>(chars[i]));
            }
            break;
        default: end_word(); break;
        }
    }
    end_word();
    return tokens;
}

}  // namespace textclf
