// vocab.hpp: token <-> id for the classifier's embedding table, built from the training texts.
//
//   id 0 = "<pad>" (fills short sequences in a batch), id 1 = "<unk>" (any token not in the table),
//   ids 2.. = tokens with count >= min_count, most frequent first; ties by token bytes ascending,
//   so the same texts always give the same ids. At most max_size ids in all (the specials included).
// The tokenizer never produces "<pad>" or "<unk>" ('<' is a token of its own), so they cannot clash.
// Saved as UTF-8 text, one token per line in id order; loading validates what it reads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace textclf {

struct VocabOptions {
    int64_t min_count = 1;      ///< a token must appear this often in the training texts
    int64_t max_size = 20000;   ///< ids in all, <pad> and <unk> included (>= 2)
};

/// The token table: tokens by id and ids by token.
class Vocab {
public:
    static constexpr int64_t kPad = 0;  ///< id of "<pad>"
    static constexpr int64_t kUnk = 1;  ///< id of "<unk>"

    /// Counts the tokens of `texts` and keeps the most frequent ones (rules above).
    static Vocab build(const std::vector<std::string>& texts, const VocabOptions& options = {});
    /// A vocabulary from tokens in id order; `source` names them in errors. Validates them.
    static Vocab from_tokens(std::vector<std::string> tokens, std::string_view source);
    /// Reads a file written by save(); throws ag::Error naming the file (and line) if it is not valid.
    static Vocab load(const std::string& path);
    /// Writes the tokens, one per line, in id order.
    void save(const std::string& path) const;

    /// Number of ids (rows of the embedding table).
    int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
    /// The id of `token`, or kUnk.
    int64_t id(std::string_view token) const;
    /// The token of `id` (0 <= id < size()).
    const std::string& token(int64_t id) const;
    /// Tokenizes `text` and maps it to ids, keeping the first max_len (>= 1) tokens. No padding.
    std::vector<int64_t> encode(std::string_view text, int64_t max_len) const;

private:
    // heterogeneous lookup: find a std::string_view without building a std::string
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::vector<std::string> tokens_;
    std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> ids_;
};

}  // namespace textclf
