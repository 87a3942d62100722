#include "hwnas/common/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace hwnas {

ProgressLine::ProgressLine(std::string label, std::int64_t total, std::string unit, bool enabled)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

bool ProgressLine::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 0) seconds = 0;
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(seconds) / 3600,
                  (static_cast<int>(seconds) / 60) % 60);
  }
  return buf;
}

void ProgressLine::update(std::int64_t done, const std::string& extra) {
  last_done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done, extra);
}

void ProgressLine::finish(const std::string& extra) {
  if (!enabled_) return;
  draw(last_done_, extra);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void ProgressLine::draw(std::int64_t done, const std::string& extra) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::string eta = "?";
  if (total_ > 0 && rate > 0) eta = format_duration(static_cast<double>(total_ - done) / rate);
  if (total_ > 0) {
    std::fprintf(stderr, "\r\033[K%s %lld/%lld %s (%.1f%%) %.1f %s/s ETA %s %s", label_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), unit_.c_str(),
                 100.0 * static_cast<double>(done) / static_cast<double>(total_), rate,
                 unit_.c_str(), eta.c_str(), extra.c_str());
  } else {
    std::fprintf(stderr, "\r\033[K%s %lld %s %.1f %s/s elapsed %s %s", label_.c_str(),
                 static_cast<long long>(done), unit_.c_str(), rate, unit_.c_str(),
                 format_duration(elapsed).c_str(), extra.c_str());
  }
  std::fflush(stderr);
}

}  // namespace hwnas
