// A minimal SVG line chart (no plotting library in the build): `softdpu eval --plot` draws
// accuracy against bits per weight with it, the seed's "impact of narrow precision on accuracy".
#pragma once

#include <string>
#include <vector>

namespace softdpu::eval {

struct PlotPoint {
  double x = 0, y = 0;
  std::string label;  // written beside the point
};

struct PlotSeries {
  std::string name;  // legend entry
  std::vector<PlotPoint> points;
};

struct PlotSpec {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;
  bool log2_x = true;  // bits per weight: 4, 8, 16, 32 equally spaced
};

// The whole SVG document. Axis ranges come from the data (padded); series are drawn as
// polylines through their points sorted by x.
std::string render_svg(const PlotSpec& spec);

}  // namespace softdpu::eval
