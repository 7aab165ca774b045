// ONNX Einsum with numpy semantics: any number of operands, explicit ("ij,jk->ik") or implicit
// output (labels seen once, in ASCII order, after the ellipsis axes), "..." broadcasting,
// repeated labels (diagonals) and size-1 broadcasting.
//
// Evaluated as one odometer over every label (output labels outer, summed labels inner) with
// per-operand strides, so every equation is covered by one loop. This is O(product of all label
// sizes): fine for the shapes Einsum carries in exported models (small attention or bilinear
// terms), and exact; the dense GEMM path handles the heavy products (MatMul/Gemm).
#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/kernel.h"

namespace softdpu::runtime {

namespace {

constexpr int kMaxLabels = 64;

struct EinsumPlan {
  int num_labels = 0;         // letters + ellipsis axes
  int num_out = 0;            // the first num_out labels (in iteration order) are the output's
  std::vector<int64_t> size;  // per label, in iteration order
  std::vector<std::vector<int64_t>> stride;  // [operand][label]
  int64_t out_numel = 1;
};

struct Term {
  std::string letters;  // with '.' standing for the ellipsis position
  bool ellipsis = false;
};

Term parse_term(const PrepareContext& ctx, const std::string& t) {
  Term r;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 3, "...") == 0) {
      if (r.ellipsis) ctx.fail("term '" + t + "' has more than one ellipsis");
      r.ellipsis = true;
      r.letters += '.';
      i += 2;
    } else if (std::isalpha(static_cast<unsigned char>(t[i]))) {
      r.letters += t[i];
    } else {
      ctx.fail("term '" + t + "' has an invalid character '" + std::string(1, t[i]) + "'");
    }
  }
  return r;
}

template <typename T, typename Acc>
void run_einsum(const EinsumPlan& p, const KernelArgs& args, int nin) {
  const int nl = p.num_labels;
  T* y = static_cast<T*>(args.out[0]);
  int64_t counter[kMaxLabels] = {};
  int64_t off[8] = {};
  const T* x[8];
  for (int i = 0; i < nin; ++i) x[i] = static_cast<const T*>(args.in[i]);
  int64_t reduce_total = 1;
  for (int l = p.num_out; l < nl; ++l) reduce_total *= p.size[l];
  for (int64_t o = 0; o < p.out_numel; ++o) {
    Acc acc = 0;
    for (int64_t r = 0; r < reduce_total; ++r) {
      Acc prod = 1;
      for (int i = 0; i < nin; ++i) prod *= static_cast<Acc>(x[i][off[i]]);
      acc += prod;
      // Advance the innermost labels first; the output labels advance after the inner loop.
      for (int l = nl - 1; l >= p.num_out; --l) {
        for (int i = 0; i < nin; ++i) off[i] += p.stride[i][l];
        if (++counter[l] < p.size[l]) break;
        for (int i = 0; i < nin; ++i) off[i] -= p.stride[i][l] * p.size[l];
        counter[l] = 0;
      }
    }
    y[o] = static_cast<T>(acc);
    for (int l = p.num_out - 1; l >= 0; --l) {
      for (int i = 0; i < nin; ++i) off[i] += p.stride[i][l];
      if (++counter[l] < p.size[l]) break;
      for (int i = 0; i < nin; ++i) off[i] -= p.stride[i][l] * p.size[l];
      counter[l] = 0;
    }
  }
}

}  // namespace

std::unique_ptr<Kernel> prepare_Einsum(PrepareContext& ctx) {
  const int nin = ctx.num_inputs();
  if (nin < 1 || nin > 8)
    ctx.unsupported("softdpu supports 1 to 8 Einsum operands, got " + std::to_string(nin));
  const DType dt = ctx.dtype(0);
  for (int i = 0; i < nin; ++i)
    ctx.expect_dtype(i, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64});
  for (int i = 1; i < nin; ++i) {
    if (ctx.dtype(i) != dt)
      ctx.fail("operands have different types: " + std::string(dtype_name(dt)) + " and " +
               dtype_name(ctx.dtype(i)));
  }
  std::string eq;
  for (char c : ctx.attr_string("equation", "")) {
    if (!std::isspace(static_cast<unsigned char>(c))) eq += c;
  }
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t b = 0;;) {
    const size_t e = lhs.find(',', b);
    terms.push_back(
        parse_term(ctx, lhs.substr(b, e == std::string::npos ? std::string::npos : e - b)));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  if (static_cast<int>(terms.size()) != nin) {
    ctx.fail("equation '" + eq + "' has " + std::to_string(terms.size()) + " terms for " +
             std::to_string(nin) + " inputs");
  }
  // Ellipsis axes: right-aligned and broadcast across operands.
  int64_t ell_rank = 0;
  std::vector<int64_t> ell_of(nin, 0);
  for (int i = 0; i < nin; ++i) {
    const int64_t letters = static_cast<int64_t>(terms[i].letters.size()) - terms[i].ellipsis;
    const int64_t rank = static_cast<int64_t>(ctx.shape(i).size());
    if (terms[i].ellipsis ? rank < letters : rank != letters) {
      ctx.fail("term " + std::to_string(i) + " has " + std::to_string(letters) + " labels" +
               (terms[i].ellipsis ? " and an ellipsis" : "") + " but input " + std::to_string(i) +
               " has shape " + shape_to_string(ctx.shape(i)));
    }
    ell_of[i] = terms[i].ellipsis ? rank - letters : 0;
    ell_rank = std::max(ell_rank, ell_of[i]);
  }
  // Label ids: ellipsis axes are 0..ell_rank-1, letters follow in order of appearance.
  std::map<char, int> letter_id;
  std::map<char, int> letter_count;
  for (const Term& t : terms)
    for (char c : t.letters)
      if (c != '.') {
        if (!letter_id.count(c)) letter_id[c] = static_cast<int>(ell_rank + letter_id.size());
        ++letter_count[c];
      }
  const int nl = static_cast<int>(ell_rank + letter_id.size());
  if (nl > kMaxLabels) ctx.unsupported("equation '" + eq + "' has more than 64 labels");
  // Output labels.
  std::vector<int> out_ids;
  if (arrow != std::string::npos) {
    // An output without "..." sums the ellipsis axes away (numpy).
    const Term rhs = parse_term(ctx, eq.substr(arrow + 2));
    for (char c : rhs.letters) {
      if (c == '.') {
        for (int e = 0; e < ell_rank; ++e) out_ids.push_back(e);
        continue;
      }
      if (!letter_id.count(c))
        ctx.fail("output label '" + std::string(1, c) + "' appears in no input");
      if (std::find(out_ids.begin(), out_ids.end(), letter_id[c]) != out_ids.end())
        ctx.fail("output label '" + std::string(1, c) + "' appears twice");
      out_ids.push_back(letter_id[c]);
    }
  } else {
    for (int e = 0; e < ell_rank; ++e) out_ids.push_back(e);
    for (const auto& [c, n] : letter_count)  // std::map iterates in ASCII order
      if (n == 1) out_ids.push_back(letter_id[c]);
  }
  // Sizes per label id, with size-1 broadcasting.
  std::vector<int64_t> size(nl, 1);
  std::vector<std::vector<int64_t>> stride_by_id(nin, std::vector<int64_t>(nl, 0));
  for (int i = 0; i < nin; ++i) {
    const Shape& s = ctx.shape(i);
    std::vector<int64_t> elem_stride(s.size(), 1);
    for (size_t d = s.size(); d-- > 1;) elem_stride[d - 1] = elem_stride[d] * s[d];
    size_t axis = 0;
    for (char c : terms[i].letters) {
      std::vector<std::pair<int, size_t>> ids;  // (label id, axis)
      if (c == '.') {
        for (int64_t e = 0; e < ell_of[i]; ++e)
          ids.push_back({static_cast<int>(ell_rank - ell_of[i] + e), axis++});
      } else {
        ids.push_back({letter_id[c], axis++});
      }
      for (auto [id, ax] : ids) {
        const int64_t dim = s[ax];
        if (dim != 1) {
          if (size[id] != 1 && size[id] != dim) {
            ctx.fail("label dimension mismatch in '" + eq + "': input " + std::to_string(i) + " " +
                     shape_to_string(s) + " axis " + std::to_string(ax) + " is " +
                     std::to_string(dim) + ", elsewhere " + std::to_string(size[id]));
          }
          size[id] = dim;
          stride_by_id[i][id] += elem_stride[ax];  // repeated labels walk the diagonal
        }
      }
    }
  }
  // Iteration order: output labels, then the summed ones.
  std::vector<int> order = out_ids;
  for (int id = 0; id < nl; ++id)
    if (std::find(out_ids.begin(), out_ids.end(), id) == out_ids.end()) order.push_back(id);
  EinsumPlan p;
  p.num_labels = nl;
  p.num_out = static_cast<int>(out_ids.size());
  p.stride.assign(nin, std::vector<int64_t>(nl, 0));
  Shape out;
  for (int l = 0; l < nl; ++l) {
    p.size.push_back(size[order[l]]);
    for (int i = 0; i < nin; ++i) p.stride[i][l] = stride_by_id[i][order[l]];
  }
  for (int l = 0; l < p.num_out; ++l) out.push_back(p.size[l]);
  p.out_numel = shape_numel(out);
  ctx.set_output(0, dt, out);
  for (int64_t sz : p.size) {
    if (sz == 0) {  // an empty label: outputs are sums over nothing (or empty)
      return make_kernel([p, dt](const KernelArgs& args) {
        std::fill_n(static_cast<uint8_t*>(args.out[0]), p.out_numel * dtype_size(dt), 0);
      });
    }
  }
  return make_kernel([p, dt, nin](const KernelArgs& args) {
    switch (dt) {
      case DType::kFloat64: run_einsum<double, double>(p, args, nin); break;
      case DType::kInt32: run_einsum<int32_t, int64_t>(p, args, nin); break;
      case DType::kInt64: run_einsum<int64_t, int64_t>(p, args, nin); break;
      default: run_einsum<float, double>(p, args, nin); break;
    }
  });
}

}  // namespace softdpu::runtime
