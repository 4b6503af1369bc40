// metrics.hpp: what training and evaluation report: the confusion matrix and what follows from it,
// and one record per epoch (a line of metrics.jsonl).
//
//   confusion[t][p] = examples of true class t predicted as p          (K x K)
//   accuracy        = Σ_k confusion[k][k] / Σ all
//   precision_k     = confusion[k][k] / Σ_t confusion[t][k]   (of those predicted k, how many are k)
//   recall_k        = confusion[k][k] / Σ_p confusion[k][p]   (of the true k, how many were found)
//   f1_k            = 2 precision recall / (precision + recall)
// A class never predicted (or never present) has precision (recall) 0, as scikit-learn reports it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace textclf {

/// Counts of (true class, predicted class) pairs.
class Confusion {
public:
    /// A K x K matrix of zeros.
    explicit Confusion(int64_t num_classes);
    /// Counts one example.
    void add(int64_t truth, int64_t predicted);
    /// Number of classes K.
    int64_t size() const { return k_; }
    /// Examples of class `truth` predicted as `predicted`.
    int64_t at(int64_t truth, int64_t predicted) const { return counts_[static_cast<size_t>(truth * k_ + predicted)]; }
    /// Examples counted.
    int64_t total() const;
    /// Fraction on the diagonal (0 when empty).
    double accuracy() const;
    /// precision of class k (0 when nothing was predicted as k).
    double precision(int64_t k) const;
    /// recall of class k (0 when class k never occurs).
    double recall(int64_t k) const;
    /// Harmonic mean of precision and recall (0 when both are 0).
    double f1(int64_t k) const;

private:
    int64_t k_;
    std::vector<int64_t> counts_;  // row-major [truth][predicted]
};

/// The report of `textclf eval`: accuracy, a table of precision/recall/F1/support, the matrix.
std::string format_confusion_report(const Confusion& confusion, const std::vector<std::string>& labels);

/// One epoch of training (a line of metrics.jsonl).
struct EpochMetrics {
    int64_t epoch = 0;          ///< 1-based
    double train_loss = 0, train_acc = 0;
    double valid_loss = 0, valid_acc = 0;  ///< NaN when there is no validation split
    double lr = 0;
    double seconds = 0;         ///< wall time of the epoch, validation included
    double samples_per_s = 0;   ///< training examples per second
};

/// {"epoch": 1, "train_loss": ..., ...} on one line; NaN is written as null. The doubles round trip.
std::string to_json_line(const EpochMetrics& m);
/// Parses a line written by to_json_line; throws ag::Error otherwise. (In checkpoint.cpp, the one
/// file that parses JSON: nlohmann/json takes long to compile.)
EpochMetrics from_json_line(const std::string& line);

}  // namespace textclf
