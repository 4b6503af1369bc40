// corpus.hpp: the built-in datasets behind `textclf train --data NAME`.
//
//   tiny            256 short sentences in en, de, es, it written for this example, embedded in
//                   the binary (tiny_corpus.tsv, turned into a C++ string at build time): a smoke
//                   run in seconds, offline
//   fortunes-lang   language identification over Debian's fortune packages (see fortunes.hpp)
// Both are deduplicated, then split train/valid/test 80/10/10 by a seeded shuffle.
#pragma once

#include "dataset.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace textclf {

/// The text of tiny_corpus.tsv (label<TAB>text lines), compiled into the binary.
extern const std::string_view kTinyCorpusTsv;

/// The examples of the embedded tiny corpus.
std::vector<Example> tiny_corpus();

/// Names accepted by load_builtin, for --help and error messages.
std::vector<std::string> builtin_dataset_names();

/// A built-in dataset, split, with a report for the user.
struct BuiltinDataset {
    Splits splits;
    std::string report;  ///< what was read and dropped, and the examples per label in each split
};

/// Builds the dataset `name` and splits it 80/10/10 with `seed`; throws for an unknown name.
BuiltinDataset load_builtin(std::string_view name, uint64_t seed);

/// "train 800 (de 200, en 200, ...)\nvalid ...\ntest ...\n": the examples per label in each split.
std::string format_splits(const Splits& splits);

}  // namespace textclf
