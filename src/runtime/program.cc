#include "runtime/program.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "passes/passes.h"
#include "runtime/compression.h"
#include "runtime/infer_and_fold.h"
#include "runtime/memory_plan.h"
#include "runtime/precision.h"

namespace softdpu::runtime {
namespace {

[[noreturn]] void bad_arg(const std::string& msg) {
  throw Error(StatusCode::kInvalidArgument, msg);
}

// Fixes every graph input's shape: explicit input_shapes first, else the model's shape with a
// symbolic leading dimension set to the batch size.
void bind_input_shapes(ir::Graph& g, const PlanOptions& opt) {
  for (const auto& [name, shape] : opt.input_shapes) {
    int v = g.find_value(name);
    bool is_input = false;
    for (int in : g.inputs) is_input = is_input || in == v;
    if (!is_input) bad_arg("input_shapes names '" + name + "', which is not a graph input");
  }
  for (const auto& [name, t] : opt.frozen_inputs) {
    int v = g.find_value(name);
    bool is_input = false;
    for (int in : g.inputs) is_input = is_input || in == v;
    if (!is_input) bad_arg("frozen_inputs names '" + name + "', which is not a graph input");
  }
  for (int v : g.inputs) {
    ir::Value& val = g.values[v];
    auto frozen = opt.frozen_inputs.find(val.name);
    auto given = opt.input_shapes.find(val.name);
    Shape shape;
    if (frozen != opt.frozen_inputs.end()) {
      shape = frozen->second.shape();
      if (frozen->second.dtype() != val.dtype) {
        bad_arg("frozen input '" + val.name + "' has type " + dtype_name(frozen->second.dtype()) +
                ", the model expects " + dtype_name(val.dtype));
      }
    } else if (given != opt.input_shapes.end()) {
      shape = given->second;
    } else {
      if (!val.has_shape)
        bad_arg("input '" + val.name + "' has no shape in the model: give it with input_shapes");
      shape = val.shape;
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] >= 0) continue;
        if (d == 0) {
          shape[d] = opt.batch;
        } else {
          bad_arg("input '" + val.name + "' dimension " + std::to_string(d) + " ('" +
                  (d < val.dim_names.size() ? val.dim_names[d] : "?") +
                  "') is symbolic: give the input's shape with input_shapes");
        }
      }
    }
    if (val.has_shape) {
      if (shape.size() != val.shape.size()) {
        bad_arg("input '" + val.name + "' has rank " + std::to_string(val.shape.size()) +
                " in the model, got shape " + shape_to_string(shape));
      }
      for (size_t d = 0; d < shape.size(); ++d) {
        if (val.shape[d] >= 0 && val.shape[d] != shape[d]) {
          bad_arg("input '" + val.name + "' expects shape " + shape_to_string(val.shape) +
                  ", got " + shape_to_string(shape));
        }
      }
    }
    for (int64_t d : shape) {
      if (d < 0)
        bad_arg("input '" + val.name + "' shape " + shape_to_string(shape) +
                " has a negative dimension");
    }
    val.shape = shape;
    val.has_shape = true;
    if (frozen != opt.frozen_inputs.end()) val.constant = frozen->second;
  }
  std::vector<int> remaining;
  for (int v : g.inputs) {
    if (!g.values[v].constant) remaining.push_back(v);
  }
  g.inputs = remaining;
}

ValueInfo info_of(const ir::Value& v) {
  return {v.name, v.dtype, v.shape};
}

// How many bytes of the constant input `index` of node one run reads (see
// PlanStats::weight_bytes_read). `bytes` is its stored size.
bool is_recurrent(ir::OpType op) {
  return op == ir::OpType::kLSTM || op == ir::OpType::kGRU || op == ir::OpType::kRNN;
}

size_t bytes_read_per_run(const ir::Graph& g, const ir::Node& node, size_t index, size_t bytes) {
  if (is_recurrent(node.op) && index == 2 && !node.inputs.empty() && node.inputs[0] >= 0) {
    const Shape& x = g.values[node.inputs[0]].shape;  // [seq, batch, in] or [batch, seq, in]
    const ir::Attribute* layout = node.attr("layout");
    const size_t seq_axis = layout && layout->i == 1 ? 1 : 0;
    if (x.size() == 3 && x[seq_axis] > 0) return bytes * static_cast<size_t>(x[seq_axis]);
  }
  if (node.op == ir::OpType::kGather && index == 0 && node.inputs.size() > 1 &&
      node.inputs[1] >= 0) {
    const ir::Value& data = g.values[node.inputs[0]];
    const ir::Value& indices = g.values[node.inputs[1]];
    const ir::Attribute* axis = node.attr("axis");
    const int64_t n_idx = shape_numel(indices.shape);
    if ((!axis || axis->i == 0) && !indices.constant && !data.shape.empty() && data.shape[0] > 0 &&
        n_idx >= 0 && n_idx < data.shape[0])
      return bytes / static_cast<size_t>(data.shape[0]) * static_cast<size_t>(n_idx);
  }
  return bytes;
}

// Plan statistics that depend on the graph only (arena and kernel counts are added later).
void graph_stats(const ir::Graph& g, PlanStats& st) {
  const int nv = static_cast<int>(g.values.size());
  std::vector<bool> counted(nv, false);
  size_t all_touched = 0, largest_recurrent = 0;
  for (const ir::Node& node : g.nodes) {
    st.op_counts[ir::op_name(node.op)]++;
    // A narrow layer's kernel streams its packed weights, not the fp32 constants.
    const std::vector<int> wins = weight_inputs(g, node);
    formats::WeightFormat wf;
    if (!wins.empty()) {
      wf = node_weight_format(node);
      st.layer_formats[node.name] = wf.name;
    }
    size_t node_touched = 0;
    // A compressed layer streams its compressed form (runtime/compression.h).
    const ir::Attribute* cbytes = wins.empty() ? nullptr : node.attr(kCompressedBytesAttr);
    if (cbytes) {
      st.layer_formats[node.name] = node.attr(kCompressionFormatAttr)->s;
      if (const ir::Attribute* e = node.attr(kCompressionErrorAttr))
        st.layer_compression_error[node.name] = e->f;
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int v = node.inputs[i];
      if (v < 0 || counted[v] || !g.values[v].constant) continue;
      counted[v] = true;
      const Tensor& t = *g.values[v].constant;
      size_t bytes = t.nbytes();
      std::string format = "fp32";
      const bool is_weight = std::find(wins.begin(), wins.end(), int(i)) != wins.end();
      if (is_weight && cbytes) {
        const size_t w = std::find(wins.begin(), wins.end(), int(i)) - wins.begin();
        bytes = static_cast<size_t>(cbytes->ints[w]);
        format = st.layer_formats[node.name];
      } else if (is_weight && wf.id != formats::FormatId::kFp32) {
        int64_t n = 0, k = 0;
        weight_rows_cols(node, static_cast<int>(i), t.shape(), &n, &k);
        bytes = packed_weight_bytes(wf, n, k);
        format = wf.name;
      }
      st.weight_bytes += bytes;
      const size_t read = bytes_read_per_run(g, node, i, bytes);
      st.weight_bytes_read += read;
      node_touched += std::min(read, bytes);
      st.weight_bytes_by_format[format] += bytes;
      if (dtype_is_float(t.dtype())) st.parameter_count += t.numel();
    }
    all_touched += node_touched;
    if (is_recurrent(node.op)) largest_recurrent = std::max(largest_recurrent, node_touched);
  }
  st.weight_working_set = largest_recurrent > 0 ? largest_recurrent : all_touched;
}

}  // namespace

std::unique_ptr<Program> build_program(ir::Graph model, const PlanOptions& opt) {
  if (opt.batch < 0) bad_arg("batch must not be negative, got " + std::to_string(opt.batch));
  if (opt.threads < 1) bad_arg("threads must be at least 1, got " + std::to_string(opt.threads));
  validate_precision_options(model, opt);
  validate_compression_options(model, opt);
  auto prog = std::make_unique<Program>();
  prog->graph = std::move(model);
  ir::Graph& g = prog->graph;
  bind_input_shapes(g, opt);
  infer_and_fold(g);
  if (opt.optimize) passes::optimize(g);
  ir::remove_dead_nodes(g);
  assign_weight_formats(g, opt);
  assign_compression(g, opt);

  // Strings are plan-time values only (StringNormalizer on constants).
  for (int v : g.inputs) {
    if (g.values[v].dtype == DType::kString) {
      throw Error(
          StatusCode::kUnsupported,
          "input '" + g.values[v].name +
              "' is a string tensor: softdpu handles strings only at plan time (freeze the input)");
    }
  }
  for (int v : g.inputs) prog->inputs.push_back(info_of(g.values[v]));
  for (int v : g.outputs) prog->outputs.push_back(info_of(g.values[v]));

  // Taken before the kernels free the constants they have packed.
  graph_stats(g, prog->stats);

  // Kernels. A constant every reader has released (PrepareContext::release_constant) is freed at
  // once: when the graph holds the only reference, packed weights then replace the fp32 ones
  // instead of doubling them (docs/architecture.md, "Weights live once").
  const int nsteps = static_cast<int>(g.nodes.size());
  const int nv = static_cast<int>(g.values.size());
  std::vector<size_t> scratch_bytes(nsteps, 0);
  std::vector<int> readers = ir::count_consumers(g);
  std::vector<std::vector<bool>> released(nsteps);
  for (int s = 0; s < nsteps; ++s) {
    const ir::Node& node = g.nodes[s];
    PrepareContext ctx(node, g.opset, input_descs(g, node), static_cast<int>(node.outputs.size()));
    ctx.set_threads(opt.threads);
    released[s].assign(node.inputs.size(), false);
    ctx.on_release([&, s](int i) {
      const int v = g.nodes[s].inputs[i];
      released[s][i] = true;
      if (--readers[v] == 0) g.values[v].constant.reset();
    });
    Step step;
    step.kernel = prepare_fn(node.op)(ctx);
    step.op = node.op;
    step.name = node.name;
    if (!step.kernel) {
      throw Error(StatusCode::kInternal,
                  ctx.prefix() + "no kernel for outputs known only at run time");
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      int v = node.outputs[i];
      if (v < 0) continue;
      const OutputDesc& od = ctx.outputs()[i];
      if (od.dtype != g.values[v].dtype || od.shape != g.values[v].shape) {
        throw Error(StatusCode::kInternal, ctx.prefix() + "output '" + g.values[v].name +
                                               "' changed type or shape after the graph passes");
      }
    }
    scratch_bytes[s] = ctx.scratch_bytes();
    step.in.assign(node.inputs.size(), nullptr);
    step.out.assign(node.outputs.size(), nullptr);
    prog->steps.push_back(std::move(step));
  }

  // Where each value lives.
  std::vector<int> input_index(nv, -1), output_index(nv, -1), producer(nv, -1), last_use(nv, -1);
  for (size_t i = 0; i < g.inputs.size(); ++i) input_index[g.inputs[i]] = static_cast<int>(i);
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    int v = g.outputs[i];
    if (output_index[v] < 0) output_index[v] = static_cast<int>(i);
  }
  for (int s = 0; s < nsteps; ++s) {
    for (int v : g.nodes[s].outputs) {
      if (v >= 0) producer[v] = s;
    }
    for (int v : g.nodes[s].inputs) {
      if (v >= 0) last_use[v] = s;
    }
  }
  std::vector<BufferRequest> requests;
  std::vector<int> request_value;  // -1 - step for scratch
  for (int v = 0; v < nv; ++v) {
    if (producer[v] < 0 || output_index[v] >= 0) continue;
    const ir::Value& val = g.values[v];
    size_t bytes = static_cast<size_t>(shape_numel(val.shape)) * dtype_size(val.dtype);
    requests.push_back({bytes, producer[v], std::max(producer[v], last_use[v])});
    request_value.push_back(v);
  }
  for (int s = 0; s < nsteps; ++s) {
    if (scratch_bytes[s] == 0) continue;
    requests.push_back({scratch_bytes[s], s, s});
    request_value.push_back(-1 - s);
  }
  MemoryPlan mem = plan_memory(requests);
  size_t arena_bytes = std::max<size_t>(mem.arena_bytes, 64);
  void* raw = std::aligned_alloc(64, (arena_bytes + 63) / 64 * 64);
  if (!raw) throw std::bad_alloc();
  std::memset(raw, 0, arena_bytes);
  prog->arena =
      std::shared_ptr<uint8_t>(static_cast<uint8_t*>(raw), [](uint8_t* p) { std::free(p); });
  std::vector<void*> location(nv, nullptr);
  for (size_t r = 0; r < requests.size(); ++r) {
    void* p = prog->arena.get() + mem.offsets[r];
    if (request_value[r] >= 0)
      location[request_value[r]] = p;
    else
      prog->steps[-1 - request_value[r]].scratch = p;
  }

  // Resolve kernel slots; caller buffers become bindings.
  for (int s = 0; s < nsteps; ++s) {
    Step& step = prog->steps[s];
    const ir::Node& node = g.nodes[s];
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      int v = node.inputs[i];
      if (v < 0 || released[s][i]) continue;
      if (g.values[v].constant)
        step.in[i] = g.values[v].constant->data();
      else if (input_index[v] >= 0)
        prog->bindings.push_back({s, static_cast<int>(i), false, false, input_index[v]});
      else if (output_index[v] >= 0)
        prog->bindings.push_back({s, static_cast<int>(i), false, true, output_index[v]});
      else
        step.in[i] = location[v];
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      int v = node.outputs[i];
      if (v < 0) continue;
      if (output_index[v] >= 0)
        prog->bindings.push_back({s, static_cast<int>(i), true, true, output_index[v]});
      else
        step.out[i] = location[v];
    }
  }
  for (size_t o = 0; o < g.outputs.size(); ++o) {
    int v = g.outputs[o];
    const ir::Value& val = g.values[v];
    OutputCopy c;
    c.output = static_cast<int>(o);
    c.bytes = static_cast<size_t>(shape_numel(val.shape)) * dtype_size(val.dtype);
    c.strings = val.dtype == DType::kString ? shape_numel(val.shape) : 0;
    if (output_index[v] != static_cast<int>(o))
      c.from_output = output_index[v];
    else if (val.constant)
      c.constant = val.constant->data();
    else if (input_index[v] >= 0)
      c.from_input = input_index[v];
    else
      continue;  // written by its kernel
    prog->copies.push_back(c);
  }

  prog->stats.arena_bytes = mem.arena_bytes;
  prog->stats.kernel_count = nsteps;
  prog->pool = std::make_unique<ThreadPool>(opt.threads);
  return prog;
}

void execute(Program& p, const std::vector<ConstTensorView>& inputs,
             const std::vector<TensorView>& outputs) {
  for (const Binding& b : p.bindings) {
    void* ptr = b.from_output ? outputs[b.index].data : const_cast<void*>(inputs[b.index].data);
    if (b.is_output_slot)
      p.steps[b.step].out[b.slot] = ptr;
    else
      p.steps[b.step].in[b.slot] = ptr;
  }
  if (p.step_ns.empty()) {
    for (Step& s : p.steps) {
      KernelArgs args{s.in.data(), s.out.data(), s.scratch, p.pool.get()};
      s.kernel->run(args);
    }
  } else {
    int64_t* ns = p.step_ns.data() + (p.timed_runs++ % p.step_runs) * std::ssize(p.steps);
    for (Step& s : p.steps) {
      KernelArgs args{s.in.data(), s.out.data(), s.scratch, p.pool.get()};
      const auto t0 = std::chrono::steady_clock::now();
      s.kernel->run(args);
      *ns++ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
    }
  }
  for (const OutputCopy& c : p.copies) {
    const void* src = c.constant          ? c.constant
                      : c.from_input >= 0 ? inputs[c.from_input].data
                                          : outputs[c.from_output].data;
    if (c.strings) {
      // Only string-valued constant outputs get here; assigning them may allocate (documented).
      std::copy_n(static_cast<const std::string*>(src), c.strings,
                  static_cast<std::string*>(outputs[c.output].data));
    } else if (c.bytes) {
      std::memmove(outputs[c.output].data, src, c.bytes);
    }
  }
}

}  // namespace softdpu::runtime
