// checkpoint.cpp: the run directory's files (layout in checkpoint.hpp).
#include "checkpoint.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/safetensors.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace textclf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kOp = "checkpoint";

// A key of `j` as T; throws naming the file and key when missing or of the wrong type.
template <class T>
T get(const json& j, const char* key, const std::string& source) {
    ag::check(j.contains(key), kOp, "{}: missing '{}'", source, key);
    try {
        return j.at(key).get<T>();
    } catch (const json::exception&) {
        ag::fail(kOp, "{}: '{}' has the wrong type ({})", source, key, j.at(key).dump());
    }
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) out += line + "\n";
    return out;
}

// Generator state as "seed offset" text, for safetensors metadata (strings only).
std::string gen_state(const ag::Generator& gen) { return fmt::format("{} {}", gen.seed(), gen.offset()); }
ag::Generator parse_gen_state(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    uint64_t seed = 0, offset = 0;
    ag::check(static_cast<bool>(in >> seed >> offset), kOp, "resume state: bad generator state '{}' for {}", text, key);
    ag::Generator gen;
    gen.set_state(seed, offset);
    return gen;
}

const std::string& meta(const ag::StateDict& state, const std::string& key, const std::string& path) {
    auto it = state.metadata.find(key);
    ag::check(it != state.metadata.end(), kOp, "{}: missing metadata '{}'", path, key);
    return it->second;
}

double metric(const json& j, const char* key) {
    ag::check(j.contains(key), "metrics", "metrics line has no '{}'", key);
    const json& v = j.at(key);
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    ag::check(v.is_number(), "metrics", "'{}' is not a number", key);
    return v.get<double>();
}

}  // namespace

EpochMetrics from_json_line(const std::string& line) {
    json j = json::parse(line, nullptr, false);
    ag::check(j.is_object(), "metrics", "not a JSON object: {}", line.substr(0, 80));
    EpochMetrics m;
    m.epoch = static_cast<int64_t>(metric(j, "epoch"));
    m.train_loss = metric(j, "train_loss"), m.train_acc = metric(j, "train_acc");
    m.valid_loss = metric(j, "valid_loss"), m.valid_acc = metric(j, "valid_acc");
    m.lr = metric(j, "lr"), m.seconds = metric(j, "seconds"), m.samples_per_s = metric(j, "samples_per_s");
    return m;
}

std::string to_json(const RunConfig& c) {
    json j;
    j["model"] = {{"vocab_size", c.model.vocab_size}, {"d_model", c.model.d_model},   {"heads", c.model.heads},
                  {"layers", c.model.layers},         {"ff_dim", c.model.ff_dim},     {"max_len", c.model.max_len},
                  {"num_classes", c.model.num_classes}, {"dropout", c.model.dropout}};
    const TrainSettings& t = c.train;
    j["train"] = {{"data", t.data},           {"train_file", t.train_file}, {"valid_file", t.valid_file},
                  {"test_file", t.test_file}, {"skip_malformed", t.skip_malformed}, {"epochs", t.epochs},
                  {"batch_size", t.batch_size}, {"lr", t.lr},               {"clip", t.clip},
                  {"seed", t.seed},           {"min_count", t.min_count},   {"vocab_size", t.vocab_size},
                  {"patience", t.patience},   {"bucketing", t.bucketing}};
    return j.dump(2) + "\n";
}

RunConfig run_config_from_json(const std::string& text, const std::string& source) {
    json j = json::parse(text, nullptr, false);
    ag::check(j.is_object() && j.contains("model") && j.contains("train"), kOp,
              "{}: not a textclf config (a JSON object with 'model' and 'train')", source);
    RunConfig c;
    const json &m = j["model"], &t = j["train"];
    c.model.vocab_size = get<int64_t>(m, "vocab_size", source);
    c.model.d_model = get<int64_t>(m, "d_model", source);
    c.model.heads = get<int64_t>(m, "heads", source);
    c.model.layers = get<int64_t>(m, "layers", source);
    c.model.ff_dim = get<int64_t>(m, "ff_dim", source);
    c.model.max_len = get<int64_t>(m, "max_len", source);
    c.model.num_classes = get<int64_t>(m, "num_classes", source);
    c.model.dropout = get<float>(m, "dropout", source);
    validate(c.model);
    c.train.data = get<std::string>(t, "data", source);
    c.train.train_file = get<std::string>(t, "train_file", source);
    c.train.valid_file = get<std::string>(t, "valid_file", source);
    c.train.test_file = get<std::string>(t, "test_file", source);
    c.train.skip_malformed = get<bool>(t, "skip_malformed", source);
    c.train.epochs = get<int64_t>(t, "epochs", source);
    c.train.batch_size = get<int64_t>(t, "batch_size", source);
    c.train.lr = get<double>(t, "lr", source);
    c.train.clip = get<double>(t, "clip", source);
    c.train.seed = get<uint64_t>(t, "seed", source);
    c.train.min_count = get<int64_t>(t, "min_count", source);
    c.train.vocab_size = get<int64_t>(t, "vocab_size", source);
    c.train.patience = get<int64_t>(t, "patience", source);
    c.train.bucketing = get<bool>(t, "bucketing", source);
    return c;
}

void write_text_file(const std::string& path, const std::string& content, std::string_view op) {
    ag::AtomicFile file(path, op);
    file.write(content.data(), content.size());
    file.commit();
}

std::string read_text_file(const std::string& path, std::string_view op) {
    ag::InputFile file(path, op);
    std::string content(static_cast<size_t>(file.size()), '\0');
    file.read_at(content.data(), content.size(), 0);
    return content;
}

void save_run_files(const std::string& dir, const RunConfig& config, const Vocab& vocab, const LabelSet& labels) {
    std::error_code error;
    fs::create_directories(dir, error);
    ag::check(!error, kOp, "cannot create directory {}: {}", dir, error.message());
    std::vector<std::string> tokens;
    for (int64_t i = 0; i < vocab.size(); ++i) tokens.push_back(vocab.token(i));
    write_text_file(dir + "/vocab.txt", join_lines(tokens), kOp);
    write_text_file(dir + "/labels.txt", join_lines(labels.names()), kOp);
    write_text_file(dir + "/config.json", to_json(config), kOp);
}

void save_weights(const std::string& dir, const TextClassifier& model) {
    ag::save_safetensors(dir + "/model.safetensors", model.state_dict());
}

LoadedModel load_model(const std::string& dir) {
    ag::check(fs::is_directory(dir), kOp, "model directory {} does not exist (train one with `textclf train --out {}`)",
              dir, dir);
    LoadedModel m{run_config_from_json(read_text_file(dir + "/config.json", kOp), dir + "/config.json"),
                  Vocab::load(dir + "/vocab.txt"), LabelSet::load(dir + "/labels.txt"),
                  std::make_unique<ag::Generator>(), nullptr};
    // the three files must describe the same model
    ag::check(m.vocab.size() == m.config.model.vocab_size, kOp, "{}: vocab.txt has {} tokens, config.json says {}",
              dir, m.vocab.size(), m.config.model.vocab_size);
    ag::check(m.labels.size() == m.config.model.num_classes, kOp, "{}: labels.txt has {} labels, config.json says {}",
              dir, m.labels.size(), m.config.model.num_classes);
    m.model = std::make_unique<TextClassifier>(m.config.model, *m.gen);
    // a model.safetensors of another shape: name the file (load_state_dict only knows tensor names)
    const ag::StateDict weights = ag::load_safetensors(dir + "/model.safetensors");
    try {
        m.model->load_state_dict(weights);
    } catch (const ag::Error& e) {
        ag::fail(kOp, "{}/model.safetensors does not match {}/config.json: {}", dir, dir, e.what());
    }
    m.model->eval();
    return m;
}

void save_resume_state(const std::string& dir, const TextClassifier& model, const ag::Optimizer& optimizer,
                       const TrainProgress& p) {
    ag::StateDict state;
    for (const ag::NamedTensor& t : model.state_dict().tensors) state.tensors.push_back({"model." + t.name, t.tensor});
    ag::StateDict opt = optimizer.state_dict();
    for (const ag::NamedTensor& t : opt.tensors) state.tensors.push_back({"optim." + t.name, t.tensor});
    for (const auto& [key, value] : opt.metadata) state.metadata["optim." + key] = value;
    std::vector<std::string> lines;
    for (const EpochMetrics& m : p.metrics) lines.push_back(to_json_line(m));
    state.metadata["epoch"] = fmt::format("{}", p.epoch);
    state.metadata["model_gen"] = gen_state(p.model_gen);
    state.metadata["shuffle_gen"] = gen_state(p.shuffle_gen);
    state.metadata["metrics"] = join_lines(lines);
    state.metadata["best_epoch"] = fmt::format("{}", p.best_epoch);
    state.metadata["best_valid_acc"] = ag::format_number(p.best_valid_acc);
    state.metadata["best_valid_loss"] = ag::format_number(p.best_valid_loss);
    state.metadata["bad_epochs"] = fmt::format("{}", p.bad_epochs);
    ag::save_safetensors(dir + "/resume.safetensors", state);
}

TrainProgress load_resume_state(const std::string& dir, TextClassifier& model, ag::Optimizer& optimizer) {
    const std::string path = dir + "/resume.safetensors";
    ag::check(fs::exists(path), kOp, "--resume: {} does not exist (no epoch of this run finished)", path);
    ag::StateDict state = ag::load_safetensors(path);

    // split the file back into the model's part and the optimizer's part
    ag::StateDict model_state, opt_state;
    for (ag::NamedTensor& t : state.tensors) {
        if (t.name.starts_with("model.")) model_state.tensors.push_back({t.name.substr(6), t.tensor});
        else if (t.name.starts_with("optim.")) opt_state.tensors.push_back({t.name.substr(6), t.tensor});
        else ag::fail(kOp, "{}: unexpected tensor '{}'", path, t.name);
    }
    for (const auto& [key, value] : state.metadata)
        if (key.starts_with("optim.")) opt_state.metadata[key.substr(6)] = value;
    try {
        model.load_state_dict(model_state);
        optimizer.load_state_dict(opt_state);
    } catch (const ag::Error& e) {
        ag::fail(kOp, "{} does not match {}/config.json: {}", path, dir, e.what());
    }

    TrainProgress p;
    p.epoch = ag::read_integer(state, "epoch", kOp);
    p.model_gen = parse_gen_state(meta(state, "model_gen", path), "model_gen");
    p.shuffle_gen = parse_gen_state(meta(state, "shuffle_gen", path), "shuffle_gen");
    std::istringstream lines(meta(state, "metrics", path));
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) p.metrics.push_back(from_json_line(line));
    ag::check(static_cast<int64_t>(p.metrics.size()) == p.epoch, kOp, "{}: {} metrics lines for {} epochs", path,
              p.metrics.size(), p.epoch);
    p.best_epoch = ag::read_integer(state, "best_epoch", kOp);
    p.best_valid_acc = ag::read_number(state, "best_valid_acc", kOp);
    p.best_valid_loss = ag::read_number(state, "best_valid_loss", kOp);
    p.bad_epochs = ag::read_integer(state, "bad_epochs", kOp);
    return p;
}

}  // namespace textclf
