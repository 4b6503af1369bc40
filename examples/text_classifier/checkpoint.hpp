// checkpoint.hpp: what a training run writes to its directory, and reading it back.
//
//   DIR/config.json          the model's shape and the run's settings (data, seed, batch size, ...)
//   DIR/vocab.txt            one token per line, in id order (vocab.hpp)
//   DIR/labels.txt           one label per line, in class-id order (labels.hpp)
//   DIR/model.safetensors    the best weights so far (by validation accuracy), PyTorch's names
//   DIR/resume.safetensors   the LAST epoch's state, to continue the run (--resume):
//                              tensors   model.<name>, optim.<name> (Adam's moments)
//                              metadata  optim.<key> (Adam's steps and options), epoch, the two
//                                        generators' seed and offset, the best epoch so far,
//                                        the metrics so far (metrics.jsonl's lines)
// Every file is written atomically (core/atomic_file.hpp): a crash while saving leaves the previous
// version whole, never a torn file. vocab, labels and config never change during a run; the two
// .safetensors files are each replaced by a single rename.
#pragma once

#include "labels.hpp"
#include "metrics.hpp"
#include "model.hpp"
#include "vocab.hpp"

#include "core/random.hpp"
#include "optim/optimizer.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace textclf {

/// How a run trains, saved in config.json next to the model's shape.
struct TrainSettings {
    std::string data;                               ///< built-in dataset name, or "" for files
    std::string train_file, valid_file, test_file;  ///< label<TAB>text files ("" = none)
    bool skip_malformed = false;                    ///< skip malformed lines instead of failing
    int64_t epochs = 3;
    int64_t batch_size = 32;
    double lr = 1e-3;
    double clip = 0.0;                              ///< max gradient norm; 0 = no clipping
    uint64_t seed = 0;
    int64_t min_count = 1;                          ///< vocabulary: minimum token count
    int64_t vocab_size = 8000;                      ///< vocabulary: most ids, specials included
    int64_t patience = 0;                           ///< stop after this many epochs without a better valid acc; 0 = never
    bool bucketing = true;                          ///< batches of texts of similar length
};

/// config.json: the model's shape and the run's settings.
struct RunConfig {
    ModelConfig model;
    TrainSettings train;
};

/// config as pretty JSON text.
std::string to_json(const RunConfig& config);
/// Parses config.json text (`source` names it in errors) and validates the model's shape.
RunConfig run_config_from_json(const std::string& text, const std::string& source);

/// Writes `content` to `path` atomically (op names the caller in errors).
void write_text_file(const std::string& path, const std::string& content, std::string_view op);
/// The whole of a small text file; throws naming the path.
std::string read_text_file(const std::string& path, std::string_view op);

/// Writes config.json, vocab.txt and labels.txt into `dir` (created if missing).
void save_run_files(const std::string& dir, const RunConfig& config, const Vocab& vocab, const LabelSet& labels);
/// Writes the weights to dir/model.safetensors.
void save_weights(const std::string& dir, const TextClassifier& model);

/// A model read back from a run directory, ready for eval or predict.
struct LoadedModel {
    RunConfig config;
    Vocab vocab;
    LabelSet labels;
    std::unique_ptr<ag::Generator> gen;          ///< the model's dropout generator (unused in eval mode)
    std::unique_ptr<TextClassifier> model;       ///< in eval mode
};
/// Reads config.json, vocab.txt, labels.txt and model.safetensors from `dir`, checking that they agree.
LoadedModel load_model(const std::string& dir);

/// The state of a run after an epoch: what --resume needs to continue exactly.
struct TrainProgress {
    int64_t epoch = 0;                   ///< epochs done
    ag::Generator model_gen, shuffle_gen;  ///< states after that epoch
    std::vector<EpochMetrics> metrics;   ///< one per epoch done
    int64_t best_epoch = 0;              ///< epoch of model.safetensors (0 = none yet)
    double best_valid_acc = -1.0, best_valid_loss = 0.0;
    int64_t bad_epochs = 0;              ///< epochs since the best one (early stopping)
};
/// Writes dir/resume.safetensors: the model's weights, the optimizer's state and `progress`.
void save_resume_state(const std::string& dir, const TextClassifier& model, const ag::Optimizer& optimizer,
                       const TrainProgress& progress);
/// Reads dir/resume.safetensors into `model` and `optimizer` (same shapes) and returns the progress.
TrainProgress load_resume_state(const std::string& dir, TextClassifier& model, ag::Optimizer& optimizer);

}  // namespace textclf
