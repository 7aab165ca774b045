#include "eval/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace softdpu::eval {
namespace {

constexpr double kWidth = 720, kHeight = 440;
constexpr double kLeft = 70, kRight = 170, kTop = 40, kBottom = 60;
const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double v, int decimals = 1) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::string render_svg(const PlotSpec& spec) {
  auto tx = [&](double x) { return spec.log2_x ? std::log2(std::max(x, 1e-9)) : x; };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const PlotSeries& s : spec.series) {
    for (const PlotPoint& p : s.points) {
      x0 = std::min(x0, tx(p.x));
      x1 = std::max(x1, tx(p.x));
      y0 = std::min(y0, p.y);
      y1 = std::max(y1, p.y);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-9) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-9) y0 -= 0.5, y1 += 0.5;
  const double ypad = 0.08 * (y1 - y0), xpad = 0.05 * (x1 - x0);
  y0 -= ypad, y1 += ypad, x0 -= xpad, x1 += xpad;
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (tx(x) - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return kTop + (1 - (y - y0) / (y1 - y0)) * ph; };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << escape(spec.title) << "</text>\n";
  // Axes, ticks and grid.
  o << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  for (int i = 0; i <= 5; ++i) {
    const double y = y0 + (y1 - y0) * i / 5;
    o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + pw << "\" y1=\"" << py(y) << "\" y2=\""
      << py(y) << "\" stroke=\"#ddd\"/>\n<text x=\"" << kLeft - 6 << "\" y=\"" << py(y) + 4
      << "\" text-anchor=\"end\">" << fmt(y, 2) << "</text>\n";
  }
  if (spec.log2_x) {
    for (int e = static_cast<int>(std::ceil(x0)); e <= static_cast<int>(std::floor(x1)); ++e) {
      const double x = std::exp2(e);
      o << "<line x1=\"" << px(x) << "\" x2=\"" << px(x) << "\" y1=\"" << kTop << "\" y2=\""
        << kTop + ph << "\" stroke=\"#ddd\"/>\n<text x=\"" << px(x) << "\" y=\"" << kTop + ph + 16
        << "\" text-anchor=\"middle\">" << fmt(x, 0) << "</text>\n";
    }
  }
  o << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << kHeight - 18 << "\" text-anchor=\"middle\">"
    << escape(spec.x_label) << "</text>\n"
    << "<text transform=\"translate(18," << kTop + ph / 2 << ") rotate(-90)\" "
    << "text-anchor=\"middle\">" << escape(spec.y_label) << "</text>\n";
  // Series.
  for (size_t si = 0; si < spec.series.size(); ++si) {
    const PlotSeries& s = spec.series[si];
    const char* colour = kColours[si % (sizeof(kColours) / sizeof(kColours[0]))];
    std::vector<PlotPoint> pts = s.points;
    std::stable_sort(pts.begin(), pts.end(),
                     [](const PlotPoint& a, const PlotPoint& b) { return a.x < b.x; });
    o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.5\" points=\"";
    for (const PlotPoint& p : pts) o << px(p.x) << "," << py(p.y) << " ";
    o << "\"/>\n";
    for (const PlotPoint& p : pts) {
      o << "<circle cx=\"" << px(p.x) << "\" cy=\"" << py(p.y) << "\" r=\"3\" fill=\"" << colour
        << "\"><title>" << escape(s.name + " " + p.label + ": " + fmt(p.y, 2))
        << "</title></circle>\n";
      if (!p.label.empty() && si == 0) {
        o << "<text x=\"" << px(p.x) + 4 << "\" y=\"" << py(p.y) - 6
          << "\" font-size=\"9\" fill=\"#555\">" << escape(p.label) << "</text>\n";
      }
    }
    const double ly = kTop + 14 + 18 * static_cast<double>(si);
    o << "<line x1=\"" << kWidth - kRight + 14 << "\" x2=\"" << kWidth - kRight + 34 << "\" y1=\""
      << ly - 4 << "\" y2=\"" << ly - 4 << "\" stroke=\"" << colour
      << "\" stroke-width=\"2\"/>\n<text x=\"" << kWidth - kRight + 40 << "\" y=\"" << ly << "\">"
      << escape(s.name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace softdpu::eval
