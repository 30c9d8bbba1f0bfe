// ProgressBar: a live bar on a terminal (stderr, redrawn with \r), plain periodic lines
// otherwise, for long work such as data generation.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace lra::app {

class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total);
  void update(size_t done);
  void finish();

 private:
  std::string label_;
  size_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace lra::app
