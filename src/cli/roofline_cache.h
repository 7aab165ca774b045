// The roofline result `softdpu roofline` measures and caches, and what `softdpu bench --json`
// derives from it: which memory level a model's weights stream from, the achieved bandwidth and
// its fraction of that level's measured bandwidth.
//
// Cache file: $SOFTDPU_ROOFLINE if set, else $XDG_CACHE_HOME/softdpu/roofline.json, else
// $HOME/.cache/softdpu/roofline.json. It records the CPU model; a file from another CPU is ignored.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/cache_info.h"
#include "core/roofline.h"

namespace softdpu::cli {

std::string default_roofline_path();

// "model name" from /proc/cpuinfo ("unknown" if unreadable).
std::string cpu_model_name();

nlohmann::json roofline_to_json(const Roofline& r);

// Reads a cached roofline; returns false with *why set when missing, unreadable or from another
// CPU.
bool load_roofline(const std::string& path, nlohmann::json* out, std::string* why);

// Level ("L1", "L2", "L3", "DRAM") whose capacity holds a `working_set` of weight bytes for
// `threads` threads: private L1/L2 add up over threads; a level counts as holding the weights up to
// 3/4 of its size (the rest goes to activations, code and the other thread's data).
std::string weight_level(const CacheSizes& c, size_t working_set, int threads);

// This machine's cache sizes for `softdpu bench`: read_cache_sizes(), except that an L3 only known
// by its default takes the capacity a roofline measured (its caches.l3_source "measured").
CacheSizes caches_for_bench(const nlohmann::json* roofline);

// The read bandwidth a 1-thread sweep (roofline caches.l3_sweep: working_set_bytes, gb_per_s
// points in increasing size) measured at `bytes`, interpolated linearly in log(size) between the
// two points around it; negative when the sweep is empty or `bytes` lies outside it.
double sweep_gb_per_s_at(const nlohmann::json& sweep, size_t bytes);

// The bench JSON fields for weight bandwidth: weight_bytes_per_inference, achieved_gb_per_s,
// weight_level, and (with a roofline) level_gb_per_s and bandwidth_fraction. At 1 thread, when the
// roofline holds a sweep covering the weight working set, also sweep_gb_per_s_at_working_set and
// sweep_fraction: the level's figure is one point (the L3 one at 11 MiB on the Zen 5 VM), while
// the L3 read rate of that VM falls with size, so both are reported. sweep_fraction can exceed 1:
// the sweep re-reads the whole working set, while an RNN step re-reads only its recurrent matrix
// (smaller, so read faster); the sweep figure is a floor of the bandwidth at hand, the level
// point a ceiling.
nlohmann::json weight_bandwidth(size_t bytes_read, size_t working_set, double seconds, int threads,
                                const std::string& roofline_path);

}  // namespace softdpu::cli
