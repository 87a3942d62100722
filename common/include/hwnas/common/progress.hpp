#pragma once
// A one-line progress display with rate and ETA, redrawn in place on a terminal and silent when
// stderr is not a TTY (piped runs and CI logs stay clean).
#include <chrono>
#include <cstdint>
#include <string>

namespace hwnas {

class ProgressLine {
 public:
  // unit names what is counted ("layers", "img"); total may be 0 when unknown.
  ProgressLine(std::string label, std::int64_t total, std::string unit, bool enabled);
  static bool stderr_is_terminal();

  // Advance to `done` items; `extra` is appended (e.g. "loss 0.734"). Redraws at most ~10x/s.
  void update(std::int64_t done, const std::string& extra = "");
  void finish(const std::string& extra = "");  // final redraw and newline

 private:
  void draw(std::int64_t done, const std::string& extra);
  std::string label_;
  std::int64_t total_;
  std::string unit_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::int64_t last_done_ = 0;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12.3s"

}  // namespace hwnas
