#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace lra::app {

ProgressBar::ProgressBar(std::string label, size_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void ProgressBar::update(size_t done) {
  auto now = std::chrono::steady_clock::now();
  double since_last = std::chrono::duration<double>(now - last_).count();
  if (done < total_ && since_last < (tty_ ? 0.1 : 5.0)) return;
  last_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double frac = total_ ? double(done) / double(total_) : 1.0;
  double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
  if (tty_) {
    int width = 30, filled = int(frac * width);
    std::fprintf(stderr, "\r%s [%-*s] %zu/%zu %.0fs eta %.0fs ", label_.c_str(), width,
                 std::string(size_t(filled), '#').c_str(), done, total_, elapsed, eta);
  } else {
    std::fprintf(stderr, "%s %zu/%zu (%.0f%%) %.0fs elapsed, eta %.0fs\n", label_.c_str(), done,
                 total_, 100.0 * frac, elapsed, eta);
  }
  std::fflush(stderr);
}

void ProgressBar::finish() {
  update(total_);
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace lra::app
