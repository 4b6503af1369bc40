// Tests of what textclf reports: the confusion matrix and its metrics (examples/text_classifier/
// metrics), metrics.jsonl lines, and the SVG files (svg), checked to be well-formed XML.
#include "testing.hpp"

#include "examples/text_classifier/metrics.hpp"
#include "examples/text_classifier/svg.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace tc = textclf;

namespace {

// A minimal XML well-formedness check: tags nest and close in order, attributes are quoted,
// and '&' starts only one of the five entities. Returns "" or what is wrong.
std::string xml_problem(const std::string& xml) {
    std::vector<std::string> open;
    size_t i = 0;
    if (xml.rfind("<?xml", 0) == 0) i = xml.find("?>") + 2;
    while (i < xml.size()) {
        if (xml[i] == '&') {
            bool entity = false;
            for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
                entity = entity || xml.compare(i, std::strlen(e), e) == 0;
            if (!entity) return "bare & at " + std::to_string(i);
            ++i;
        } else if (xml[i] == '<') {
            size_t end = xml.find('>', i);
            if (end == std::string::npos) return "unclosed tag";
            std::string tag = xml.substr(i + 1, end - i - 1);
            if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
            size_t quotes = 0;
            for (char c : tag) quotes += c == '"';
            if (quotes % 2) return "unbalanced quotes in <" + tag + ">";
            if (tag[0] == '/') {
                if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
                open.pop_back();
            } else if (tag.back() != '/') {
                open.push_back(tag.substr(0, tag.find(' ')));
            }
            i = end + 1;
        } else if (xml[i] == '>') {
            return "bare > at " + std::to_string(i);
        } else {
            ++i;
        }
    }
    return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("textclf confusion: accuracy, precision, recall and F1 of a hand-made matrix") {
    // true \ predicted   a  b  c
    //   a                3  1  0      recall a = 3/4
    //   b                2  4  0      recall b = 4/6
    //   c                0  0  0      c never occurs, never predicted: 0 and 0
    tc::Confusion c(3);
    for (int i = 0; i < 3; ++i) c.add(0, 0);
    c.add(0, 1);
    for (int i = 0; i < 2; ++i) c.add(1, 0);
    for (int i = 0; i < 4; ++i) c.add(1, 1);
    CHECK(c.total() == 10);
    CHECK(c.at(1, 0) == 2);
    CHECK(c.accuracy() == doctest::Approx(7.0 / 10));
    CHECK(c.precision(0) == doctest::Approx(3.0 / 5));  // column a: 3 + 2
    CHECK(c.precision(1) == doctest::Approx(4.0 / 5));  // column b: 1 + 4
    CHECK(c.recall(0) == doctest::Approx(3.0 / 4));
    CHECK(c.recall(1) == doctest::Approx(4.0 / 6));
    CHECK(c.precision(2) == 0.0);
    CHECK(c.recall(2) == 0.0);
    CHECK(c.f1(0) == doctest::Approx(2 * 0.6 * 0.75 / (0.6 + 0.75)));
    CHECK(c.f1(2) == 0.0);

    std::string report = tc::format_confusion_report(c, {"a", "b", "c"});
    CHECK(report.find("accuracy 0.7000 (10 examples)") != std::string::npos);
    CHECK(report.find("0.6000  0.7500") != std::string::npos);  // a's precision and recall
    CHECK(ag::testing::error_of([&] { c.add(3, 0); }).find("(3, 0)") != std::string::npos);
}

TEST_CASE("textclf metrics.jsonl: a line reads back to the same numbers, NaN as null") {
    tc::EpochMetrics m{2, 0.123456789012345, 0.75, std::numeric_limits<double>::quiet_NaN(), 0.5, 1e-3, 12.5, 3000.25};
    std::string line = tc::to_json_line(m);
    CHECK(line.find("\"epoch\": 2,") != std::string::npos);
    CHECK(line.find("\"valid_loss\": null") != std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
    tc::EpochMetrics back = tc::from_json_line(line);
    CHECK(back.epoch == 2);
    CHECK(back.train_loss == m.train_loss);
    CHECK(std::isnan(back.valid_loss));
    CHECK(back.samples_per_s == m.samples_per_s);
    CHECK(ag::testing::error_of([] { tc::from_json_line("{\"epoch\": 1}"); }).find("train_loss") != std::string::npos);
}

TEST_CASE("textclf svg: curves, confusion and attention are well-formed SVG with their elements") {
    CHECK(tc::xml_escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;");
    CHECK(xml_problem("<svg><g></svg>") != "");  // the checker itself can fail
    CHECK(xml_problem("<svg>a & b</svg>") != "");

    std::vector<tc::EpochMetrics> epochs;
    for (int e = 1; e <= 3; ++e)
        epochs.push_back({e, 1.0 / e, 0.5 + 0.1 * e, e == 2 ? NAN : 1.2 / e, 0.4 + 0.1 * e, 1e-3, 1.0, 100.0});
    std::string curves = tc::curves_svg(epochs);
    CHECK(xml_problem(curves) == "");
    CHECK(curves.find("<svg") != std::string::npos);
    CHECK(count(curves, "<polyline") == 4);  // train and valid, in the loss and accuracy panels
    CHECK(count(curves, "<circle") == 3 + 2 + 3 + 3);  // one dot per finite value: the NaN valid loss has none
    CHECK(curves.find(">loss<") != std::string::npos);
    CHECK(curves.find(">accuracy<") != std::string::npos);

    tc::Confusion c(2);
    c.add(0, 0), c.add(1, 0), c.add(1, 1);
    std::string confusion = tc::confusion_svg(c, {"<en>", "de"}, "test & more");
    CHECK(xml_problem(confusion) == "");
    CHECK(count(confusion, "<rect") == 1 + 4);  // background + one per cell
    CHECK(confusion.find("&lt;en&gt;") != std::string::npos);

    std::vector<std::string> tokens{"don't", "<", "stop"};
    std::vector<float> weights{1, 0, 0, 0.5f, 0.5f, 0, 0.2f, 0.3f, 0.5f};
    std::string attention = tc::attention_svg(tokens, weights, "\"x\" -> en");
    CHECK(xml_problem(attention) == "");
    CHECK(count(attention, "<rect") == 1 + 9 + 3);  // background, the 3 x 3 grid, the "received" row
    CHECK(attention.find("don&apos;t") != std::string::npos);
}
