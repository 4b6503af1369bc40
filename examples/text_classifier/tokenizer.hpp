// tokenizer.hpp: text -> lowercase word and punctuation tokens, Unicode-aware (utf8proc).
//
//   "¿Qué TAL, Straße?"  ->  ["¿", "qué", "tal", ",", "straße", "?"]
//
// The rules, applied code point by code point after repair (invalid byte -> U+FFFD) and NFC:
//   letters (L*), marks (M*) and numbers (N*)   word characters, lowercased with utf8proc_tolower
//   punctuation (P*) and symbols (S*)           one token each: "¿", "!", "€", and U+FFFD itself
//   an apostrophe (' or ’) between two word characters stays in the word, as ': "don't", "l'acqua"
//   format characters (Cf: soft hyphen, zero-width joiner, BOM)  dropped without splitting the word
//   everything else (spaces, controls, unassigned)             separates tokens
// NOTE: lowercasing is the simple one-to-one mapping, not full case folding: "ß" stays "ß"
// (NFKC_Casefold would turn it into "ss" and lose a strong German cue) and "É" becomes "é".
// NOTE: a word is cut at kMaxTokenBytes, so a 100 MB line of letters cannot become a 100 MB token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace textclf {

/// The longest token, in bytes; longer words keep their first whole code points that fit.
inline constexpr size_t kMaxTokenBytes = 100;

/// The tokens of `text` (any bytes), at most `max_tokens` of them (the first ones).
std::vector<std::string> tokenize(std::string_view text, size_t max_tokens = std::numeric_limits<size_t>::max());

}  // namespace textclf
