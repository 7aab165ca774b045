// `--precision auto --budget X`: picks, per weight layer, the narrowest format such that top-1
// agreement with FP32 on a calibration set drops by at most X percentage points in total.
//
// Greedy with a repair step:
//  1. Each layer alone: every other layer at fp32, candidates tried narrowest first (by
//     formats::format_bits_per_weight); the layer takes the narrowest whose agreement drop is
//     within the budget.
//  2. All layers together at their choices. While the combined drop exceeds the budget, the
//     layer whose own drop was largest moves to its next wider candidate that passed alone (or
//     fp32), and the combination is measured again.
// Layers the user pinned (layer_precision, keep_fp32) are not searched.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/evaluate.h"
#include "softdpu/session.h"

namespace softdpu::eval {

struct SearchOptions {
  double budget = 0.5;  // percentage points of top-1 agreement with FP32
  // Formats to consider; empty = default_candidates().
  std::vector<std::string> candidates;
  RunOptions run;
  // One line of progress per measurement ("layer fc1 at mxfp4_e2m1: drop 0.40").
  std::function<void(const std::string&)> log;
};

struct LayerChoice {
  std::string layer;
  std::string format;
  double alone_drop = 0;  // agreement drop with only this layer narrowed
  double bits = 32;       // information bits per weight of the format
};

struct SearchResult {
  std::vector<LayerChoice> layers;  // in the planner's layer order
  double agreement = 100;           // combined, % agreement with FP32 on the calibration set
  int measurements = 0;
  // The choice as PlanOptions::layer_precision entries (merged with the user's pins).
  std::map<std::string, std::string> layer_precision;
};

// fp32 is implicit (always allowed); the rest ordered narrowest first.
std::vector<std::string> default_candidates();

// `base` carries the user's pins; its `precision` is ignored (treated as fp32 for unpinned
// layers). Throws Error for a bad budget (negative or not finite) or an unknown candidate.
SearchResult search_precision(Session& session, const PlanOptions& base,
                              const data::Dataset& calibration, const SearchOptions& opt);

}  // namespace softdpu::eval
