// svg.cpp: curves, confusion matrix and attention heatmap as SVG text (see svg.hpp).
//
// Coordinates: SVG's y axis points down, so a value v in [lo, hi] is drawn at
//   y = top + height * (hi - v) / (hi - lo)
#include "svg.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace textclf {

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

namespace {

std::string header(int width, int height) {
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
        width, height);
}

std::string text(double x, double y, std::string_view s, std::string_view extra = "") {
    return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {}>{}</text>\n", x, y, extra, xml_escape(s));
}

// White (0) to dark blue (1), for heatmaps.
std::string blue(double v) {
    v = std::clamp(v, 0.0, 1.0);
    auto mix = [&](int from, int to) { return static_cast<int>(std::lround(from + (to - from) * v)); };
    return fmt::format("rgb({},{},{})", mix(255, 8), mix(255, 48), mix(255, 107));
}

struct Series {
    const char* name;
    const char* color;
    std::vector<double> values;  // NaN = missing
};

// One panel: axes, ticks, one polyline with dots per series, a legend.
std::string panel(double left, double top, double width, double height, std::string_view title,
                  const std::vector<Series>& series, int64_t epochs) {
    double lo = INFINITY, hi = -INFINITY;
    for (const Series& s : series)
        for (double v : s.values)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    auto x_of = [&](size_t i) { return left + (epochs <= 1 ? width / 2 : width * double(i) / double(epochs - 1)); };
    auto y_of = [&](double v) { return top + height * (hi - v) / (hi - lo); };

    std::string out = text(left, top - 10, title, "font-weight=\"bold\"");
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#888\"/>\n",
                       left, top, width, height);
    // y ticks at 0, 1/4, ... of the range; x ticks at each epoch (at most ~10 labels)
    for (int i = 0; i <= 4; ++i) {
        double v = lo + (hi - lo) * i / 4.0;
        out += text(left - 6, y_of(v) + 4, fmt::format("{:.3g}", v), "text-anchor=\"end\"");
    }
    const int64_t every = std::max<int64_t>(1, epochs / 10);
    for (int64_t e = 0; e < epochs; e += every)
        out += text(x_of(static_cast<size_t>(e)), top + height + 16, fmt::format("{}", e + 1), "text-anchor=\"middle\"");
    out += text(left + width / 2, top + height + 32, "epoch", "text-anchor=\"middle\"");

    // the series, and a legend line each
    for (size_t s = 0; s < series.size(); ++s) {
        std::string points;
        for (size_t i = 0; i < series[s].values.size(); ++i) {
            if (!std::isfinite(series[s].values[i])) continue;
            points += fmt::format("{:.1f},{:.1f} ", x_of(i), y_of(series[s].values[i]));
            out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", x_of(i),
                               y_of(series[s].values[i]), series[s].color);
        }
        if (!points.empty())
            out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", points,
                               series[s].color);
        out += text(left + width - 90, top + 16 + 16 * double(s), series[s].name,
                    fmt::format("fill=\"{}\"", series[s].color));
    }
    return out;
}

}  // namespace

std::string curves_svg(const std::vector<EpochMetrics>& epochs) {
    std::vector<double> train_loss, valid_loss, train_acc, valid_acc;
    for (const EpochMetrics& m : epochs) {
        train_loss.push_back(m.train_loss), valid_loss.push_back(m.valid_loss);
        train_acc.push_back(m.train_acc), valid_acc.push_back(m.valid_acc);
    }
    const auto n = static_cast<int64_t>(epochs.size());
    std::string out = header(900, 360);
    out += panel(70, 40, 340, 260, "loss", {{"train", "#1f77b4", train_loss}, {"valid", "#d62728", valid_loss}}, n);
    out += panel(520, 40, 340, 260, "accuracy", {{"train", "#1f77b4", train_acc}, {"valid", "#d62728", valid_acc}}, n);
    return out + "</svg>\n";
}

std::string confusion_svg(const Confusion& c, const std::vector<std::string>& labels, std::string_view title) {
    const int cell = 56, left = 110, top = 70;
    const int k = static_cast<int>(c.size());
    std::string out = header(left + cell * k + 30, top + cell * k + 50);
    out += text(10, 20, title, "font-weight=\"bold\"");
    out += text(left + cell * k / 2.0, top - 30, "predicted", "text-anchor=\"middle\"");
    out += text(10, top + cell * k + 30, "rows: true class", "");

    // shade each cell by its share of its row (the recall view), write the count on it
    for (int t = 0; t < k; ++t) {
        int64_t row = 0;
        for (int p = 0; p < k; ++p) row += c.at(t, p);
        out += text(left - 8, top + cell * t + cell / 2.0 + 4, labels[size_t(t)], "text-anchor=\"end\"");
        for (int p = 0; p < k; ++p) {
            double share = row == 0 ? 0.0 : double(c.at(t, p)) / double(row);
            out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#ccc\"/>\n",
                               left + cell * p, top + cell * t, cell, cell, blue(share));
            out += text(left + cell * p + cell / 2.0, top + cell * t + cell / 2.0 + 4, fmt::format("{}", c.at(t, p)),
                        fmt::format("text-anchor=\"middle\" fill=\"{}\"", share > 0.5 ? "white" : "black"));
        }
    }
    for (int p = 0; p < k; ++p)
        out += text(left + cell * p + cell / 2.0, top - 8, labels[size_t(p)], "text-anchor=\"middle\"");
    return out + "</svg>\n";
}

std::string attention_svg(const std::vector<std::string>& tokens, const std::vector<float>& weights,
                          std::string_view title) {
    const int n = static_cast<int>(tokens.size());
    const int cell = 22, left = 120, top = 130;
    std::string out = header(left + cell * n + 40, top + cell * (n + 2) + 40);
    out += text(10, 20, title, "font-weight=\"bold\"");
    out += text(10, 38, "row: attending token, column: attended token; bottom: mean attention received", "");

    // column labels, rotated so long tokens fit
    for (int j = 0; j < n; ++j)
        out += text(0, 0, tokens[size_t(j)],
                    fmt::format("transform=\"translate({:.1f},{}) rotate(-60)\"", left + cell * j + cell / 2.0, top - 6));
    // one row per attending token, shaded relative to the largest weight
    float most = 1e-12f;
    for (float w : weights) most = std::max(most, w);
    std::vector<double> received(size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
        out += text(left - 6, top + cell * i + cell / 2.0 + 4, tokens[size_t(i)], "text-anchor=\"end\"");
        for (int j = 0; j < n; ++j) {
            const float w = weights[size_t(i * n + j)];
            received[size_t(j)] += w / n;
            out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{:.3f}</title></rect>\n",
                               left + cell * j, top + cell * i, cell, cell, blue(w / most), w);
        }
    }
    // the bottom row: what the mean pool sees of each token through attention
    double most_received = 1e-12;
    for (double r : received) most_received = std::max(most_received, r);
    const int y = top + cell * (n + 1);
    out += text(left - 6, y + cell / 2.0 + 4, "received", "text-anchor=\"end\" font-style=\"italic\"");
    for (int j = 0; j < n; ++j)
        out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{:.3f}</title></rect>\n",
                           left + cell * j, y, cell, cell, blue(received[size_t(j)] / most_received), received[size_t(j)]);
    return out + "</svg>\n";
}

}  // namespace textclf
