// progress.cpp: the progress bar (see progress.hpp).
#include "progress.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <string>
#include <unistd.h>

namespace textclf {

ProgressBar::ProgressBar(std::FILE* out, bool live, bool enabled) : out_(out), live_(live), enabled_(enabled) {}

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::start(int64_t epoch, int64_t epochs, int64_t total) {
    epoch_ = epoch, epochs_ = epochs, total_ = std::max<int64_t>(total, 1);
    next_quarter_ = 1;
    start_ = last_draw_ = std::chrono::steady_clock::now();
}

void ProgressBar::update(int64_t done, double loss, double accuracy) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (live_) {
        // redraw at most every 100 ms, and always at the end
        if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        draw(done, loss, accuracy);
    } else if (done * 4 >= total_ * next_quarter_ && next_quarter_ < 4) {
        // plain lines at 25%, 50%, 75% (the trainer prints the epoch's end)
        while (done * 4 >= total_ * next_quarter_) ++next_quarter_;
        draw(done, loss, accuracy);
    }
}

void ProgressBar::draw(int64_t done, double loss, double accuracy) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    const int percent = static_cast<int>(100 * done / total_);
    std::string text = fmt::format("epoch {}/{}", epoch_, epochs_);
    if (live_) {
        constexpr int kWidth = 24;
        const int filled = kWidth * percent / 100;
        text = fmt::format("\r{} [{}{}{}] {:3}%", text, std::string(static_cast<size_t>(filled), '='),
                           filled < kWidth ? ">" : "", std::string(static_cast<size_t>(std::max(0, kWidth - filled - 1)), ' '),
                           percent);
    } else {
        text += fmt::format("  {:3}%", percent);
    }
    text += fmt::format("  loss {:.4f}  acc {:.4f}  {:.0f} samples/s  ETA {:.0f}s", loss, accuracy, rate, eta);
    fmt::print(out_, "{}{}", text, live_ ? "\x1b[K" : "\n");  // \x1b[K clears what a longer line left
    std::fflush(out_);
}

void ProgressBar::finish() {
    if (enabled_ && live_) {
        fmt::print(out_, "\r\x1b[K");
        std::fflush(out_);
    }
}

}  // namespace textclf
