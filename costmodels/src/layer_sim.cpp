#include "hwnas/costmodels/layer_sim.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/content_hash.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/progress.hpp"
#include "hwnas/sim/analytic.hpp"
#include "hwnas/sim/cycle_sim.hpp"

namespace hwnas::costmodels {

namespace fs = std::filesystem;

const char* fidelity_name(Fidelity f) { return f == Fidelity::kCycle ? "cycle" : "analytic"; }

Fidelity parse_fidelity(const std::string& s, const std::string& where) {
  if (s == "analytic") return Fidelity::kAnalytic;
  if (s == "cycle") return Fidelity::kCycle;
  throw InputError(where, "unknown fidelity \"" + s + "\" (known: analytic, cycle)");
}

BatchSimulator default_simulator(Fidelity f) {
  if (f == Fidelity::kCycle)
    return [](const sim::ArchConfig& arch, const std::vector<sim::Layer>& layers) {
      return sim::simulate_layers_cycle(arch, layers);
    };
  return [](const sim::ArchConfig& arch, const std::vector<sim::Layer>& layers) {
    std::vector<sim::LayerStats> out;
    out.reserve(layers.size());
    for (const auto& l : layers) out.push_back(sim::simulate_layer_analytic(arch, l));
    return out;
  };
}

std::string default_simulator_version() {
  return std::string(HWNAS_VERSION) + "/model-" + std::to_string(kLayerCacheFormatVersion);
}

std::string layer_shape_key(const sim::Layer& l) {
  std::ostringstream os;
  os << "kind=" << static_cast<int>(l.kind);
  switch (l.kind) {
    case sim::LayerKind::kGemm:
      os << " m=" << l.gemm_m << " n=" << l.gemm_n << " k=" << l.gemm_k;
      break;
    case sim::LayerKind::kElementwise:
      os << " op=" << static_cast<int>(l.elementwise_op);
      [[fallthrough]];
    case sim::LayerKind::kConv2d:
      os << " h=" << l.in_h << " w=" << l.in_w << " c=" << l.in_channels << " k=" << l.out_channels
         << " r=" << l.kernel_h << " s=" << l.kernel_w << " sh=" << l.stride_h << " sw=" << l.stride_w
         << " ph=" << l.pad_h << " pw=" << l.pad_w << " dh=" << l.dilation_h << " dw=" << l.dilation_w
         << " g=" << l.groups << " round=" << static_cast<int>(l.rounding);
      break;
  }
  return os.str();
}

std::string default_cache_dir() {
  if (const char* d = std::getenv("HWNAS_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/hwnas";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/hwnas";
  return ".hwnas-cache";
}

nlohmann::json stats_to_json(const sim::LayerStats& s) {
  return {{"total_cycles", s.total_cycles},
          {"compute_cycles", s.compute_cycles},
          {"stall_cycles", s.stall_cycles},
          {"macs", s.macs},
          {"mapped_macs", s.mapped_macs},
          {"vector_ops", s.vector_ops},
          {"folds", s.folds},
          {"mapping_efficiency_pct", s.mapping_efficiency_pct},
          {"compute_util_pct", s.compute_util_pct},
          {"overall_util_pct", s.overall_util_pct},
          {"sram_ifmap_reads", s.sram_ifmap_reads},
          {"sram_filter_reads", s.sram_filter_reads},
          {"sram_ofmap_writes", s.sram_ofmap_writes},
          {"sram_ofmap_reads", s.sram_ofmap_reads},
          {"dram_ifmap_reads", s.dram_ifmap_reads},
          {"dram_filter_reads", s.dram_filter_reads},
          {"dram_ofmap_writes", s.dram_ofmap_writes},
          {"energy_mac_pj", s.energy_mac_pj},
          {"energy_sram_pj", s.energy_sram_pj},
          {"energy_dram_pj", s.energy_dram_pj},
          {"energy_vector_pj", s.energy_vector_pj},
          {"energy_leakage_pj", s.energy_leakage_pj}};
}

sim::LayerStats stats_from_json(const nlohmann::json& j) {
  sim::LayerStats s;
  s.total_cycles = j.at("total_cycles").get<std::int64_t>();
  s.compute_cycles = j.at("compute_cycles").get<std::int64_t>();
  s.stall_cycles = j.at("stall_cycles").get<std::int64_t>();
  s.macs = j.at("macs").get<std::int64_t>();
  s.mapped_macs = j.at("mapped_macs").get<std::int64_t>();
  s.vector_ops = j.at("vector_ops").get<std::int64_t>();
  s.folds = j.at("folds").get<std::int64_t>();
  s.mapping_efficiency_pct = j.at("mapping_efficiency_pct").get<double>();
  s.compute_util_pct = j.at("compute_util_pct").get<double>();
  s.overall_util_pct = j.at("overall_util_pct").get<double>();
  s.sram_ifmap_reads = j.at("sram_ifmap_reads").get<std::int64_t>();
  s.sram_filter_reads = j.at("sram_filter_reads").get<std::int64_t>();
  s.sram_ofmap_writes = j.at("sram_ofmap_writes").get<std::int64_t>();
  s.sram_ofmap_reads = j.at("sram_ofmap_reads").get<std::int64_t>();
  s.dram_ifmap_reads = j.at("dram_ifmap_reads").get<std::int64_t>();
  s.dram_filter_reads = j.at("dram_filter_reads").get<std::int64_t>();
  s.dram_ofmap_writes = j.at("dram_ofmap_writes").get<std::int64_t>();
  s.energy_mac_pj = j.at("energy_mac_pj").get<double>();
  s.energy_sram_pj = j.at("energy_sram_pj").get<double>();
  s.energy_dram_pj = j.at("energy_dram_pj").get<double>();
  s.energy_vector_pj = j.at("energy_vector_pj").get<double>();
  s.energy_leakage_pj = j.at("energy_leakage_pj").get<double>();
  return s;
}

namespace {

// A rough work estimate (array folds x fold length, or vector cycles) to balance the workers.
double estimated_work(const sim::ArchConfig& arch, const sim::Layer& l) {
  const double rows = static_cast<double>(std::max<std::int64_t>(1, arch.array_rows));
  const double cols = static_cast<double>(std::max<std::int64_t>(1, arch.array_cols));
  if (l.kind == sim::LayerKind::kElementwise) {
    const double elems = static_cast<double>(l.in_h) * l.in_w * l.in_channels * l.kernel_h * l.kernel_w;
    return 1.0 + elems / static_cast<double>(std::max<std::int64_t>(1, arch.vector_lanes));
  }
  double m, n, k, g = 1;
  if (l.kind == sim::LayerKind::kGemm) {
    m = static_cast<double>(l.gemm_m);
    n = static_cast<double>(l.gemm_n);
    k = static_cast<double>(l.gemm_k);
  } else {
    const double oh = static_cast<double>((l.in_h + 2 * l.pad_h - l.dilation_h * (l.kernel_h - 1) - 1) / l.stride_h + 1);
    const double ow = static_cast<double>((l.in_w + 2 * l.pad_w - l.dilation_w * (l.kernel_w - 1) - 1) / l.stride_w + 1);
    g = static_cast<double>(l.groups);
    m = oh * ow;
    n = static_cast<double>(l.out_channels) / g;
    k = static_cast<double>(l.kernel_h * l.kernel_w * l.in_channels) / g;
  }
  // Largest dimension over the rows, the next over the columns, the rest streams: dataflow-agnostic.
  double d[3] = {m, n, k};
  std::sort(d, d + 3);
  return 1.0 + g * std::ceil(d[2] / rows) * std::ceil(d[1] / cols) * (d[0] + rows + cols);
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      _exit(5);
    }
    off += static_cast<std::size_t>(n);
  }
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::vector<std::size_t> indices;
  std::string payload;  // everything after the progress dots
  bool open = true;
};

}  // namespace

std::vector<sim::LayerStats> simulate_in_workers(const sim::ArchConfig& arch,
                                                 const std::vector<sim::Layer>& layers,
                                                 const BatchSimulator& simulator, int jobs,
                                                 const std::function<void(std::size_t)>& on_progress) {
  if (layers.empty()) return {};
  jobs = std::max(1, std::min<int>(jobs, static_cast<int>(layers.size())));
  // Longest work first onto the least loaded worker (LPT), then each worker keeps input order.
  std::vector<std::size_t> order(layers.size());
  std::vector<double> work(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    order[i] = i;
    work[i] = estimated_work(arch, layers[i]);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return work[a] > work[b]; });
  std::vector<Worker> workers(static_cast<std::size_t>(jobs));
  std::vector<double> load(workers.size(), 0.0);
  for (std::size_t i : order) {
    const std::size_t w = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    workers[w].indices.push_back(i);
    load[w] += work[i];
  }
  for (auto& w : workers) std::sort(w.indices.begin(), w.indices.end());

  std::fflush(stdout);
  std::fflush(stderr);
  for (std::size_t wi = 0; wi < workers.size(); ++wi) {
    int fds[2];
    if (::pipe(fds) != 0) throw RuntimeFailure(std::string("pipe() failed: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) throw RuntimeFailure(std::string("fork() failed: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(fds[0]);
      for (std::size_t j = 0; j < wi; ++j) ::close(workers[j].fd);
      int code = 0;
      try {
        nlohmann::json results = nlohmann::json::array();
        for (std::size_t i : workers[wi].indices) {
          auto r = simulator(arch, {layers[i]});
          if (r.size() != 1) throw RuntimeFailure("simulator returned " + std::to_string(r.size()) + " results for 1 layer");
          results.push_back(stats_to_json(r[0]));
          write_all(fds[1], ".");
        }
        write_all(fds[1], results.dump());
      } catch (const InputError& e) {
        write_all(fds[1], std::string("!I") + e.what());
        code = 3;
      } catch (const std::exception& e) {
        write_all(fds[1], std::string("!R") + e.what());
        code = 4;
      }
      ::close(fds[1]);
      _exit(code);  // no atexit handlers or static destructors (SystemC) in the child
    }
    ::close(fds[1]);
    workers[wi].pid = pid;
    workers[wi].fd = fds[0];
  }

  std::size_t done = 0;
  std::size_t open = workers.size();
  char buf[65536];
  while (open > 0) {
    std::vector<pollfd> pfds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < workers.size(); ++i)
      if (workers[i].open) {
        pfds.push_back({workers[i].fd, POLLIN, 0});
        which.push_back(i);
      }
    if (::poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw RuntimeFailure(std::string("poll() failed: ") + std::strerror(errno));
    }
    for (std::size_t p = 0; p < pfds.size(); ++p) {
      if (!(pfds[p].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = workers[which[p]];
      const ssize_t n = ::read(w.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(w.fd);
        w.open = false;
        --open;
        continue;
      }
      std::size_t start = 0;
      if (w.payload.empty()) {
        while (start < static_cast<std::size_t>(n) && buf[start] == '.') ++start;
        done += start;
        if (start > 0 && on_progress) on_progress(done);
      }
      w.payload.append(buf + start, static_cast<std::size_t>(n) - start);
    }
  }

  std::vector<sim::LayerStats> out(layers.size());
  std::string failure;
  bool input_failure = false;
  for (auto& w : workers) {
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (failure.empty() && w.payload.rfind("!", 0) == 0) {
      input_failure = w.payload.rfind("!I", 0) == 0;
      failure = w.payload.substr(2);
      continue;
    }
    if (!failure.empty()) continue;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failure = "simulation worker " + std::to_string(w.pid) + " died (" +
                (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                     : "exit " + std::to_string(WEXITSTATUS(status))) + ")";
      continue;
    }
    nlohmann::json res;
    try {
      res = nlohmann::json::parse(w.payload);
    } catch (const std::exception& e) {
      failure = std::string("simulation worker sent unreadable results: ") + e.what();
      continue;
    }
    if (!res.is_array() || res.size() != w.indices.size()) {
      failure = "simulation worker sent the wrong number of results";
      continue;
    }
    for (std::size_t k = 0; k < w.indices.size(); ++k) out[w.indices[k]] = stats_from_json(res[k]);
  }
  if (!failure.empty()) {
    if (input_failure) throw InputError(failure);
    throw RuntimeFailure(failure);
  }
  for (std::size_t i = 0; i < layers.size(); ++i) out[i].layer_name = layers[i].name;
  return out;
}

namespace {

struct CacheContext {
  fs::path dir;
  std::string arch_json;
  std::string arch_hash;
  std::string fidelity;
  std::string version;
};

std::string cache_key(const CacheContext& c, const std::string& shape) {
  return content_hash_hex("hwnas-layer-cache/" + std::to_string(kLayerCacheFormatVersion) + "\n" +
                          c.arch_json + "\n" + c.fidelity + "\n" + c.version + "\n" + shape);
}

// Returns true and fills `out` for a valid entry; false when there is none; false with
// `reason` set when an entry exists but cannot be trusted (it is then rebuilt).
bool read_cache_entry(const CacheContext& c, const std::string& key, const std::string& shape,
                      sim::LayerStats& out, std::string& reason) {
  const fs::path file = c.dir / (key + ".json");
  std::error_code ec;
  if (!fs::exists(file, ec)) return false;
  try {
    const auto j = nlohmann::json::parse(read_file(file));
    auto mismatch = [&](const char* field, const nlohmann::json& want) {
      if (!j.contains(field) || j.at(field) != want) {
        reason = file.string() + ": stale cache entry (" + field + " is " +
                 (j.contains(field) ? j.at(field).dump() : std::string("missing")) + ", expected " +
                 want.dump() + "); rebuilt";
        return true;
      }
      return false;
    };
    if (mismatch("format", "hwnas-layer-cache") ||
        mismatch("format_version", kLayerCacheFormatVersion) || mismatch("key", key) ||
        mismatch("arch_hash", c.arch_hash) || mismatch("fidelity", c.fidelity) ||
        mismatch("simulator_version", c.version) || mismatch("layer", shape))
      return false;
    out = stats_from_json(j.at("stats"));
    return true;
  } catch (const std::exception& e) {
    reason = file.string() + ": corrupt cache entry (" + e.what() + "); rebuilt";
    return false;
  }
}

void write_cache_entry(const CacheContext& c, const std::string& key, const std::string& shape,
                       const sim::LayerStats& s) {
  nlohmann::json j = {{"format", "hwnas-layer-cache"}, {"format_version", kLayerCacheFormatVersion},
                      {"key", key},                    {"arch_hash", c.arch_hash},
                      {"fidelity", c.fidelity},        {"simulator_version", c.version},
                      {"layer", shape},                {"stats", stats_to_json(s)}};
  write_file_atomically(c.dir / (key + ".json"), j.dump() + "\n");
}

}  // namespace

std::vector<sim::LayerStats> simulate_layers_deduplicated(const sim::ArchConfig& arch,
                                                          const std::vector<sim::Layer>& layers,
                                                          const SimulationOptions& options,
                                                          SimulationReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  SimulationReport rep;
  rep.layers = layers.size();
  std::map<std::string, std::size_t> index_of;
  std::vector<std::size_t> distinct_of(layers.size());
  std::vector<sim::Layer> distinct;
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string k = layer_shape_key(layers[i]);
    auto it = index_of.find(k);
    if (it == index_of.end()) {
      it = index_of.emplace(k, distinct.size()).first;
      distinct.push_back(layers[i]);
      keys.push_back(k);
    }
    distinct_of[i] = it->second;
  }
  rep.distinct = distinct.size();

  std::vector<sim::LayerStats> results(distinct.size());
  std::vector<bool> have(distinct.size(), false);
  CacheContext cache;
  const bool use_cache = !options.cache_dir.empty();
  if (use_cache) {
    cache.dir = fs::path(options.cache_dir) / ("layers-v" + std::to_string(kLayerCacheFormatVersion));
    cache.arch_json = sim::arch_config_to_json(arch).dump();
    cache.arch_hash = content_hash_hex(cache.arch_json);
    cache.fidelity = fidelity_name(options.fidelity);
    cache.version = options.simulator_version.empty() ? default_simulator_version() : options.simulator_version;
    for (std::size_t d = 0; d < distinct.size(); ++d) {
      std::string reason;
      if (read_cache_entry(cache, cache_key(cache, keys[d]), keys[d], results[d], reason)) {
        have[d] = true;
        ++rep.cache_hits;
      } else if (!reason.empty()) {
        ++rep.cache_rejected;
        rep.warnings.push_back(reason);
      }
    }
  }

  std::vector<std::size_t> todo;
  for (std::size_t d = 0; d < distinct.size(); ++d)
    if (!have[d]) todo.push_back(d);
  if (!todo.empty()) {
    std::vector<sim::Layer> batch;
    for (std::size_t d : todo) batch.push_back(distinct[d]);
    const BatchSimulator simulator = options.simulator ? options.simulator : default_simulator(options.fidelity);
    ProgressLine progress("simulate " + std::string(fidelity_name(options.fidelity)),
                          static_cast<std::int64_t>(batch.size()), "layers",
                          options.progress && ProgressLine::stderr_is_terminal());
    std::vector<sim::LayerStats> got;
    const bool parallel = (options.fidelity == Fidelity::kCycle || options.force_workers) &&
                          options.jobs > 1 && batch.size() > 1;
    if (parallel) {
      rep.workers = std::min<int>(options.jobs, static_cast<int>(batch.size()));
      got = simulate_in_workers(arch, batch, simulator, options.jobs,
                                [&](std::size_t n) { progress.update(static_cast<std::int64_t>(n)); });
    } else if (options.fidelity == Fidelity::kCycle) {
      rep.workers = 1;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        auto r = simulator(arch, {batch[i]});
        if (r.size() != 1) throw RuntimeFailure("simulator returned " + std::to_string(r.size()) + " results for 1 layer");
        got.push_back(r[0]);
        progress.update(static_cast<std::int64_t>(i + 1));
      }
    } else {
      rep.workers = 1;
      got = simulator(arch, batch);
      if (got.size() != batch.size())
        throw RuntimeFailure("simulator returned " + std::to_string(got.size()) + " results for " +
                             std::to_string(batch.size()) + " layers");
      progress.update(static_cast<std::int64_t>(batch.size()));
    }
    progress.finish();
    for (std::size_t t = 0; t < todo.size(); ++t) {
      results[todo[t]] = got[t];
      if (use_cache) write_cache_entry(cache, cache_key(cache, keys[todo[t]]), keys[todo[t]], got[t]);
    }
    rep.simulated = todo.size();
  }

  std::vector<sim::LayerStats> out(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    out[i] = results[distinct_of[i]];
    out[i].layer_name = layers[i].name;
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (report) *report = rep;
  return out;
}

}  // namespace hwnas::costmodels
