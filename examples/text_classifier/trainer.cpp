// trainer.cpp: the training loop (see trainer.hpp).
#include "trainer.hpp"

#include "progress.hpp"
#include "svg.hpp"

#include "core/anomaly.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "ops/cross_entropy.hpp"
#include "optim/adam.hpp"
#include "optim/clip.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace textclf {

namespace {

// Index of the largest logit of each row of logits [B, K], counting those equal to the label.
int64_t count_correct(const ag::Tensor& logits, const ag::Tensor& labels, Confusion* confusion) {
    const int64_t B = logits.size(0), K = logits.size(1);
    const float* z = logits.data();
    int64_t correct = 0;
    for (int64_t b = 0; b < B; ++b) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; ++k)
            if (z[b * K + k] > z[b * K + best]) best = k;
        const auto truth = static_cast<int64_t>(labels.data()[b]);
        correct += best == truth;
        if (confusion) confusion->add(truth, best);
    }
    return correct;
}

// Seconds since `start`.
double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The shuffle generator's seed: a different stream from the model's, fixed by the run's seed.
uint64_t shuffle_seed(uint64_t seed) { return seed ^ 0x9E3779B97F4A7C15ull; }

// Throws when the loss or a gradient of this step holds a NaN or an infinity, before the optimizer
// turns it into weights. Nothing of the epoch has been saved yet, so the checkpoint on disk stays
// the last good one (that of the previous epoch).
void check_step_finite(const ag::Tensor& loss, const std::vector<ag::Tensor>& params, int64_t epoch, int64_t step,
                       const TrainSettings& s, int64_t last_saved) {
    std::string what;
    if (!ag::all_finite(loss)) {
        what = fmt::format("the loss is {}", loss.item());
    } else {
        for (size_t i = 0; i < params.size() && what.empty(); ++i)
            if (params[i].grad().defined() && !ag::all_finite(params[i].grad()))
                what = fmt::format("the gradient of parameter {} is not finite", i);
    }
    if (what.empty()) return;
    const std::string kept = last_saved > 0 ? fmt::format("the checkpoint of epoch {} is kept", last_saved)
                                            : std::string("no checkpoint was written");
    ag::fail("train", "{} at epoch {} step {}; stopped, {}. Try a lower --lr (got {}) or --detect-anomaly to find the op",
             what, epoch, step, kept, s.lr);
}

}  // namespace

EvalResult evaluate(TextClassifier& model, const std::vector<EncodedExample>& data, int64_t batch_size,
                    int64_t num_classes) {
    const bool was_training = model.training();
    model.eval();
    ag::NoGradGuard no_grad;
    EvalResult result{0, 0, Confusion(num_classes)};
    ag::Generator unused;  // no shuffle: the order does not change the counts
    ag::CrossEntropyOptions sum;
    sum.reduction = ag::Reduction::Sum;
    double loss = 0;
    for (const std::vector<int64_t>& indices : epoch_batches(data, batch_size, false, true, unused)) {
        Batch batch = make_batch(data, indices);
        ag::Tensor logits = model.forward(batch.input);
        loss += ag::cross_entropy(logits, batch.labels, sum).item();
        count_correct(logits, batch.labels, &result.confusion);
    }
    model.train(was_training);
    const double n = static_cast<double>(std::max<size_t>(data.size(), 1));
    result.loss = loss / n;
    result.accuracy = result.confusion.accuracy();
    return result;
}

TrainResult train(const RunConfig& config, const EncodedSplits& data, const std::vector<std::string>& labels,
                  const TrainerOptions& options) {
    const TrainSettings& s = config.train;
    const std::string& dir = options.out_dir;
    ag::check(!data.train.empty(), "train", "the training split is empty");

    // model, optimizer and the two generators, from the seed
    TrainProgress p;
    p.model_gen = ag::Generator(s.seed);
    p.shuffle_gen = ag::Generator(shuffle_seed(s.seed));
    TextClassifier model(config.model, p.model_gen);
    ag::AdamOptions adam_options;
    adam_options.lr = s.lr;
    ag::Adam optimizer(model.parameters(), adam_options);

    // --resume: the state after the last finished epoch replaces all of the above
    if (options.resume) {
        // NOTE: the model keeps a pointer to p.model_gen, so the loaded state is assigned into it
        TrainProgress loaded = load_resume_state(dir, model, optimizer);
        p = std::move(loaded);
        if (options.log)
            fmt::print(options.log, "resuming after epoch {} of {}\n", p.epoch, s.epochs);
    }

    const bool has_valid = !data.valid.empty();
    ProgressBar bar(stderr, ProgressBar::stderr_is_terminal(), options.progress);
    for (int64_t epoch = p.epoch + 1; epoch <= s.epochs; ++epoch) {
        if (s.patience > 0 && p.bad_epochs >= s.patience) break;  // early stop (also after a resume)
        const auto start = std::chrono::steady_clock::now();
        model.train();
        bar.start(epoch, s.epochs, static_cast<int64_t>(data.train.size()));

        // one pass over the shuffled training split
        double loss_sum = 0;
        int64_t correct = 0, seen = 0, step = 0;
        for (const std::vector<int64_t>& indices : epoch_batches(data.train, s.batch_size, true, s.bucketing, p.shuffle_gen)) {
            Batch batch = make_batch(data.train, indices);
            optimizer.zero_grad();
            ag::Tensor logits = model.forward(batch.input);
            ag::Tensor loss = ag::cross_entropy(logits, batch.labels);
            loss.backward();
            check_step_finite(loss, optimizer.all_params(), epoch, ++step, s, p.epoch);
            if (s.clip > 0) ag::clip_grad_norm(optimizer.all_params(), s.clip);
            optimizer.step();
            loss_sum += static_cast<double>(loss.item()) * static_cast<double>(batch.size());
            correct += count_correct(logits.detach(), batch.labels, nullptr);
            seen += batch.size();
            bar.update(seen, loss_sum / static_cast<double>(seen), static_cast<double>(correct) / static_cast<double>(seen));
        }
        bar.finish();
        const double train_seconds = since(start);

        // validate and record the epoch
        EpochMetrics m;
        m.epoch = epoch;
        m.train_loss = loss_sum / static_cast<double>(seen);
        m.train_acc = static_cast<double>(correct) / static_cast<double>(seen);
        m.valid_loss = m.valid_acc = std::numeric_limits<double>::quiet_NaN();
        if (has_valid) {
            EvalResult v = evaluate(model, data.valid, s.batch_size, config.model.num_classes);
            m.valid_loss = v.loss, m.valid_acc = v.accuracy;
        }
        m.lr = optimizer.lr(0);
        m.seconds = since(start);
        m.samples_per_s = static_cast<double>(seen) / train_seconds;
        p.metrics.push_back(m);
        p.epoch = epoch;
        if (options.log) {
            fmt::print(options.log, "epoch {}/{}  train loss {:.4f} acc {:.4f}  valid loss {:.4f} acc {:.4f}  {:.1f}s  {:.0f} samples/s\n",
                       epoch, s.epochs, m.train_loss, m.train_acc, m.valid_loss, m.valid_acc, m.seconds, m.samples_per_s);
            std::fflush(options.log);  // a log file or pipe shows each epoch as it ends
        }

        // the best model so far: higher valid accuracy, ties broken by lower valid loss (no valid: the last)
        const bool better = !has_valid || m.valid_acc > p.best_valid_acc ||
                            (m.valid_acc == p.best_valid_acc && m.valid_loss < p.best_valid_loss);
        if (better) {
            p.best_epoch = epoch, p.best_valid_acc = has_valid ? m.valid_acc : -1.0;
            p.best_valid_loss = has_valid ? m.valid_loss : 0.0, p.bad_epochs = 0;
        } else {
            ++p.bad_epochs;
        }
        // NOTE: the order matters for a crash (SIGKILL) between two files. resume.safetensors goes last: it
        // alone is what --resume reads (weights, Adam, generators, metrics: one file, one rename), so a run
        // killed before it redoes this epoch, bit for bit, and rewrites the files before it with the same
        // contents. Written first, it could name a best epoch whose model.safetensors never got written.
        if (!dir.empty()) {
            std::string lines;
            for (const EpochMetrics& e : p.metrics) lines += to_json_line(e) + "\n";
            write_text_file(dir + "/metrics.jsonl", lines, "train");
            write_text_file(dir + "/curves.svg", curves_svg(p.metrics), "train");
            if (better) save_weights(dir, model);
            save_resume_state(dir, model, optimizer, p);
        }
    }

    TrainResult result{p.metrics, p.best_epoch};
    // a run of 0 epochs still leaves a loadable model (the initial weights)
    if (!dir.empty() && p.best_epoch == 0) save_weights(dir, model);
    const bool has_test = !data.test.empty();
    if (!has_test && !has_valid) return result;

    // score the best weights on the test split (else the validation split, for confusion.svg only)
    if (!dir.empty() && p.best_epoch > 0) model.load_state_dict(ag::load_safetensors(dir + "/model.safetensors"));
    EvalResult t = evaluate(model, has_test ? data.test : data.valid, s.batch_size, config.model.num_classes);
    if (!dir.empty())
        write_text_file(dir + "/confusion.svg",
                        confusion_svg(t.confusion, labels,
                                      fmt::format("{} split: accuracy {:.4f}", has_test ? "test" : "valid", t.accuracy)),
                        "train");
    if (!has_test) return result;
    result.test_accuracy = t.accuracy, result.test_loss = t.loss;
    if (options.log) fmt::print(options.log, "test accuracy {:.4f}\n", t.accuracy);
    return result;
}

}  // namespace textclf
