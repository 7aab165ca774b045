// Accuracy of a planned model on a labelled dataset, and its agreement with a reference run
// (`softdpu eval`, the `--precision auto` search, docs/precision.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "softdpu/session.h"

namespace softdpu::eval {

// The model's first output for every sample: rows x classes scores (logits or probabilities).
struct Predictions {
  int64_t rows = 0;
  int64_t classes = 0;
  std::vector<float> scores;
  const float* row(int64_t i) const { return scores.data() + i * classes; }
};

struct RunOptions {
  int64_t batch = 100;  // samples per run (the tail runs at its own batch size)
  int threads = 1;
  // Called after every batch with (samples done, total): progress bars.
  std::function<void(int64_t, int64_t)> on_progress;
};

// Plans `session` with `plan` (its batch replaced by opt.batch and then by the tail size) and
// runs it over the whole dataset. The dataset's unnamed input ("") binds to the model's only
// input. Throws Error naming the input or output that does not fit (element count per sample,
// dtype, an output that is not [batch, classes]). *stats receives the plan's statistics.
Predictions predict(Session& session, PlanOptions plan, const data::Dataset& dataset,
                    const RunOptions& opt, PlanStats* stats = nullptr);

struct Scores {
  double top1 = 0;       // % of samples whose argmax equals the label
  double agreement = 0;  // % of samples whose argmax equals the reference's argmax
  double kl = 0;         // mean KL(reference || this) of the class distributions, in nats
};

// Scores p against labels and a reference (the FP32 run). Scores are turned into distributions
// with a softmax unless the reference rows already are distributions (non-negative, summing to
// 1), in which case both are used as they are.
Scores score(const Predictions& p, const Predictions& reference,
             const std::vector<int64_t>& labels);

int64_t argmax(const float* row, int64_t n);

}  // namespace softdpu::eval
