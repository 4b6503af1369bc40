// corpus.cpp: the built-in datasets (see corpus.hpp).
#include "corpus.hpp"

#include "core/error.hpp"
#include "fortunes.hpp"

#include <fmt/ranges.h>

namespace textclf {

std::vector<Example> tiny_corpus() { return parse_tsv(kTinyCorpusTsv, "tiny_corpus.tsv (built in)"); }

std::vector<std::string> builtin_dataset_names() { return {"tiny", "fortunes-lang"}; }

std::string format_splits(const Splits& splits) {
    return fmt::format("train {} ({})\nvalid {} ({})\ntest {} ({})\n", splits.train.size(),
                       format_counts(splits.train), splits.valid.size(), format_counts(splits.valid),
                       splits.test.size(), format_counts(splits.test));
}

BuiltinDataset load_builtin(std::string_view name, uint64_t seed) {
    std::vector<Example> examples;
    std::string report;
    if (name == "tiny") {
        examples = tiny_corpus();
        report = fmt::format("tiny: {} built-in examples\n", examples.size());
    } else if (name == "fortunes-lang") {
        FortunesReport counts;
        examples = fortunes_lang_corpus({}, &counts);
        report = format_fortunes_report(counts);
    } else {
        ag::fail("data", "unknown built-in dataset '{}' (known: {})", name, fmt::join(builtin_dataset_names(), ", "));
    }
    // a text in two splits would leak the answer from train into valid or test
    if (int64_t removed = deduplicate(examples); removed > 0)
        report += fmt::format("{} duplicate texts removed\n", removed);
    BuiltinDataset data{split_examples(std::move(examples), seed), std::move(report)};
    data.report += format_splits(data.splits);
    return data;
}

}  // namespace textclf
