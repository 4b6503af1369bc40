// commands.cpp: train, eval, predict and bench (see commands.hpp).
#include "commands.hpp"

#include "batcher.hpp"
#include "corpus.hpp"
#include "dataset.hpp"
#include "svg.hpp"
#include "tokenizer.hpp"
#include "trainer.hpp"

#include "core/anomaly.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "ops/cross_entropy.hpp"
#include "ops/softmax.hpp"
#include "optim/adam.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <numeric>
#include <sys/resource.h>
#include <time.h>

namespace textclf {

namespace {

void check_threads(int64_t threads, std::string_view op) {
    ag::check(threads >= 1 && threads <= ag::kMaxThreads, op, "--threads must be in [1, {}], got {}", ag::kMaxThreads,
              threads);
}

// The labelled examples of a run, split, with what loading found (for the user).
struct LoadedData {
    Splits splits;
    std::string report;
};

LoadedData load_data(const TrainSettings& s) {
    LoadedData out;
    if (!s.data.empty()) {
        BuiltinDataset d = load_builtin(s.data, s.seed);
        return {std::move(d.splits), std::move(d.report)};
    }
    TsvOptions tsv;
    tsv.skip_malformed = s.skip_malformed;
    auto read = [&](const std::string& path) {
        LoadReport report;
        std::vector<Example> examples = read_tsv(path, tsv, &report);
        out.report += format_report(report, examples) + "\n";
        return examples;
    };
    std::vector<Example> train = read(s.train_file);
    if (!s.valid_file.empty()) out.splits.valid = read(s.valid_file);
    if (!s.test_file.empty()) out.splits.test = read(s.test_file);
    // without a validation (and test) file, cut them off the training file by the seed
    if (s.valid_file.empty() && s.test_file.empty()) {
        out.splits = split_examples(std::move(train), s.seed, 0.1, 0.1);
    } else if (s.valid_file.empty()) {
        Splits cut = split_examples(std::move(train), s.seed, 0.1, 0.0);
        out.splits.train = std::move(cut.train), out.splits.valid = std::move(cut.valid);
    } else {
        out.splits.train = std::move(train);
    }
    out.report += format_splits(out.splits);
    return out;
}

std::vector<EncodedExample> encode_all(const std::vector<Example>& examples, const Vocab& vocab,
                                       const LabelSet& labels, int64_t max_len) {
    std::vector<int64_t> ids = labels.ids(examples);  // an unknown label throws with its FILE:LINE
    std::vector<EncodedExample> out(examples.size());
    for (size_t i = 0; i < examples.size(); ++i) out[i] = {encode_text(vocab, examples[i].text, max_len), ids[i]};
    return out;
}

// CPU time of the whole process (all threads), in ms.
double process_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

// The value of each train flag that is saved in config.json, as text (for --resume's comparison).
std::vector<std::pair<std::string, std::string>> saved_flags(const RunConfig& c) {
    const TrainSettings& s = c.train;
    const ModelConfig& m = c.model;
    return {{"--data", s.data},
            {"--train", s.train_file},
            {"--valid", s.valid_file},
            {"--test", s.test_file},
            {"--skip-malformed", s.skip_malformed ? "true" : "false"},
            {"--batch-size", fmt::format("{}", s.batch_size)},
            {"--lr", fmt::format("{}", s.lr)},
            {"--clip", fmt::format("{}", s.clip)},
            {"--seed", fmt::format("{}", s.seed)},
            {"--min-count", fmt::format("{}", s.min_count)},
            {"--vocab-size", fmt::format("{}", s.vocab_size)},
            {"--no-bucketing", s.bucketing ? "false" : "true"},
            {"--d-model", fmt::format("{}", m.d_model)},
            {"--heads", fmt::format("{}", m.heads)},
            {"--layers", fmt::format("{}", m.layers)},
            {"--ff-dim", fmt::format("{}", m.ff_dim)},
            {"--max-len", fmt::format("{}", m.max_len)},
            {"--dropout", fmt::format("{}", m.dropout)}};
}

// --resume continues the saved run with its own settings: a flag given with another value is an error
// (only --epochs and --patience may change, to extend or stop a run).
void check_resume_flags(const TrainArgs& args, const RunConfig& saved) {
    const auto given = saved_flags(args.config), kept = saved_flags(saved);
    for (size_t i = 0; i < given.size(); ++i) {
        const auto& [flag, value] = given[i];
        if (std::find(args.given.begin(), args.given.end(), flag) == args.given.end()) continue;
        ag::check(value == kept[i].second, "train",
                  "--resume: {} {} differs from the run's {} in {}/config.json (drop the flag, or start a new run)",
                  flag, value, kept[i].second, args.out_dir);
    }
}

}  // namespace

void validate(const TrainArgs& a) {
    const TrainSettings& s = a.config.train;
    const ModelConfig& m = a.config.model;
    constexpr std::string_view op = "train";
    check_threads(a.threads, op);
    ag::check(a.resume || s.data.empty() != s.train_file.empty(), op,
              "give either --data NAME or --train FILE (got {})", s.data.empty() ? "neither" : "both");
    ag::check(!(s.train_file.empty() && (!s.valid_file.empty() || !s.test_file.empty())), op,
              "--valid and --test need --train FILE");
    ag::check(!a.resume || !a.out_dir.empty(), op, "--resume needs --out DIR (the run to continue)");
    ag::check(s.epochs >= 0 || s.epochs == -1, op, "--epochs must be >= 0, got {}", s.epochs);
    ag::check(s.batch_size >= 1, op, "--batch-size must be >= 1, got {}", s.batch_size);
    ag::check(std::isfinite(s.lr) && s.lr > 0, op, "--lr must be a finite number > 0, got {}", s.lr);
    ag::check(std::isfinite(s.clip) && s.clip >= 0, op, "--clip must be a finite number >= 0, got {}", s.clip);
    ag::check(s.min_count >= 1, op, "--min-count must be >= 1, got {}", s.min_count);
    ag::check(s.vocab_size >= 3, op, "--vocab-size must be >= 3 (<pad>, <unk> and a token), got {}", s.vocab_size);
    ag::check(s.patience >= 0 || s.patience == -1, op, "--patience must be >= 0, got {}", s.patience);
    ag::check(m.d_model >= 1, op, "--d-model must be >= 1, got {}", m.d_model);
    ag::check(m.heads >= 1 && m.d_model % m.heads == 0, op, "--heads must divide --d-model {}, got {}", m.d_model,
              m.heads);
    ag::check(m.layers >= 1, op, "--layers must be >= 1, got {}", m.layers);
    ag::check(m.ff_dim >= 0, op, "--ff-dim must be >= 0, got {}", m.ff_dim);
    ag::check(m.max_len >= 1, op, "--max-len must be >= 1, got {}", m.max_len);
    ag::check(std::isfinite(m.dropout) && m.dropout >= 0 && m.dropout < 1, op, "--dropout must be in [0, 1), got {}",
              m.dropout);
}

int run_train(const TrainArgs& args) {
    validate(args);
    ag::set_num_threads(static_cast<int>(args.threads));
    // NOTE: anomaly mode is per thread; the training loop records its ops on this one
    ag::set_detect_anomaly(args.detect_anomaly);
    std::FILE* log = args.quiet ? nullptr : stdout;

    // the run's settings: from the flags, or (--resume) from the run directory
    RunConfig config = args.config;
    if (args.resume) {
        config = run_config_from_json(read_text_file(args.out_dir + "/config.json", "train"),
                                      args.out_dir + "/config.json");
        check_resume_flags(args, config);
        if (args.config.train.epochs >= 0) config.train.epochs = args.config.train.epochs;
        if (args.config.train.patience >= 0) config.train.patience = args.config.train.patience;
    } else {
        if (config.train.epochs < 0) config.train.epochs = config.train.data == "tiny" ? 30 : 3;
        if (config.train.patience < 0) config.train.patience = 0;
    }

    // data, vocabulary and labels (a resumed run reuses its saved vocabulary and labels)
    const auto start = std::chrono::steady_clock::now();
    LoadedData data = load_data(config.train);
    if (log) {
        fmt::print(log, "{}", data.report);
        std::fflush(log);
    }
    std::vector<std::string> train_texts;
    for (const Example& e : data.splits.train) train_texts.push_back(e.text);
    Vocab vocab = args.resume ? Vocab::load(args.out_dir + "/vocab.txt")
                              : Vocab::build(train_texts, {config.train.min_count, config.train.vocab_size});
    LabelSet labels = args.resume ? LabelSet::load(args.out_dir + "/labels.txt")
                                  : LabelSet::from_examples(data.splits.train, "the training split");
    config.model.vocab_size = vocab.size();
    config.model.num_classes = labels.size();
    validate(config.model);
    EncodedSplits encoded{encode_all(data.splits.train, vocab, labels, config.model.max_len),
                          encode_all(data.splits.valid, vocab, labels, config.model.max_len),
                          encode_all(data.splits.test, vocab, labels, config.model.max_len)};
    if (log)
        fmt::print(log, "vocabulary {} tokens, {} classes ({}), data ready in {:.1f}s\n", vocab.size(), labels.size(),
                   fmt::join(labels.names(), ", "),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

    if (!args.out_dir.empty()) save_run_files(args.out_dir, config, vocab, labels);
    TrainerOptions options{args.out_dir, args.resume, log, !args.quiet};
    TrainResult result = train(config, encoded, labels.names(), options);
    // the final line, even when quiet
    if (args.quiet && result.test_accuracy >= 0) fmt::print("test accuracy {:.4f}\n", result.test_accuracy);
    return 0;
}

int run_eval(const EvalArgs& args) {
    check_threads(args.threads, "eval");
    ag::check(args.batch_size >= 1, "eval", "--batch-size must be >= 1, got {}", args.batch_size);
    ag::set_num_threads(static_cast<int>(args.threads));
    LoadedModel m = load_model(args.model_dir);
    TsvOptions tsv;
    tsv.skip_malformed = args.skip_malformed;
    LoadReport report;
    std::vector<Example> examples = read_tsv(args.file, tsv, &report);
    fmt::print("{}\n", format_report(report, examples));
    std::vector<EncodedExample> data = encode_all(examples, m.vocab, m.labels, m.config.model.max_len);
    EvalResult r = evaluate(*m.model, data, args.batch_size, m.labels.size());
    fmt::print("loss {:.4f}\n{}", r.loss, format_confusion_report(r.confusion, m.labels.names()));
    return 0;
}

int run_predict(const PredictArgs& args) {
    check_threads(args.threads, "predict");
    ag::check(args.top_k >= 1, "predict", "--top-k must be >= 1, got {}", args.top_k);
    ag::set_num_threads(static_cast<int>(args.threads));
    LoadedModel m = load_model(args.model_dir);
    const int64_t K = m.labels.size(), top_k = std::min(args.top_k, K), max_len = m.config.model.max_len;

    // the texts: the arguments, else stdin's non-empty lines
    std::vector<std::string> texts = args.texts;
    if (texts.empty())
        for (std::string line; std::getline(std::cin, line);)
            if (!line.empty()) texts.push_back(line);
    ag::check(!texts.empty(), "predict", "no text to classify (give TEXT arguments or lines on stdin)");

    ag::NoGradGuard no_grad;
    std::vector<EncodedExample> data;
    for (const std::string& text : texts) data.push_back({encode_text(m.vocab, text, max_len), 0});
    for (size_t i = 0; i < data.size(); ++i) {
        const int64_t index = static_cast<int64_t>(i);
        Batch batch = make_batch(data, std::span<const int64_t>(&index, 1));
        ag::Tensor attention;
        ag::Tensor probs = ag::softmax(m.model->forward(batch.input, i == 0 && !args.explain_svg.empty() ? &attention : nullptr));
        std::vector<int64_t> order(static_cast<size_t>(K));
        std::iota(order.begin(), order.end(), 0);
        const float* p = probs.data();
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
        std::string top;
        for (int64_t k = 0; k < top_k; ++k)
            top += fmt::format("{}{} {:.4f}", k ? ", " : "", m.labels.name(order[size_t(k)]), p[order[size_t(k)]]);
        fmt::print("{}\t{}\t{}\n", m.labels.name(order[0]), top, texts[i]);

        // --explain: the first text's attention over its tokens
        if (attention.defined()) {
            std::vector<std::string> tokens = tokenize(texts[i], static_cast<size_t>(max_len));
            if (tokens.empty()) tokens = {"<unk>"};
            for (std::string& token : tokens)
                if (m.vocab.id(token) == Vocab::kUnk) token += " (unk)";
            write_text_file(args.explain_svg,
                            attention_svg(tokens, attention.to_vector(),
                                          fmt::format("\"{}\" -> {} ({:.3f})", texts[i].substr(0, 60),
                                                      m.labels.name(order[0]), p[order[0]])),
                            "predict");
        }
    }
    return 0;
}

BenchResult bench(const BenchArgs& args) {
    check_threads(args.threads, "bench");
    ag::check(args.steps >= 1, "bench", "--steps must be >= 1, got {}", args.steps);
    ag::check(args.warmup >= 0, "bench", "--warmup must be >= 0, got {}", args.warmup);
    ag::set_num_threads(static_cast<int>(args.threads));

    // the benchmark config (ANCHORS.md), as bench/torch_twin.py builds it
    constexpr int64_t kBatch = 32, kSeq = 64, kPadTail = 16, kClasses = 4;
    ModelConfig config;  // the defaults are the benchmark config: V 8000, C 128, H 4, 1 layer, T 64, dropout 0.1
    config.num_classes = kClasses;
    ag::Generator gen(0), data_gen(1);
    TextClassifier model(config, gen);
    ag::Adam optimizer(model.parameters(), ag::AdamOptions{});

    // one fixed synthetic batch: ids in [1, V), the last 16 positions padding, random labels
    std::vector<EncodedExample> data(kBatch);
    for (EncodedExample& e : data) {
        for (int64_t t = 0; t < kSeq - kPadTail; ++t)
            e.ids.push_back(static_cast<int32_t>(1 + data_gen.next_below(static_cast<uint64_t>(config.vocab_size - 1))));
        e.label = static_cast<int64_t>(data_gen.next_below(kClasses));
    }
    std::vector<int64_t> all(kBatch);
    std::iota(all.begin(), all.end(), 0);
    const Batch batch = make_batch(data, all, kSeq);

    // one step = zero_grad, forward, loss, backward, Adam step (as the twin's)
    auto step = [&] {
        optimizer.zero_grad();
        ag::Tensor loss = ag::cross_entropy(model.forward(batch.input), batch.labels);
        loss.backward();
        optimizer.step();
    };
    for (int64_t i = 0; i < args.warmup; ++i) step();
    // wall time, as the twin measures; and CPU time, which a loaded machine does not inflate
    std::vector<double> ms, cpu_ms;
    for (int64_t i = 0; i < args.steps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = process_cpu_ms();
        step();
        cpu_ms.push_back(process_cpu_ms() - c0);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }

    // the median, as the twin reports it (the machines are shared and noisy)
    BenchResult r;
    r.ms_per_step_mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
    r.ms_per_step = median(ms);
    r.cpu_ms_per_step = median(cpu_ms);
    r.samples_per_s = static_cast<double>(kBatch) * 1e3 / r.ms_per_step;
    r.peak_rss_mb = peak_rss_mb();
    return r;
}

int run_bench(const BenchArgs& args) {
    BenchResult r = bench(args);
    if (args.json) {
        fmt::print("{{\"framework\": \"attograd\", \"mode\": \"train\", \"threads\": {}, \"steps\": {}, "
                   "\"ms_per_step\": {:.3f}, \"ms_per_step_mean\": {:.3f}, \"samples_per_s\": {:.1f}, "
                   "\"cpu_ms_per_step\": {:.3f}, \"peak_rss_mb\": {:.1f}}}\n",
                   args.threads, args.steps, r.ms_per_step, r.ms_per_step_mean, r.samples_per_s, r.cpu_ms_per_step,
                   r.peak_rss_mb);
        return 0;
    }
    fmt::print("attograd, benchmark config (B=32 T=64 C=128 H=4 V=8000 K=4), mode train, {} timed steps\n", args.steps);
    fmt::print("{:>7}  {:>18}  {:>8}  {:>10}  {:>12}  {:>11}\n", "threads", "ms/step (median)", "mean", "samples/s",
               "CPU ms/step", "peak RSS MB");
    fmt::print("{:>7}  {:>18.2f}  {:>8.2f}  {:>10.1f}  {:>12.2f}  {:>11.1f}\n", args.threads, r.ms_per_step,
               r.ms_per_step_mean, r.samples_per_s, r.cpu_ms_per_step, r.peak_rss_mb);
    return 0;
}

}  // namespace textclf
