// trainer.hpp: the training loop, validation, the best checkpoint, early stopping and --resume.
//
// One epoch:
//   batches = epoch_batches(train, shuffled by shuffle_gen)         (batcher.hpp)
//   for each batch:  zero_grad; logits = model(batch); loss = cross_entropy(logits, labels);
//                    loss.backward(); [clip_grad_norm]; adam.step()
//                    (a NaN or inf in the loss or a gradient stops the run before the step, with an
//                    error naming the epoch and step; the last epoch's checkpoint stays as it was)
//   validate (eval mode, no graph); append a line to metrics.jsonl; redraw curves.svg;
//   a better valid accuracy (ties: lower valid loss) -> model.safetensors; resume.safetensors always.
// After the last epoch the best weights are reloaded and scored on the test split (confusion.svg;
// without a test split, confusion.svg shows the validation split).
//
// Determinism: all randomness comes from two generators, model_gen (initial weights, then every
// dropout mask) and shuffle_gen (the order of the examples), both seeded from the run's seed. Their
// states are saved after every epoch with the weights, Adam's moments and the metrics, so that a
// run resumed after epoch k repeats exactly what the uninterrupted run did: bitwise the same weights.
// The kernels give the same bits for any thread count (core/parallel.hpp), so does the whole run.
#pragma once

#include "batcher.hpp"
#include "checkpoint.hpp"
#include "metrics.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace textclf {

/// The three splits, encoded.
struct EncodedSplits {
    std::vector<EncodedExample> train, valid, test;
};

/// Where the trainer writes and how it talks.
struct TrainerOptions {
    std::string out_dir;      ///< the run directory ("" = write nothing: tests)
    bool resume = false;      ///< continue from out_dir/resume.safetensors
    std::FILE* log = stdout;  ///< epoch lines and the final "test accuracy"; null = silent
    bool progress = true;     ///< the per-epoch progress bar on stderr
};

/// What a run produced.
struct TrainResult {
    std::vector<EpochMetrics> metrics;  ///< every epoch, resumed ones included
    int64_t best_epoch = 0;
    double test_accuracy = -1.0;        ///< -1 without a test split
    double test_loss = 0.0;
};

/// Loss and accuracy of a model on some examples, with the confusion matrix.
struct EvalResult {
    double loss = 0, accuracy = 0;
    Confusion confusion{1};
};

/// Scores `model` on `data` in eval mode without recording a graph (restores its mode after).
EvalResult evaluate(TextClassifier& model, const std::vector<EncodedExample>& data, int64_t batch_size,
                    int64_t num_classes);

/// Trains a model of `config` on `data` (rules in the file header). Label names are for confusion.svg.
TrainResult train(const RunConfig& config, const EncodedSplits& data, const std::vector<std::string>& labels,
                  const TrainerOptions& options);

}  // namespace textclf
