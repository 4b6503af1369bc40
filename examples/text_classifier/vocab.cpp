// vocab.cpp: counting, ranking, lookup and the vocabulary file (see vocab.hpp).
#include "vocab.hpp"

#include "core/error.hpp"
#include "text_file.hpp"
#include "tokenizer.hpp"

#include <algorithm>

namespace textclf {

namespace {

const std::string kPadToken = "<pad>";
const std::string kUnkToken = "<unk>";

// True if `token` could have come out of the tokenizer: short, no spaces or control characters.
bool is_plausible_token(std::string_view token) {
    if (token.empty() || token.size() > kMaxTokenBytes) return false;
    for (unsigned char byte : token)
        if (byte <= 0x20 || byte == 0x7F) return false;
    return true;
}

}  // namespace

Vocab Vocab::build(const std::vector<std::string>& texts, const VocabOptions& options) {
    ag::check(options.min_count >= 1, "vocab", "min_count must be at least 1, got {}", options.min_count);
    ag::check(options.max_size >= 2, "vocab", "max_size must be at least 2 (<pad>, <unk>), got {}", options.max_size);
    // count
    std::unordered_map<std::string, int64_t> counts;
    for (const std::string& text : texts)
        for (std::string& token : tokenize(text)) ++counts[std::move(token)];
    // rank: count descending, then token bytes ascending, so equal counts never depend on hashing
    std::vector<std::pair<std::string, int64_t>> ranked;
    for (auto& [token, count] : counts)
        if (count >= options.min_count) ranked.emplace_back(token, count);
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    // keep the first max_size - 2 after the specials
    std::vector<std::string> tokens = {kPadToken, kUnkToken};
    size_t keep = std::min(ranked.size(), static_cast<size_t>(options.max_size - 2));
    for (size_t i = 0; i < keep; ++i) tokens.push_back(std::move(ranked[i].first));
    return from_tokens(std::move(tokens), "built vocabulary");
}

Vocab Vocab::from_tokens(std::vector<std::string> tokens, std::string_view source) {
    ag::check(tokens.size() >= 2 && tokens[0] == kPadToken && tokens[1] == kUnkToken, "vocab",
              "{}: the first two tokens must be {} and {}", source, kPadToken, kUnkToken);
    Vocab vocab;
    for (size_t i = 0; i < tokens.size(); ++i) {
        // line i + 1 of a vocabulary file holds id i
        ag::check(is_plausible_token(tokens[i]), "vocab",
                  "{}: token {} (line {}) is empty, longer than {} bytes or contains spaces or controls",
                  source, i, i + 1, kMaxTokenBytes);
        auto [it, inserted] = vocab.ids_.emplace(tokens[i], static_cast<int64_t>(i));
        ag::check(inserted, "vocab", "{}: duplicate token '{}' at ids {} and {}", source, tokens[i], it->second, i);
    }
    vocab.tokens_ = std::move(tokens);
    return vocab;
}

Vocab Vocab::load(const std::string& path) {
    // read_list_file rejects an empty file, blank lines, invalid UTF-8 and duplicates (with FILE:LINE)
    return from_tokens(read_list_file(path, "vocab", 4 * kMaxTokenBytes), path);
}

void Vocab::save(const std::string& path) const { write_list_file(path, tokens_, "vocab"); }

int64_t Vocab::id(std::string_view token) const {
    auto it = ids_.find(token);
    return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocab::token(int64_t id) const {
    ag::check(id >= 0 && id < size(), "vocab", "id {} is out of range [0, {})", id, size());
    return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocab::encode(std::string_view text, int64_t max_len) const {
    ag::check(max_len >= 1, "vocab", "max_len must be at least 1, got {}", max_len);
    std::vector<int64_t> ids;
    for (const std::string& token : tokenize(text, static_cast<size_t>(max_len))) ids.push_back(id(token));
    return ids;
}

}  // namespace textclf
