#include "eval/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "softdpu/status.h"

namespace softdpu::eval {
namespace {

// The dataset array an input of the model reads.
const Tensor& dataset_input(const data::Dataset& d, const ValueInfo& in, size_t model_inputs) {
  auto it = d.inputs.find(in.name);
  if (it != d.inputs.end()) return it->second;
  it = d.inputs.find("");
  if (it != d.inputs.end() && model_inputs == 1) return it->second;
  throw Error(StatusCode::kInvalidArgument,
              "dataset " + d.name + " has no array for model input '" + in.name + "' (expected " +
                  in.name + ".npy" + (model_inputs == 1 ? " or inputs.npy" : "") + ")",
              in.name);
}

// Runs one planned batch of `count` samples starting at `begin`; appends the first output's rows.
void run_batch(Session& s, const data::Dataset& d, int64_t begin, int64_t count, Predictions* out) {
  std::vector<ConstTensorView> in;
  for (const ValueInfo& vi : s.inputs()) {
    const Tensor& all = dataset_input(d, vi, s.inputs().size());
    if (all.dtype() != vi.dtype) {
      throw Error(StatusCode::kInvalidArgument,
                  "input '" + vi.name + "': the model expects " + dtype_name(vi.dtype) +
                      ", the dataset holds " + dtype_name(all.dtype()),
                  vi.name);
    }
    in.push_back(data::sample_view(all, begin, count, vi.shape, vi.name));
  }
  std::vector<Tensor> outs;
  std::vector<TensorView> views;
  for (const ValueInfo& vi : s.outputs()) {
    outs.emplace_back(vi.dtype, vi.shape);
    views.push_back({vi.dtype, vi.shape, outs.back().data()});
  }
  Status st = s.run(in, views);
  if (!st) throw Error(st.code(), st.message());
  const ValueInfo& o = s.outputs().front();
  if (o.dtype != DType::kFloat32 || o.shape.empty() || o.shape[0] != count ||
      shape_numel(o.shape) != count * o.shape.back()) {
    throw Error(StatusCode::kInvalidArgument,
                "output '" + o.name + "' must be float32 [batch, classes] to score it, got " +
                    dtype_name(o.dtype) + " " + shape_to_string(o.shape),
                o.name);
  }
  if (out->classes == 0) out->classes = o.shape.back();
  const float* p = outs.front().data_as<float>();
  out->scores.insert(out->scores.end(), p, p + count * out->classes);
  out->rows += count;
}

// log of the class distribution of one row: log-softmax, or log of the values themselves.
void log_distribution(const float* row, int64_t n, bool already_probabilities, double* out) {
  if (already_probabilities) {
    for (int64_t i = 0; i < n; ++i) out[i] = std::log(std::max<double>(row[i], 1e-30));
    return;
  }
  double mx = row[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max<double>(mx, row[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(row[i] - mx);
  const double lse = mx + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = row[i] - lse;
}

bool rows_are_distributions(const Predictions& p) {
  for (int64_t r = 0; r < p.rows; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < p.classes; ++i) {
      if (p.row(r)[i] < 0) return false;
      sum += p.row(r)[i];
    }
    if (std::fabs(sum - 1.0) > 1e-3) return false;
  }
  return p.rows > 0;
}

}  // namespace

int64_t argmax(const float* row, int64_t n) {
  return std::max_element(row, row + n) - row;
}

Predictions predict(Session& session, PlanOptions plan, const data::Dataset& dataset,
                    const RunOptions& opt, PlanStats* stats) {
  Predictions out;
  const int64_t n = dataset.size();
  const int64_t batch = std::max<int64_t>(1, std::min(opt.batch, n));
  plan.threads = opt.threads;
  int64_t planned = -1;
  for (int64_t begin = 0; begin < n; begin += batch) {
    const int64_t count = std::min(batch, n - begin);
    if (count != planned) {
      plan.batch = count;
      Status st = session.plan(plan);
      if (!st) throw Error(st.code(), st.message());
      if (stats && planned < 0) *stats = session.stats();
      planned = count;
    }
    run_batch(session, dataset, begin, count, &out);
    if (opt.on_progress) opt.on_progress(begin + count, n);
  }
  return out;
}

Scores score(const Predictions& p, const Predictions& reference,
             const std::vector<int64_t>& labels) {
  if (p.rows != reference.rows || p.classes != reference.classes ||
      p.rows != static_cast<int64_t>(labels.size())) {
    throw Error(StatusCode::kInternal, "score: predictions, reference and labels differ in size");
  }
  Scores s;
  if (p.rows == 0) return s;
  const bool probabilities = rows_are_distributions(reference);
  std::vector<double> lp(p.classes), lq(p.classes);
  int64_t correct = 0, agree = 0;
  double kl = 0;
  for (int64_t r = 0; r < p.rows; ++r) {
    const int64_t top = argmax(p.row(r), p.classes);
    correct += top == labels[r];
    agree += top == argmax(reference.row(r), reference.classes);
    log_distribution(reference.row(r), p.classes, probabilities, lp.data());
    log_distribution(p.row(r), p.classes, probabilities, lq.data());
    double row_kl = 0;
    for (int64_t i = 0; i < p.classes; ++i) row_kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    kl += row_kl;
  }
  s.top1 = 100.0 * correct / p.rows;
  s.agreement = 100.0 * agree / p.rows;
  s.kl = kl / p.rows;
  return s;
}

}  // namespace softdpu::eval
