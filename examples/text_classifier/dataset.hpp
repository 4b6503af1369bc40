// dataset.hpp: labelled texts from label<TAB>text files, their counts, and seeded splits.
//
// A dataset file has one example per line:   label<TAB>text   (UTF-8; "\r\n" line ends are fine)
//   blank lines                          skipped silently (counted)
//   no tab, empty label or text, or a line over max_line_bytes
//                                        malformed: an error "FILE:LINE: no tab", or, with
//                                        skip_malformed, skipped and counted in the report
//   a NUL byte                           always an error: the file is binary, not text
//   invalid UTF-8                        each bad byte becomes U+FFFD (counted), never an error
//   missing, a directory, no examples    an error naming the path
// The label is the text before the first tab (spaces around it trimmed); the text is the rest.
#pragma once

#include "core/random.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace textclf {

/// One labelled text and where it came from ("FILE:LINE"), for messages.
struct Example {
    std::string label;
    std::string text;
    std::string where;
};

struct TsvOptions {
    bool skip_malformed = false;         ///< skip and count malformed lines instead of failing
    size_t max_line_bytes = 1 << 20;     ///< longer lines are malformed (and never held in memory)
};

/// What loading found, beyond the examples themselves.
struct LoadReport {
    std::string source;                  ///< file path or name
    int64_t lines = 0;                   ///< lines read
    int64_t blank = 0;                   ///< blank lines skipped
    int64_t skipped = 0;                 ///< malformed lines skipped (skip_malformed)
    int64_t repaired_utf8 = 0;           ///< lines where invalid UTF-8 was replaced by U+FFFD
    std::vector<std::string> problems;   ///< the first few malformed-line messages
};

/// Reads a label<TAB>text file (rules above); fills *report when given.
std::vector<Example> read_tsv(const std::string& path, const TsvOptions& options = {}, LoadReport* report = nullptr);
/// The same rules on text in memory, called `name` in messages (e.g. the built-in corpus).
std::vector<Example> parse_tsv(std::string_view text, std::string name, const TsvOptions& options = {},
                               LoadReport* report = nullptr);

/// Examples per label, labels in sorted order.
std::map<std::string, int64_t> label_counts(const std::vector<Example>& examples);
/// "de 12, en 30, ..." (labels sorted).
std::string format_counts(const std::vector<Example>& examples);
/// One line for the user: "FILE: N examples (de 12, en 30); 2 malformed lines skipped (first: ...)".
std::string format_report(const LoadReport& report, const std::vector<Example>& examples);

/// Drops examples whose text equals an earlier one's (whatever their labels); returns how many went.
int64_t deduplicate(std::vector<Example>& examples);

/// Fisher–Yates shuffle drawing from `gen`: the same seed gives the same order.
template <class T>
void shuffle(std::vector<T>& items, ag::Generator& gen) {
    // swap each position i, from the last down, with a uniform position in [0, i]
    for (size_t i = items.size(); i > 1; --i) {
        size_t j = static_cast<size_t>(gen.next_below(i));
        std::swap(items[i - 1], items[j]);
    }
}

/// The three parts of a dataset.
struct Splits {
    std::vector<Example> train, valid, test;
};

/// Shuffles with Generator(seed), then cuts valid and test (rounded; at least one each when the
/// fraction is positive) off the end; the rest is train (at least one).
Splits split_examples(std::vector<Example> examples, uint64_t seed, double valid_fraction = 0.1,
                      double test_fraction = 0.1);

}  // namespace textclf
