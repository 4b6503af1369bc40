// labels.cpp: building, checking, looking up and saving the label list (see labels.hpp).
#include "labels.hpp"

#include "core/error.hpp"
#include "text_file.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace textclf {

namespace {
constexpr size_t kMaxLabelBytes = 1024;
}

LabelSet LabelSet::from_examples(const std::vector<Example>& examples, std::string_view source) {
    std::set<std::string> distinct;
    for (const Example& e : examples) distinct.insert(e.label);
    if (distinct.empty()) ag::fail("labels", "{} has no labels: a classifier needs at least 2 classes", source);
    if (distinct.size() == 1)
        ag::fail("labels", "{} has one label only, '{}': a classifier needs at least 2 classes", source, *distinct.begin());
    return from_names(std::vector<std::string>(distinct.begin(), distinct.end()), source);
}

LabelSet LabelSet::from_names(std::vector<std::string> names, std::string_view source) {
    ag::check(names.size() >= 2, "labels", "{} has {} label(s): a classifier needs at least 2 classes", source,
              names.size());
    std::set<std::string_view> seen;
    for (const std::string& name : names) {
        ag::check(!name.empty() && name.size() <= kMaxLabelBytes, "labels", "{}: a label is empty or longer than {} bytes",
                  source, kMaxLabelBytes);
        ag::check(seen.insert(name).second, "labels", "{}: duplicate label '{}'", source, name);
    }
    LabelSet labels;
    labels.names_ = std::move(names);
    return labels;
}

LabelSet LabelSet::load(const std::string& path) {
    return from_names(read_list_file(path, "labels", kMaxLabelBytes), path);
}

void LabelSet::save(const std::string& path) const { write_list_file(path, names_, "labels"); }

const std::string& LabelSet::name(int64_t id) const {
    ag::check(id >= 0 && id < size(), "labels", "class id {} is out of range [0, {})", id, size());
    return names_[static_cast<size_t>(id)];
}

int64_t LabelSet::id(std::string_view label, std::string_view where) const {
    // a linear search: classifiers have a handful of classes
    auto it = std::find(names_.begin(), names_.end(), label);
    ag::check(it != names_.end(), "labels", "{}: unknown label '{}' (the model knows: {})", where, label,
              fmt::join(names_, ", "));
    return it - names_.begin();
}

std::vector<int64_t> LabelSet::ids(const std::vector<Example>& examples) const {
    std::vector<int64_t> out;
    out.reserve(examples.size());
    for (const Example& e : examples) out.push_back(id(e.label, e.where));
    return out;
}

}  // namespace textclf
