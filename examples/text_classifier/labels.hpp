// labels.hpp: label names <-> class ids, fixed by the training split and saved with the model.
//
//   class id = position of the label in sorted (byte) order: ["de", "en", "es", "it"] -> 0, 1, 2, 3
// Sorting makes the ids independent of the order of the file. A classifier needs at least two
// classes, so one label only is an error; a label the model has not seen (in a validation or
// test file) is an error too, named with its FILE:LINE.
// Saved like the vocabulary: UTF-8 text, one label per line, in id order.
#pragma once

#include "dataset.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace textclf {

/// The classes of a classifier, by id.
class LabelSet {
public:
    /// The distinct labels of `examples` (the training split) in sorted order; `source` names them in errors.
    static LabelSet from_examples(const std::vector<Example>& examples, std::string_view source);
    /// Labels in id order (no duplicates, none empty, at least two); `source` names them in errors.
    static LabelSet from_names(std::vector<std::string> names, std::string_view source);
    /// Reads a file written by save(), validating it.
    static LabelSet load(const std::string& path);
    /// Writes the labels, one per line, in id order.
    void save(const std::string& path) const;

    /// Number of classes.
    int64_t size() const { return static_cast<int64_t>(names_.size()); }
    /// The label of class `id`.
    const std::string& name(int64_t id) const;
    /// All labels, in id order.
    const std::vector<std::string>& names() const { return names_; }
    /// The class id of `label`; throws "[labels] WHERE: unknown label 'x' (known: a, b)".
    int64_t id(std::string_view label, std::string_view where) const;
    /// The class id of every example, in order (unknown labels throw, as id()).
    std::vector<int64_t> ids(const std::vector<Example>& examples) const;

private:
    std::vector<std::string> names_;  // sorted when built from examples
};

}  // namespace textclf
