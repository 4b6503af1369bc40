// fuzz_tsv_tokenizer: libFuzzer target for the text classifier's input path: label<TAB>text
// parsing, UTF-8 repair, labels, tokenizer, vocabulary and encoding. Any input must give examples
// or an ag::Error; every label, text and token that comes out must be valid UTF-8.
// The first byte picks the options (skip malformed lines, a short line limit); the rest is the file.
// Build and run: scripts/fuzz.sh (corpus: tests/fuzz/corpus/tsv_tokenizer).
#include "core/error.hpp"
#include "dataset.hpp"
#include "labels.hpp"
#include "tokenizer.hpp"
#include "utf8.hpp"
#include "vocab.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {
void require(bool condition) {
    if (!condition) std::abort();  // a broken promise: libFuzzer reports it as a crash
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    textclf::TsvOptions options;
    options.skip_malformed = data[0] & 1;
    options.max_line_bytes = (data[0] & 2) ? 64 : 1 << 20;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    // the tokenizer on raw bytes
    for (const std::string& token : textclf::tokenize(text, 1000)) {
        require(!token.empty() && token.size() <= textclf::kMaxTokenBytes);
        require(textclf::is_valid_utf8(token));
    }
    // the dataset path
    std::vector<textclf::Example> examples;
    try {
        examples = textclf::parse_tsv(text, "fuzz.tsv", options);
    } catch (const ag::Error&) {
        return 0;
    }
    std::vector<std::string> texts;
    for (const textclf::Example& e : examples) {
        require(textclf::is_valid_utf8(e.label) && textclf::is_valid_utf8(e.text));
        require(!e.label.empty() && !e.text.empty());
        texts.push_back(e.text);
    }
    textclf::Vocab vocab = textclf::Vocab::build(texts);
    for (const std::string& t : texts)
        for (int64_t id : vocab.encode(t, 16)) require(id >= 0 && id < vocab.size());
    try {
        textclf::LabelSet labels = textclf::LabelSet::from_examples(examples, "fuzz.tsv");
        for (int64_t id : labels.ids(examples)) require(id >= 0 && id < labels.size());
    } catch (const ag::Error&) {
    }
    return 0;
}
