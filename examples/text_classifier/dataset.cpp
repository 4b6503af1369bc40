// dataset.cpp: the label<TAB>text reader and the split (rules in dataset.hpp).
#include "dataset.hpp"

#include "core/error.hpp"
#include "text_file.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_set>

namespace textclf {

namespace {

constexpr size_t kMaxProblemsKept = 5;

std::string_view trim(std::string_view s) {
    const char* space = " \t\r\n\f\v";
    size_t first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// The loop shared by read_tsv and parse_tsv: every line of `reader` to an example or a problem.
std::vector<Example> read_examples(LineReader& reader, const TsvOptions& options, LoadReport* report) {
    LoadReport local;
    LoadReport& r = report ? *report : local;
    r = LoadReport{};
    r.source = reader.name();
    std::vector<Example> examples;

    // a malformed line is fatal unless skip_malformed; the message is the same either way
    auto malformed = [&](std::string_view what) {
        std::string message = fmt::format("{}: {}", reader.where(), what);
        ag::check(options.skip_malformed, "tsv", "{}", message);
        ++r.skipped;
        if (r.problems.size() < kMaxProblemsKept) r.problems.push_back(std::move(message));
    };

    std::string line;
    while (reader.next(line)) {
        ++r.lines;
        if (reader.too_long()) {
            malformed(fmt::format("line longer than {} bytes", options.max_line_bytes));
            continue;
        }
        std::string_view view = line;
        if (reader.line_number() == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);  // BOM
        if (trim(view).empty()) {
            ++r.blank;
            continue;
        }
        size_t tab = view.find('\t');
        if (tab == std::string_view::npos) {
            // a binary file's first line usually has no tab: say what it more likely is
            malformed(is_valid_utf8(view) ? "no tab between label and text"
                                          : "no tab between label and text, and not UTF-8: is this a binary file?");
            continue;
        }
        std::string_view label = trim(view.substr(0, tab)), text = trim(view.substr(tab + 1));
        if (label.empty() || text.empty()) {
            malformed(label.empty() ? "empty label" : "empty text");
            continue;
        }
        // repair invalid UTF-8 here, so that labels and texts are valid from now on
        int64_t replaced = 0;
        Example example{to_valid_utf8(label, &replaced), to_valid_utf8(text, &replaced), reader.where()};
        r.repaired_utf8 += replaced > 0;
        examples.push_back(std::move(example));
    }

    // NOTE: an empty file is an error, not an empty dataset: training on nothing fails later and obscurely
    ag::check(reader.bytes_read() > 0, "tsv", "{} is empty", reader.name());
    ag::check(!examples.empty(), "tsv", "{} has no examples ({} lines: {} blank, {} malformed{}{})", reader.name(),
              r.lines, r.blank, r.skipped, r.problems.empty() ? "" : "; first: ",
              r.problems.empty() ? "" : r.problems.front());
    return examples;
}

}  // namespace

std::vector<Example> read_tsv(const std::string& path, const TsvOptions& options, LoadReport* report) {
    LineReader reader = LineReader::open_file(path, "tsv", options.max_line_bytes);
    return read_examples(reader, options, report);
}

std::vector<Example> parse_tsv(std::string_view text, std::string name, const TsvOptions& options,
                               LoadReport* report) {
    LineReader reader = LineReader::from_text(std::move(name), text, "tsv", options.max_line_bytes);
    return read_examples(reader, options, report);
}

std::map<std::string, int64_t> label_counts(const std::vector<Example>& examples) {
    std::map<std::string, int64_t> counts;
    for (const Example& e : examples) ++counts[e.label];
    return counts;
}

std::string format_counts(const std::vector<Example>& examples) {
    std::string out;
    for (const auto& [label, count] : label_counts(examples))
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", label, count);
    return out;
}

std::string format_report(const LoadReport& report, const std::vector<Example>& examples) {
    std::string out = fmt::format("{}: {} examples ({})", report.source, examples.size(), format_counts(examples));
    if (report.skipped > 0)
        out += fmt::format("; {} malformed lines skipped (first: {})", report.skipped, report.problems.front());
    if (report.repaired_utf8 > 0)
        out += fmt::format("; {} lines had invalid UTF-8, replaced by U+FFFD", report.repaired_utf8);
    return out;
}

int64_t deduplicate(std::vector<Example>& examples) {
    std::unordered_set<std::string> seen;
    std::vector<Example> kept;
    kept.reserve(examples.size());
    for (Example& e : examples)
        if (seen.insert(e.text).second) kept.push_back(std::move(e));
    int64_t removed = static_cast<int64_t>(examples.size() - kept.size());
    examples = std::move(kept);
    return removed;
}

Splits split_examples(std::vector<Example> examples, uint64_t seed, double valid_fraction, double test_fraction) {
    ag::check(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction < 1, "split",
              "fractions must be >= 0 and leave some for training, got valid {} and test {}", valid_fraction,
              test_fraction);
    // sizes: rounded, at least one example for each part that was asked for
    const size_t n = examples.size();
    auto part = [n](double fraction) {
        size_t size = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
        return fraction > 0 ? std::max<size_t>(size, 1) : size_t{0};
    };
    const size_t n_valid = part(valid_fraction), n_test = part(test_fraction);
    ag::check(n > n_valid + n_test, "split", "{} examples are too few to split into train, valid ({}) and test ({})",
              n, n_valid, n_test);
    // shuffle, then cut: [train | valid | test]
    ag::Generator gen(seed);
    shuffle(examples, gen);
    Splits splits;
    const size_t n_train = n - n_valid - n_test;
    auto take = [&](size_t begin, size_t end) {
        return std::vector<Example>(std::make_move_iterator(examples.begin() + static_cast<ptrdiff_t>(begin)),
                                    std::make_move_iterator(examples.begin() + static_cast<ptrdiff_t>(end)));
    };
    splits.train = take(0, n_train);
    splits.valid = take(n_train, n_train + n_valid);
    splits.test = take(n_train + n_valid, n);
    return splits;
}

}  // namespace textclf
