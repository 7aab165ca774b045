#include "eval/precision_search.h"

#include <algorithm>
#include <cmath>

#include "formats/format.h"
#include "softdpu/status.h"

namespace softdpu::eval {
namespace {

struct Candidate {
  std::string name;
  double bits;
};

std::vector<Candidate> sorted_candidates(const std::vector<std::string>& names) {
  std::vector<Candidate> out;
  for (const std::string& n : names) {
    if (n == "fp32" || n == "auto") continue;
    out.push_back({n, formats::format_bits_per_weight(formats::parse_format(n))});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Candidate& a, const Candidate& b) { return a.bits < b.bits; });
  return out;
}

class Search {
 public:
  Search(Session& s, const PlanOptions& base, const data::Dataset& d, const SearchOptions& o)
      : session_(s), base_(base), data_(d), opt_(o) {
    base_.precision = "fp32";
    base_.use_compiled_precision = false;  // the reference is FP32, even for a .sdpu
    // The reference is plain FP32: the user's pins are part of what is measured against it.
    PlanOptions fp32 = base_;
    fp32.layer_precision.clear();
    fp32.keep_fp32.clear();
    reference_ = predict(session_, fp32, data_, opt_.run);
  }

  // Agreement (%) with FP32 when `choice` overrides the base plan.
  double agreement(const std::map<std::string, std::string>& choice) {
    PlanOptions p = base_;
    for (const auto& [layer, f] : choice) p.layer_precision[layer] = f;
    const Predictions q = predict(session_, p, data_, opt_.run);
    ++measurements_;
    return score(q, reference_, data_.labels).agreement;
  }
  int measurements() const { return measurements_; }

 private:
  Session& session_;
  PlanOptions base_;
  const data::Dataset& data_;
  const SearchOptions& opt_;
  Predictions reference_;
  int measurements_ = 0;
};

}  // namespace

std::vector<std::string> default_candidates() {
  return {"mxfp4_e2m1", "ms-fp8",     "mxfp6_e2m3", "mxfp6_e3m2",
          "ms-fp9",     "mxfp8_e4m3", "mxint8",     "bf16"};
}

SearchResult search_precision(Session& session, const PlanOptions& base,
                              const data::Dataset& calibration, const SearchOptions& opt) {
  if (!std::isfinite(opt.budget) || opt.budget < 0) {
    throw Error(StatusCode::kInvalidArgument,
                "--budget must be a non-negative number of percentage points, got " +
                    std::to_string(opt.budget));
  }
  const std::vector<Candidate> candidates =
      sorted_candidates(opt.candidates.empty() ? default_candidates() : opt.candidates);
  Search search(session, base, calibration, opt);
  auto log = [&](const std::string& line) {
    if (opt.log) opt.log(line);
  };

  // Layers to search: every eligible layer the user did not pin. keep_fp32's "first"/"last"
  // were resolved by the planner: those layers show up as fp32 in the fp32 plan too, so pins
  // are recognised by planning once with every layer at the narrowest candidate.
  std::vector<std::string> layers;
  {
    PlanOptions probe = base;
    probe.use_compiled_precision = false;
    probe.precision = candidates.empty() ? "fp32" : candidates.front().name;
    Status st = session.plan(probe);
    if (!st) throw Error(st.code(), st.message());
    for (const auto& [layer, format] : session.stats().layer_formats) {
      if (base.layer_precision.count(layer)) continue;
      if (!candidates.empty() && format != candidates.front().name) continue;  // kept fp32
      layers.push_back(layer);
    }
  }

  SearchResult result;
  for (const std::string& layer : layers) {
    LayerChoice c{layer, "fp32", 0, 32};
    for (size_t i = 0; i < candidates.size(); ++i) {
      const double drop = 100.0 - search.agreement({{layer, candidates[i].name}});
      log("layer " + layer + " at " + candidates[i].name + ": agreement drop " +
          std::to_string(drop) + " points");
      if (drop <= opt.budget) {
        // Wider formats are only needed when the combination fails: measured then, lazily.
        c = {layer, candidates[i].name, drop, candidates[i].bits};
        break;
      }
    }
    result.layers.push_back(c);
  }

  auto choice_map = [&] {
    std::map<std::string, std::string> m;
    for (const LayerChoice& c : result.layers) m[c.layer] = c.format;
    return m;
  };
  double agreement = search.agreement(choice_map());
  log("combined: agreement drop " + std::to_string(100.0 - agreement) + " points");
  while (100.0 - agreement > opt.budget) {
    // Widen the narrowed layer whose own drop is largest (ties: the narrowest format).
    LayerChoice* worst = nullptr;
    for (LayerChoice& c : result.layers) {
      if (c.format == "fp32") continue;
      if (!worst || c.alone_drop > worst->alone_drop ||
          (c.alone_drop == worst->alone_drop && c.bits < worst->bits)) {
        worst = &c;
      }
    }
    if (!worst) break;  // everything at fp32: agreement is 100 by construction
    size_t next = 0;
    while (next < candidates.size() && candidates[next].name != worst->format) ++next;
    LayerChoice widened{worst->layer, "fp32", 0, 32};
    for (size_t i = next + 1; i < candidates.size(); ++i) {
      if (candidates[i].bits <= candidates[next].bits) continue;
      const double drop = 100.0 - search.agreement({{worst->layer, candidates[i].name}});
      if (drop <= opt.budget) {
        widened = {worst->layer, candidates[i].name, drop, candidates[i].bits};
        break;
      }
    }
    log("widening " + worst->layer + ": " + worst->format + " -> " + widened.format);
    *worst = widened;
    agreement = search.agreement(choice_map());
    log("combined: agreement drop " + std::to_string(100.0 - agreement) + " points");
  }

  if (100.0 - agreement > opt.budget) {
    // Only pinned layers can be left narrowed here: every searched layer is back at fp32.
    std::string pinned;
    for (const auto& [layer, f] : base.layer_precision) {
      pinned += (pinned.empty() ? "" : ", ") + layer + "=" + f;
    }
    throw Error(StatusCode::kInvalidArgument,
                "the budget of " + std::to_string(opt.budget) +
                    " points cannot be met: with every searched layer at fp32, the layers "
                    "pinned by --layer-precision (" +
                    (pinned.empty() ? std::string("none") : pinned) +
                    ") already drop top-1 agreement by " + std::to_string(100.0 - agreement) +
                    " points; pin them wider or raise --budget");
  }
  result.agreement = agreement;
  result.measurements = search.measurements();
  result.layer_precision = base.layer_precision;
  for (const LayerChoice& c : result.layers) result.layer_precision[c.layer] = c.format;
  return result;
}

}  // namespace softdpu::eval
