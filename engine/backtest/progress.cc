// The backtest's progress line (see progress.h).
#include "engine/backtest/progress.h"

#include <unistd.h>

#include <algorithm>

namespace alertd::backtest {
namespace {

std::string Duration(double seconds) {
  char buf[32];
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  else std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(std::string what, uint64_t total, std::FILE* out)
    : what_(std::move(what)),
      total_(total),
      out_(out),
      terminal_(isatty(fileno(out)) == 1),
      started_(std::chrono::steady_clock::now()),
      last_print_(started_) {}

void Progress::Update(uint64_t done) {
  const auto now = std::chrono::steady_clock::now();
  // A bar is redrawn 5 times a second; a log gets a line every 5 s.
  if (now - last_print_ < (terminal_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000))) return;
  last_print_ = now;
  Print(done, false);
}

void Progress::Finish(uint64_t done) { Print(done, true); }

void Progress::Print(uint64_t done, bool final) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const double share = total_ > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total_)) : 1.0;
  const std::string eta = rate > 0 && total_ > done ? Duration(static_cast<double>(total_ - done) / rate) : "0m00s";
  char line[256];
  std::snprintf(line, sizeof line, "%s: %llu/%llu records (%.0f%%), %.0f records/s, %s %s", what_.c_str(),
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_), share * 100, rate,
                final ? "took" : "ETA", final ? Duration(seconds).c_str() : eta.c_str());
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(share * kWidth);
    std::fprintf(out_, "\r[%s%s] %s\033[K%s", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(kWidth - filled), ' ').c_str(), line, final ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line);
  }
  std::fflush(out_);
}

}  // namespace alertd::backtest
