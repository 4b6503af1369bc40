// progress.hpp: one epoch's progress, as a live bar on a terminal or as plain lines in a log.
//
//   terminal (isatty):  epoch 2/3 [=========>          ]  48%  loss 0.1234  acc 0.9612  3051 samples/s  ETA 7s
//                       redrawn in place ("\r") at most 10 times a second, on stderr
//   otherwise (a file, a pipe, CI): a plain line at each quarter of the epoch, so logs stay short
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace textclf {

/// Reports the progress of one epoch of `total` samples.
class ProgressBar {
public:
    /// Writes to `out`; live redrawing when `live` (a terminal), plain lines otherwise; nothing when !enabled.
    ProgressBar(std::FILE* out, bool live, bool enabled);
    /// Starts epoch `epoch` of `epochs`, `total` samples.
    void start(int64_t epoch, int64_t epochs, int64_t total);
    /// `done` samples so far, with the running mean loss and accuracy.
    void update(int64_t done, double loss, double accuracy);
    /// Ends the live line (the epoch's summary is printed by the trainer).
    void finish();
    /// Whether stderr is a terminal (the default for `live`).
    static bool stderr_is_terminal();

private:
    void draw(int64_t done, double loss, double accuracy);
    std::FILE* out_;
    bool live_, enabled_;
    int64_t epoch_ = 0, epochs_ = 0, total_ = 0;
    int next_quarter_ = 1;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace textclf
