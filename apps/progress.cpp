#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace lra::app {

bool stderr_is_tty() {
  return ::isatty(STDERR_FILENO) != 0;
}

ProgressBar::ProgressBar(std::string label, size_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(stderr_is_tty()),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void ProgressBar::update(size_t done) {
  auto now = std::chrono::steady_clock::now();
  double since_last = std::chrono::duration<double>(now - last_).count();
  if (done < total_ && since_last < (tty_ ? 0.1 : 5.0)) return;
  if (done == shown_) return;
  shown_ = done;
  last_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double frac = total_ ? double(done) / double(total_) : 1.0;
  double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
  if (tty_) {
    int width = 30, filled = int(frac * width);
    std::fprintf(stderr, "\r%s [%-*s] %zu/%zu %s eta %s \033[K", label_.c_str(), width,
                 std::string(size_t(filled), '#').c_str(), done, total_,
                 format_duration(elapsed).c_str(), format_duration(eta).c_str());
  } else {
    std::fprintf(stderr, "%s %zu/%zu (%.0f%%) %s elapsed, eta %s\n", label_.c_str(), done, total_,
                 100.0 * frac, format_duration(elapsed).c_str(), format_duration(eta).c_str());
  }
  std::fflush(stderr);
}

void ProgressBar::finish() {
  update(total_);
  if (tty_) std::fprintf(stderr, "\n");
}

TrainProgress::TrainProgress() : tty_(stderr_is_tty()), last_(std::chrono::steady_clock::now()) {}

void TrainProgress::draw(const std::string& text, bool force) {
  if (!tty_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && std::chrono::duration<double>(now - last_).count() < 0.1) return;
  last_ = now;
  last_text_ = text;
  std::fprintf(stderr, "\r%s\033[K", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void TrainProgress::step(const StepInfo& s) {
  if (!tty_) return;
  const double frac = s.total ? double(s.step) / double(s.total) : 1.0;
  const int width = 24, filled = int(frac * width);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "[%-*s] %lld/%lld | loss %.4f | acc %.3f | %.2f steps/s | %s | eta %s", width,
                std::string(size_t(filled), '#').c_str(), (long long)s.step, (long long)s.total,
                s.interval_loss, s.interval_accuracy, s.steps_per_second,
                format_duration(s.elapsed).c_str(), format_duration(s.eta).c_str());
  draw(buf, s.step == s.total);
}

void TrainProgress::eval(const std::string& what, size_t done, size_t total) {
  if (!tty_) return;
  auto now = std::chrono::steady_clock::now();
  if (done <= eval_done_ || what != eval_what_) eval_start_ = now;
  eval_done_ = done;
  eval_what_ = what;
  const double el = std::chrono::duration<double>(now - eval_start_).count();
  const double frac = total ? double(done) / double(total) : 1.0;
  const double eta = frac > 0 ? el * (1 - frac) / frac : 0;
  const int width = 24, filled = int(frac * width);
  char buf[200];
  std::snprintf(buf, sizeof buf, "eval %s [%-*s] %zu/%zu examples | eta %s", what.c_str(), width,
                std::string(size_t(filled), '#').c_str(), done, total,
                format_duration(eta).c_str());
  draw(buf, done == total);
}

void TrainProgress::line(const std::string& text) {
  if (tty_ && shown_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
  if (tty_ && shown_) draw(last_text_, true);
}

void TrainProgress::clear() {
  if (tty_ && shown_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace lra::app
