// svg.hpp: the pictures a run leaves behind, as hand-written SVG (plain text, no library).
//
//   curves.svg      two panels over the epochs: loss (train, valid) and accuracy (train, valid)
//   confusion.svg   a K x K grid of squares, darker for more examples, the count written in each
//   explain.svg     the attention weights of one text: row i = how token i spreads its attention
//                   over the tokens (columns); under it, the attention each token receives on average
// SVG is XML: every text written into it (labels, tokens) is escaped (& < > " ').
#pragma once

#include "metrics.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace textclf {

/// `text` with the five XML special characters escaped.
std::string xml_escape(std::string_view text);
/// The loss and accuracy curves of `epochs` (NaN validation values are left out).
std::string curves_svg(const std::vector<EpochMetrics>& epochs);
/// The confusion matrix as a heatmap, rows true classes, columns predictions.
std::string confusion_svg(const Confusion& confusion, const std::vector<std::string>& labels, std::string_view title);
/// The T x T attention weights (row-major, rows sum to 1) over `tokens`, titled with the prediction.
std::string attention_svg(const std::vector<std::string>& tokens, const std::vector<float>& weights,
                          std::string_view title);

}  // namespace textclf
