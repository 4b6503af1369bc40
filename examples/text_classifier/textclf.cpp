// textclf.cpp: the `textclf` program: the command line (CLI11) in front of commands.hpp.
//
//   textclf train --data fortunes-lang --out runs/fortunes-lang
//   textclf eval --model runs/fortunes-lang test.tsv
//   textclf predict --model runs/fortunes-lang "Wie spät ist es?"
//   textclf bench --threads 1
// Errors are one line on stderr ("textclf: [train] --lr must be ... got -1") and exit code 1
// (CLI11's own parse errors, e.g. a number that is not one, keep CLI11's exit codes).
#include "commands.hpp"
#include "corpus.hpp"

#include "core/error.hpp"
#include "core/parallel.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

using namespace textclf;

int main(int argc, char** argv) {
    CLI::App app{"textclf: a small attention text classifier built on attograd"};
    app.require_subcommand(1);
    // a flag given twice takes its last value, so `./scripts/train --out DIR` overrides the script's --out
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

    // train
    TrainArgs train;
    TrainSettings& s = train.config.train;
    ModelConfig& m = train.config.model;
    s.epochs = -1;    // -1: the dataset's default (3; tiny: 30), or with --resume the saved value
    s.patience = -1;  // -1: 0 (off), or with --resume the saved value
    CLI::App* train_cmd = app.add_subcommand("train", "train a classifier and write it to --out DIR");
    train_cmd->add_option("--train", s.train_file, "training file (label<TAB>text per line, UTF-8)");
    train_cmd->add_option("--valid", s.valid_file, "validation file (default: 10% of --train, by --seed)");
    train_cmd->add_option("--test", s.test_file, "test file (default: 10% of --train when --valid is not given)");
    train_cmd->add_option("--data", s.data,
                          fmt::format("built-in dataset instead of files: {}", fmt::join(builtin_dataset_names(), ", ")));
    train_cmd->add_flag("--skip-malformed", s.skip_malformed, "skip malformed lines (reported as FILE:LINE) instead of failing");
    train_cmd->add_option("--epochs", s.epochs, "passes over the training split (default 3; --data tiny: 30)");
    train_cmd->add_option("--batch-size", s.batch_size, "examples per step")->capture_default_str();
    train_cmd->add_option("--lr", s.lr, "Adam's learning rate")->capture_default_str();
    train_cmd->add_option("--clip", s.clip, "clip the gradient norm to this (0 = off)")->capture_default_str();
    train_cmd->add_option("--d-model", m.d_model, "embedding size")->capture_default_str();
    train_cmd->add_option("--heads", m.heads, "attention heads (must divide --d-model)")->capture_default_str();
    train_cmd->add_option("--layers", m.layers, "attention blocks")->capture_default_str();
    train_cmd->add_option("--ff-dim", m.ff_dim, "feed-forward hidden size per block (0 = no feed-forward)")->capture_default_str();
    train_cmd->add_option("--max-len", m.max_len, "tokens kept per text")->capture_default_str();
    train_cmd->add_option("--vocab-size", s.vocab_size, "most vocabulary entries, <pad> and <unk> included")->capture_default_str();
    train_cmd->add_option("--min-count", s.min_count, "times a token must occur in the training split")->capture_default_str();
    train_cmd->add_option("--dropout", m.dropout, "dropout probability, in [0, 1)")->capture_default_str();
    train_cmd->add_option("--seed", s.seed, "seed of the split, the weights, the dropout and the shuffling")->capture_default_str();
    train_cmd->add_option("--patience", s.patience, "stop after this many epochs without a better valid accuracy (default 0 = off)");
    bool no_bucketing = false;
    train_cmd->add_flag("--no-bucketing", no_bucketing, "batch texts in random order instead of by similar length");
    train.threads = ag::num_threads();  // AG_NUM_THREADS, else every core
    train_cmd->add_option("--threads", train.threads, "threads (results are the same for any count)")->capture_default_str();
    train_cmd->add_option("--out", train.out_dir, "run directory: checkpoint, metrics.jsonl, curves.svg, confusion.svg");
    train_cmd->add_flag("--resume", train.resume,
                        "continue the run in --out with its saved settings (--epochs and --patience may change; "
                        "another flag with a different value is an error)");
    train_cmd->add_flag("-q,--quiet", train.quiet, "print only the final line");
    train_cmd->add_flag("--detect-anomaly", train.detect_anomaly,
                        "check every op for NaN/inf (slow): a non-finite loss then names the op that made it");

    // eval
    EvalArgs eval;
    CLI::App* eval_cmd = app.add_subcommand("eval", "accuracy, per-class precision/recall and confusion matrix on a file");
    eval_cmd->add_option("--model", eval.model_dir, "run directory written by train")->required();
    eval_cmd->add_option("FILE", eval.file, "label<TAB>text file")->required();
    eval_cmd->add_option("--batch-size", eval.batch_size, "examples per batch")->capture_default_str();
    eval_cmd->add_flag("--skip-malformed", eval.skip_malformed, "skip malformed lines instead of failing");
    eval_cmd->add_option("--threads", eval.threads, "threads")->capture_default_str();

    // predict
    PredictArgs predict;
    CLI::App* predict_cmd = app.add_subcommand("predict", "label and top-k probabilities of each text");
    predict_cmd->add_option("--model", predict.model_dir, "run directory written by train")->required();
    predict_cmd->add_option("TEXT", predict.texts, "texts to classify (none: one per line of stdin)");
    predict_cmd->add_option("--top-k", predict.top_k, "probabilities shown per text")->capture_default_str();
    predict_cmd->add_option("--explain", predict.explain_svg, "write the first text's attention heatmap to this SVG file");
    predict_cmd->add_option("--threads", predict.threads, "threads")->capture_default_str();

    // bench
    BenchArgs bench;
    CLI::App* bench_cmd = app.add_subcommand("bench", "time training steps of the benchmark config on synthetic data");
    bench_cmd->add_option("--threads", bench.threads, "threads")->capture_default_str();
    bench_cmd->add_option("--steps", bench.steps, "timed steps")->capture_default_str();
    bench_cmd->add_option("--warmup", bench.warmup, "untimed steps first")->capture_default_str();
    bench_cmd->add_flag("--json", bench.json, "one JSON object with ms_per_step and samples_per_s");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // CLI11 says "A subcommand is required" for a misspelt one: name what was given instead
        if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-')
            fmt::print(stderr, "textclf: unknown command '{}' (commands: train, eval, predict, bench)\n", argv[1]);
        else
            fmt::print(stderr, "textclf: {} (see textclf --help)\n", e.what());
        return e.get_exit_code() == 0 ? 1 : e.get_exit_code();
    }

    try {
        if (*train_cmd) {
            s.bucketing = !no_bucketing;
            for (const CLI::Option* option : train_cmd->get_options())
                if (option->count() > 0) train.given.push_back(option->get_name());
            return run_train(train);
        }
        if (*eval_cmd) return run_eval(eval);
        if (*predict_cmd) return run_predict(predict);
        return run_bench(bench);
    } catch (const std::exception& e) {
        fmt::print(stderr, "textclf: {}\n", e.what());
        return 1;
    }
}
