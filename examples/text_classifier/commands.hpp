// commands.hpp: the four subcommands of `textclf` as plain functions over plain structs.
//
// textclf.cpp only parses the command line into these structs (CLI11); everything else is here,
// so tests call the same code the program runs. Each function validates its arguments first and
// throws ag::Error with a one-line message naming the flag and the bad value:
//   [train] --lr must be a finite number > 0, got -1
#pragma once

#include "checkpoint.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace textclf {

/// `textclf train`: where the data comes from, the model's shape, the run's settings.
struct TrainArgs {
    RunConfig config;           ///< model shape and settings (model.vocab_size/num_classes are filled from the data)
    int64_t threads = 1;        ///< --threads
    std::string out_dir;        ///< --out ("" = write nothing)
    bool resume = false;        ///< --resume: continue the run in --out
    bool quiet = false;         ///< no progress bar, no epoch lines (still the final line)
    bool detect_anomaly = false;  ///< --detect-anomaly: check every op (slow), so a NaN names the op making it
    std::vector<std::string> given;  ///< the flags given on the command line (--resume checks them against the run)
};
/// Throws for a bad flag (see the file header).
void validate(const TrainArgs& args);
/// Runs `textclf train`; returns the exit code. Prints the final line "test accuracy X.XXXX"
/// when there is a test split.
int run_train(const TrainArgs& args);

/// `textclf eval --model DIR FILE`.
struct EvalArgs {
    std::string model_dir, file;
    int64_t batch_size = 64;
    bool skip_malformed = false;
    int64_t threads = 1;
};
/// Prints accuracy, per-class precision/recall/F1 and the confusion matrix; returns the exit code.
int run_eval(const EvalArgs& args);

/// `textclf predict --model DIR [TEXT...]` (no text: one per line of stdin).
struct PredictArgs {
    std::string model_dir;
    std::vector<std::string> texts;
    int64_t top_k = 3;
    std::string explain_svg;    ///< --explain: the attention heatmap of the first text
    int64_t threads = 1;
};
/// Prints "label  p  (top-k label p ...)  text" per text; returns the exit code.
int run_predict(const PredictArgs& args);

/// `textclf bench`: training steps of the benchmark config on one synthetic batch.
struct BenchArgs {
    int64_t threads = 1;
    int64_t steps = 50;
    int64_t warmup = 5;
    bool json = false;
};
/// The figures of one bench run.
struct BenchResult {
    double ms_per_step = 0, ms_per_step_mean = 0, samples_per_s = 0;  ///< wall time (median, mean)
    double cpu_ms_per_step = 0;  ///< process CPU time per step (median): all threads, not inflated by other processes
    double peak_rss_mb = 0;
};
/// Times args.steps training steps (after warmup); the median step is reported.
BenchResult bench(const BenchArgs& args);
/// Runs `textclf bench` and prints the figures; returns the exit code.
int run_bench(const BenchArgs& args);

}  // namespace textclf
