// metrics.cpp: the confusion matrix and the per-epoch records (see metrics.hpp).
#include "metrics.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

namespace textclf {

Confusion::Confusion(int64_t num_classes) : k_(num_classes) {
    ag::check(num_classes >= 1, "confusion", "needs >= 1 class, got {}", num_classes);
    counts_.assign(static_cast<size_t>(k_ * k_), 0);
}

void Confusion::add(int64_t truth, int64_t predicted) {
    ag::check(truth >= 0 && truth < k_ && predicted >= 0 && predicted < k_, "confusion",
              "class ids ({}, {}) out of range for {} classes", truth, predicted, k_);
    ++counts_[static_cast<size_t>(truth * k_ + predicted)];
}

int64_t Confusion::total() const { return std::accumulate(counts_.begin(), counts_.end(), int64_t{0}); }

double Confusion::accuracy() const {
    int64_t right = 0;
    for (int64_t k = 0; k < k_; ++k) right += at(k, k);
    const int64_t n = total();
    return n == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(n);
}

double Confusion::precision(int64_t k) const {
    int64_t predicted = 0;  // column k
    for (int64_t t = 0; t < k_; ++t) predicted += at(t, k);
    return predicted == 0 ? 0.0 : static_cast<double>(at(k, k)) / static_cast<double>(predicted);
}

double Confusion::recall(int64_t k) const {
    int64_t actual = 0;  // row k
    for (int64_t p = 0; p < k_; ++p) actual += at(k, p);
    return actual == 0 ? 0.0 : static_cast<double>(at(k, k)) / static_cast<double>(actual);
}

double Confusion::f1(int64_t k) const {
    const double p = precision(k), r = recall(k);
    return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
}

std::string format_confusion_report(const Confusion& c, const std::vector<std::string>& labels) {
    size_t width = 5;  // "class"
    for (const std::string& label : labels) width = std::max(width, label.size());
    std::string out = fmt::format("accuracy {:.4f} ({} examples)\n\n", c.accuracy(), c.total());

    // per class: precision, recall, F1, support
    out += fmt::format("{:<{}}  precision  recall      f1  support\n", "class", width);
    for (int64_t k = 0; k < c.size(); ++k) {
        int64_t support = 0;
        for (int64_t p = 0; p < c.size(); ++p) support += c.at(k, p);
        out += fmt::format("{:<{}}  {:>9.4f}  {:>6.4f}  {:>6.4f}  {:>7}\n", labels[static_cast<size_t>(k)], width,
                           c.precision(k), c.recall(k), c.f1(k), support);
    }

    // the matrix: rows are the true classes, columns the predictions
    out += fmt::format("\nconfusion (rows: true, columns: predicted)\n{:<{}}", "", width);
    for (const std::string& label : labels) out += fmt::format("  {:>7}", label);
    out += "\n";
    for (int64_t t = 0; t < c.size(); ++t) {
        out += fmt::format("{:<{}}", labels[static_cast<size_t>(t)], width);
        for (int64_t p = 0; p < c.size(); ++p) out += fmt::format("  {:>7}", c.at(t, p));
        out += "\n";
    }
    return out;
}

namespace {
nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
double read(const nlohmann::json& j, const char* key) {
    ag::check(j.contains(key), "metrics", "metrics line has no '{}'", key);
    const nlohmann::json& v = j.at(key);
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    ag::check(v.is_number(), "metrics", "'{}' is not a number", key);
    return v.get<double>();
}
}  // namespace

std::string to_json_line(const EpochMetrics& m) {
    // nlohmann writes doubles with the shortest text that reads back exactly
    nlohmann::ordered_json j;
    j["epoch"] = m.epoch;
    j["train_loss"] = number(m.train_loss);
    j["train_acc"] = number(m.train_acc);
    j["valid_loss"] = number(m.valid_loss);
    j["valid_acc"] = number(m.valid_acc);
    j["lr"] = number(m.lr);
    j["seconds"] = number(m.seconds);
    j["samples_per_s"] = number(m.samples_per_s);
    return j.dump();
}

EpochMetrics from_json_line(const std::string& line) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ag::check(j.is_object(), "metrics", "not a JSON object: {}", line.substr(0, 80));
    EpochMetrics m;
    m.epoch = static_cast<int64_t>(read(j, "epoch"));
    m.train_loss = read(j, "train_loss"), m.train_acc = read(j, "train_acc");
    m.valid_loss = read(j, "valid_loss"), m.valid_acc = read(j, "valid_acc");
    m.lr = read(j, "lr"), m.seconds = read(j, "seconds"), m.samples_per_s = read(j, "samples_per_s");
    return m;
}

}  // namespace textclf
