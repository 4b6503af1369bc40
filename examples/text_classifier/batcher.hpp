// batcher.hpp: texts -> token ids, and ids -> padded batches with their masks.
//
//   encode:  "Hello world!" -> [id(hello), id(world), id(!)]   at most max_len ids, at least one
//            (a text with no token at all becomes [<unk>], so that every row has a real position)
//   batch:   B texts padded with <pad> (id 0) to the longest of them (or to a fixed T):
//            ids [B, T], padding [B, T] (1 at pads), pool [B, T] (1/len at tokens), labels [B]
//   order:   each epoch shuffles the examples with the trainer's generator; with bucketing, the
//            shuffled examples are cut into pools of 50 batches, each pool sorted by length (so a
//            batch holds texts of similar length and little padding) and the batches shuffled.
#pragma once

#include "model.hpp"
#include "vocab.hpp"

#include "core/random.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace textclf {

/// One text as ids, with its class id.
struct EncodedExample {
    std::vector<int32_t> ids;  ///< 1..max_len token ids
    int64_t label = 0;         ///< class id (0 when unknown, e.g. for predict)
};

/// `text` as 1 to max_len ids (<unk> alone when it has no token).
std::vector<int32_t> encode_text(const Vocab& vocab, std::string_view text, int64_t max_len);

/// A padded batch: the model's input plus the labels.
struct Batch {
    ModelInput input;
    ag::Tensor labels;  ///< [B] class ids as floats
    int64_t size() const { return input.ids.size(0); }
};

/// The examples data[indices[i]] as one batch, padded to their longest text (or to pad_to if larger).
Batch make_batch(const std::vector<EncodedExample>& data, std::span<const int64_t> indices, int64_t pad_to = 0);

/// The batches of one epoch, as index lists into `n` examples (rules in the file header).
/// Draws from `gen` only when `shuffle`; the last batch may be smaller.
std::vector<std::vector<int64_t>> epoch_batches(const std::vector<EncodedExample>& data, int64_t batch_size,
                                                bool shuffle, bool bucketing, ag::Generator& gen);

}  // namespace textclf
