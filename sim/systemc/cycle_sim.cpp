// The SystemC shell of the cycle-level model: one module whose single SC_METHOD advances the
// whole accelerator (CycleEngine::step) once per 1 ns clock. The method times itself by
// re-notifying its own clock event (about 20% cheaper per clock than next_trigger(time)). A
// process per PE would be 50-100x slower and would add nothing: the engine already moves every
// register of the array each clock.
//
// SystemC allows one elaboration per process and sc_stop() is final, so the module lives in a
// function-local static and every simulate_layers_cycle call reuses it: the call loads a queue of
// layers, notifies the clock event and runs sc_start() until the method stops re-arming it.
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

#include <systemc>

#include "hwnas/common/error.hpp"
#include "hwnas/sim/cycle_engine.hpp"
#include "hwnas/sim/cycle_sim.hpp"

namespace hwnas::sim {
namespace {

class CycleSimTop : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(CycleSimTop);

  explicit CycleSimTop(const sc_core::sc_module_name& name)
      : sc_core::sc_module(name), clock_period_(1, sc_core::SC_NS) {
    SC_METHOD(clock_edge);
    sensitive << clock_;
    dont_initialize();
  }

  std::vector<LayerStats> run(const ArchConfig& arch, const std::vector<Layer>& layers,
                              const CycleRunOptions& options) {
    results_.clear();
    results_.reserve(layers.size());
    if (layers.empty()) return results_;
    engine_ = std::make_unique<CycleEngine>(arch);
    layers_ = &layers;
    options_ = &options;
    next_layer_ = 0;
    failure_ = nullptr;
    load_next_layer();
    clock_.notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();  // returns when clock_edge stops re-arming (queue done or failure)
    layers_ = nullptr;
    options_ = nullptr;
    if (failure_) std::rethrow_exception(failure_);
    if (results_.size() != layers.size())
      throw RuntimeFailure("cycle simulation stopped after " + std::to_string(results_.size()) +
                           " of " + std::to_string(layers.size()) + " layers");
    return std::move(results_);
  }

 private:
  void load_next_layer() {
    // Seeds depend only on the layer's position, so a checked run is reproducible.
    engine_->begin_layer((*layers_)[next_layer_], options_->check_values,
                         0x9e3779b97f4a7c15ULL + next_layer_);
    ++next_layer_;
  }

  // One clock of the whole accelerator. A layer that completes hands over to the next one in
  // zero time, so back-to-back layers waste no clock.
  void clock_edge() {
    try {
      while (!engine_->step()) {
        results_.push_back(engine_->finish_layer());
        if (options_->on_layer_done) options_->on_layer_done(results_.size(), layers_->size());
        if (next_layer_ == layers_->size()) return;  // not re-armed: sc_start() returns
        load_next_layer();
      }
      clock_.notify(clock_period_);
    } catch (...) {
      failure_ = std::current_exception();  // re-thrown by run(), outside the kernel
    }
  }

  sc_core::sc_event clock_;
  sc_core::sc_time clock_period_;
  std::unique_ptr<CycleEngine> engine_;
  const std::vector<Layer>* layers_ = nullptr;
  const CycleRunOptions* options_ = nullptr;
  std::size_t next_layer_ = 0;
  std::vector<LayerStats> results_;
  std::exception_ptr failure_;
};

CycleSimTop& elaborated_top() {
  // No setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE") here: Debian's libsystemc prints its banner
  // in its own main() before sc_main runs, so only the launching environment can silence it.
  static CycleSimTop* top = new CycleSimTop("hwnas_cycle_sim");  // lives until exit, as the kernel
  return *top;
}

}  // namespace

std::vector<LayerStats> simulate_layers_cycle(const ArchConfig& arch,
                                              const std::vector<Layer>& layers,
                                              const CycleRunOptions& options) {
  // Reject bad shapes before the kernel runs, so the error is not raised inside a process.
  for (const Layer& layer : layers) validate_layer(layer);
  return elaborated_top().run(arch, layers, options);
}

}  // namespace hwnas::sim
