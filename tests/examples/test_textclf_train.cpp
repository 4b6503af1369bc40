// Tests of textclf's training (examples/text_classifier/trainer, model, checkpoint, commands):
// it learns the tiny corpus, a resumed run ends bitwise where an uninterrupted one does, the
// thread count does not change a single bit, and a checkpoint loads back to the same predictions.
// The models are small (d_model 32) so that the whole file runs in a few seconds.
#include "temp_dir.hpp"
#include "testing.hpp"

#include "examples/text_classifier/batcher.hpp"
#include "examples/text_classifier/checkpoint.hpp"
#include "examples/text_classifier/commands.hpp"
#include "examples/text_classifier/corpus.hpp"
#include "examples/text_classifier/trainer.hpp"

#include "core/autograd.hpp"
#include "core/parallel.hpp"
#include "core/safetensors.hpp"

#include <cstring>
#include <filesystem>
#include <numeric>
#include <unistd.h>

namespace fs = std::filesystem;
namespace tc = textclf;

using ag::testing::check_same_tensors;
using ag::testing::TempDir;

namespace {


// A small model on the tiny corpus, as `textclf train --data tiny ... -q` would run it.
tc::TrainArgs small_run(int64_t epochs, const std::string& out_dir) {
    tc::TrainArgs args;
    args.config.train.data = "tiny";
    args.config.train.epochs = epochs;
    args.config.train.patience = 0;
    args.config.train.seed = 7;
    args.config.model.d_model = 32;
    args.config.model.heads = 2;
    args.config.model.max_len = 24;
    args.config.model.ff_dim = 16;  // exercise the feed-forward block too
    args.out_dir = out_dir;
    args.quiet = true;
    return args;
}

// The tiny corpus split, with a vocabulary and labels, encoded (what run_train does).
struct TinyData {
    tc::EncodedSplits splits;
    std::vector<std::string> labels;
    int64_t vocab_size = 0;
    tc::Vocab vocab;
};
TinyData tiny_data(int64_t max_len) {
    tc::Splits s = tc::split_examples(tc::tiny_corpus(), 3);
    std::vector<std::string> texts;
    for (const tc::Example& e : s.train) texts.push_back(e.text);
    tc::Vocab vocab = tc::Vocab::build(texts);
    tc::LabelSet labels = tc::LabelSet::from_examples(s.train, "tiny");
    auto encode = [&](const std::vector<tc::Example>& examples) {
        std::vector<tc::EncodedExample> out;
        std::vector<int64_t> ids = labels.ids(examples);
        for (size_t i = 0; i < examples.size(); ++i) out.push_back({tc::encode_text(vocab, examples[i].text, max_len), ids[i]});
        return out;
    };
    return {{encode(s.train), encode(s.valid), encode(s.test)}, labels.names(), vocab.size(), vocab};
}

tc::RunConfig tiny_config(const TinyData& data, int64_t epochs) {
    tc::RunConfig c;
    c.model.vocab_size = data.vocab_size;
    c.model.num_classes = static_cast<int64_t>(data.labels.size());
    c.model.d_model = 32, c.model.heads = 2, c.model.max_len = 24;
    c.train.epochs = epochs;
    c.train.lr = 3e-3;
    c.train.seed = 11;
    return c;
}

// The metrics lines without the timings (which differ from run to run).
std::vector<tc::EpochMetrics> learned(std::vector<tc::EpochMetrics> metrics) {
    for (tc::EpochMetrics& m : metrics) m.seconds = m.samples_per_s = 0;
    return metrics;
}
// Bitwise equal records (NaN included).
bool same(const std::vector<tc::EpochMetrics>& a, const std::vector<tc::EpochMetrics>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(tc::EpochMetrics) * a.size()) == 0;
}

}  // namespace

TEST_CASE("textclf train: the tiny corpus is learned (loss falls, accuracy beats chance)") {
    TinyData data = tiny_data(24);
    tc::TrainerOptions quiet{"", false, nullptr, false};
    tc::TrainResult r = tc::train(tiny_config(data, 8), data.splits, data.labels, quiet);
    REQUIRE(r.metrics.size() == 8);
    // 4 balanced classes: chance is 0.25 and the initial loss about ln 4 = 1.386
    CHECK(r.metrics.back().train_loss < 0.5 * r.metrics.front().train_loss);
    CHECK(r.metrics.back().train_acc > 0.9);
    CHECK(r.metrics.back().valid_acc > 0.5);
    CHECK(r.test_accuracy > 0.5);
}

TEST_CASE("textclf train: the same seed gives the same loss curve with 1 and 2 threads") {
    TinyData data = tiny_data(24);
    tc::TrainerOptions quiet{"", false, nullptr, false};
    const int before = ag::num_threads();
    ag::set_num_threads(1);
    tc::TrainResult one = tc::train(tiny_config(data, 3), data.splits, data.labels, quiet);
    ag::set_num_threads(2);
    tc::TrainResult two = tc::train(tiny_config(data, 3), data.splits, data.labels, quiet);
    ag::set_num_threads(before);
    REQUIRE(one.metrics.size() == 3);
    CHECK(same(learned(one.metrics), learned(two.metrics)));
    CHECK(one.test_accuracy == two.test_accuracy);
    // and a different seed does change it (the comparison above can fail)
    tc::RunConfig other = tiny_config(data, 3);
    other.train.seed = 12;
    tc::TrainResult three = tc::train(other, data.splits, data.labels, quiet);
    CHECK_FALSE(same(learned(one.metrics), learned(three.metrics)));
}

TEST_CASE("textclf train: --resume after epoch 1 ends bitwise where 3 uninterrupted epochs end") {
    TempDir whole, split;
    REQUIRE(tc::run_train(small_run(3, whole.dir().string())) == 0);
    // stop after one epoch, then continue the same run to 3 epochs
    REQUIRE(tc::run_train(small_run(1, split.dir().string())) == 0);
    tc::TrainArgs more = small_run(3, split.dir().string());
    more.resume = true;
    REQUIRE(tc::run_train(more) == 0);

    check_same_tensors(whole.path("resume.safetensors"), split.path("resume.safetensors"));  // weights, Adam, RNG states
    check_same_tensors(whole.path("model.safetensors"), split.path("model.safetensors"));    // the best weights
    std::vector<tc::EpochMetrics> a, b;
    auto read = [](const std::string& path) {
        std::vector<tc::EpochMetrics> out;
        std::string text = tc::read_text_file(path, "test");
        for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
            out.push_back(tc::from_json_line(text.substr(at, end - at)));
        return out;
    };
    a = read(whole.path("metrics.jsonl")), b = read(split.path("metrics.jsonl"));
    REQUIRE(a.size() == 3);
    CHECK(same(learned(a), learned(b)));
}

TEST_CASE("textclf checkpoint: save then load gives the same predictions") {
    TempDir dir;
    TinyData data = tiny_data(24);
    tc::RunConfig config = tiny_config(data, 0);
    config.model.layers = 2;
    config.model.ff_dim = 8;
    ag::Generator gen(5);
    tc::TextClassifier sized(config.model, gen);
    sized.eval();
    const tc::Vocab& vocab = data.vocab;
    tc::save_run_files(dir.dir().string(), config, vocab, tc::LabelSet::from_names(data.labels, "test"));
    tc::save_weights(dir.dir().string(), sized);

    tc::LoadedModel loaded = tc::load_model(dir.dir().string());
    CHECK(loaded.vocab.size() == vocab.size());
    CHECK(loaded.labels.names() == data.labels);
    CHECK(loaded.config.model.layers == 2);
    std::vector<int64_t> first(10);
    std::iota(first.begin(), first.end(), 0);
    tc::Batch batch = tc::make_batch(data.splits.test, first);
    ag::NoGradGuard no_grad;
    ag::Tensor expected = sized.forward(batch.input), got = loaded.model->forward(batch.input);
    REQUIRE(expected.shape() == got.shape());
    CHECK(expected.to_vector() == got.to_vector());
    // a fresh model of the same seed is different: the comparison can fail
    ag::Generator other_gen(6);
    tc::TextClassifier other(config.model, other_gen);
    other.eval();
    CHECK(other.forward(batch.input).to_vector() != expected.to_vector());

    // a config that does not match the files is an error naming both
    tc::RunConfig wrong = config;
    wrong.model.vocab_size += 1;
    tc::write_text_file(dir.path("config.json"), tc::to_json(wrong), "test");
    CHECK(ag::testing::error_of([&] { tc::load_model(dir.dir().string()); }).find("vocab.txt has") != std::string::npos);
}

TEST_CASE("textclf batch: padding, masks and mean-pool weights") {
    std::vector<tc::EncodedExample> data{{{5, 6, 7}, 1}, {{9}, 0}};
    std::vector<int64_t> both{0, 1};
    tc::Batch b = tc::make_batch(data, both);
    CHECK(b.input.ids.to_vector() == std::vector<float>{5, 6, 7, 9, 0, 0});
    CHECK(b.input.padding.to_vector() == std::vector<float>{0, 0, 0, 0, 1, 1});
    CHECK(b.input.pool.to_vector() == std::vector<float>{1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 1, 0, 0});
    CHECK(b.labels.to_vector() == std::vector<float>{1, 0});
    CHECK(tc::make_batch(data, both, 5).input.ids.size(1) == 5);
    // every index appears once per epoch, bucketed or not
    std::vector<tc::EncodedExample> many(70, {{1}, 0});
    ag::Generator gen(1);
    for (bool bucketing : {false, true}) {
        std::vector<int64_t> seen;
        for (const auto& batch : tc::epoch_batches(many, 32, true, bucketing, gen)) seen.insert(seen.end(), batch.begin(), batch.end());
        std::sort(seen.begin(), seen.end());
        std::vector<int64_t> all(70);
        std::iota(all.begin(), all.end(), 0);
        CHECK(seen == all);
    }
}
