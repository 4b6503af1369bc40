// random.hpp: a counter-based random generator (Philox4x32-10) with an explicit, saveable state.
//
// Philox maps (key, counter) to four random 32-bit words with no hidden state: the i-th number a
// call draws depends only on (seed, offset + i). So a tensor fills identically whatever the thread
// count, dropout can regenerate its mask in backward instead of storing it, and a checkpoint that
// saves (seed, offset) resumes the exact same stream.
//   Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011.
#pragma once

#include <array>
#include <cstdint>

namespace ag {

/// Philox4x32-10 on a full 128-bit counter and 64-bit key (the published form; see its tests).
std::array<uint32_t, 4> philox4x32_block(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);
/// Philox4x32-10: four random words for (key, counter), the counter's high 64 bits zero.
inline std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter) {
    return philox4x32_block({static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0},
                            {static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)});
}

/// A 32-bit word to a float uniform in [0, 1) (its top 24 bits, so every value is exact).
inline float uniform01(uint32_t word) { return static_cast<float>(word >> 8) * (1.0f / 16777216.0f); }

/// A seeded stream of Philox blocks. Every draw advances `offset` by the blocks it used.
class Generator {
public:
    /// A stream starting at block 0 of `seed`.
    explicit Generator(uint64_t seed = 0) : seed_(seed) {}

    /// The seed the stream was started from.
    uint64_t seed() const { return seed_; }
    /// Number of 4-word blocks drawn so far.
    uint64_t offset() const { return offset_; }
    /// Restores a state saved from seed() and offset().
    void set_state(uint64_t seed, uint64_t offset) { seed_ = seed, offset_ = offset; }
    /// Reserves `blocks` blocks and returns the counter of the first (for kernels that draw themselves).
    uint64_t reserve(uint64_t blocks) {
        uint64_t first = offset_;
        offset_ += blocks;
        return first;
    }

    /// out[i] uniform in [low, high): word i % 4 of block offset + i / 4.
    void fill_uniform(float* out, int64_t n, float low, float high);
    /// out[i] standard normal (Box-Muller on the block's word pairs).
    void fill_normal(float* out, int64_t n);
    /// One uniform integer in [0, n) (for shuffling); n > 0.
    uint64_t next_below(uint64_t n);

private:
    uint64_t seed_;
    uint64_t offset_ = 0;
};

}  // namespace ag
