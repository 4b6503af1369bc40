// metrics.cpp: the confusion matrix and the per-epoch records (see metrics.hpp).
#include "metrics.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
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
// A JSON number: fmt's "{}" is the shortest text that reads back to the same double; NaN is null.
std::string number(double x) { return std::isfinite(x) ? fmt::format("{}", x) : "null"; }
}  // namespace

std::string to_json_line(const EpochMetrics& m) {
    return fmt::format("{{\"epoch\": {}, \"train_loss\": {}, \"train_acc\": {}, \"valid_loss\": {}, "
                       "\"valid_acc\": {}, \"lr\": {}, \"seconds\": {}, \"samples_per_s\": {}}}",
                       m.epoch, number(m.train_loss), number(m.train_acc), number(m.valid_loss), number(m.valid_acc),
                       number(m.lr), number(m.seconds), number(m.samples_per_s));
}

}  // namespace textclf
