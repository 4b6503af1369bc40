// batcher.cpp: encoding, padding and the order of batches (see batcher.hpp).
#include "batcher.hpp"

#include "dataset.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <numeric>

namespace textclf {

std::vector<int32_t> encode_text(const Vocab& vocab, std::string_view text, int64_t max_len) {
    std::vector<int64_t> ids = vocab.encode(text, max_len);
    if (ids.empty()) return {static_cast<int32_t>(Vocab::kUnk)};
    return std::vector<int32_t>(ids.begin(), ids.end());
}

Batch make_batch(const std::vector<EncodedExample>& data, std::span<const int64_t> indices, int64_t pad_to) {
    ag::check(!indices.empty(), "batch", "a batch needs at least one example");
    const int64_t B = static_cast<int64_t>(indices.size());
    int64_t T = pad_to;
    for (int64_t i : indices) T = std::max<int64_t>(T, static_cast<int64_t>(data[static_cast<size_t>(i)].ids.size()));

    // one pass fills all four tensors; padding positions stay (id 0, padding 1, pool 0)
    Batch batch{{ag::zeros({B, T}), ag::ones({B, T}), ag::zeros({B, T})}, ag::empty({B})};
    float *ids = batch.input.ids.data(), *pad = batch.input.padding.data(), *pool = batch.input.pool.data();
    for (int64_t b = 0; b < B; ++b) {
        const EncodedExample& example = data[static_cast<size_t>(indices[static_cast<size_t>(b)])];
        const int64_t len = static_cast<int64_t>(example.ids.size());
        const float inv_len = 1.0f / static_cast<float>(len);
        for (int64_t t = 0; t < len; ++t) {
            ids[b * T + t] = static_cast<float>(example.ids[static_cast<size_t>(t)]);
            pad[b * T + t] = 0.0f;
            pool[b * T + t] = inv_len;
        }
        batch.labels.data()[b] = static_cast<float>(example.label);
    }
    return batch;
}

std::vector<std::vector<int64_t>> epoch_batches(const std::vector<EncodedExample>& data, int64_t batch_size,
                                                bool shuffle_order, bool bucketing, ag::Generator& gen) {
    ag::check(batch_size >= 1, "batch", "batch size must be >= 1, got {}", batch_size);
    std::vector<int64_t> order(data.size());
    std::iota(order.begin(), order.end(), 0);
    if (shuffle_order) shuffle(order, gen);

    // bucketing: sort each pool of 50 batches by length (stable: ties keep the shuffled order)
    if (bucketing) {
        const size_t pool = static_cast<size_t>(batch_size) * 50;
        auto length = [&](int64_t i) { return data[static_cast<size_t>(i)].ids.size(); };
        for (size_t first = 0; first < order.size(); first += pool) {
            auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), first + pool));
            std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(first), end,
                             [&](int64_t a, int64_t b) { return length(a) < length(b); });
        }
    }

    // cut into batches
    std::vector<std::vector<int64_t>> batches;
    for (size_t first = 0; first < order.size(); first += static_cast<size_t>(batch_size)) {
        size_t last = std::min(order.size(), first + static_cast<size_t>(batch_size));
        batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(first),
                             order.begin() + static_cast<std::ptrdiff_t>(last));
    }
    // NOTE: sorted pools would otherwise feed short texts first and long ones last every epoch
    if (bucketing && shuffle_order) shuffle(batches, gen);
    return batches;
}

}  // namespace textclf
