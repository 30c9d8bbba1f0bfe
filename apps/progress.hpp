// Progress display. On a terminal (stderr is a TTY): a live bar redrawn in place with \r at
// most 10 times a second; otherwise nothing live, only the plain periodic lines the command
// prints anyway (so logs and pipes stay clean).
//
//   ProgressBar   long work with a known amount (data generation, evaluation)
//   TrainProgress the training bar: step/total, loss, accuracy, steps/s, elapsed, ETA; print
//                 log lines through line() so the bar is cleared first and redrawn after
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

#include "lra/core/text.hpp"  // format_duration
#include "lra/lra/train/trainer.hpp"

namespace lra::app {

bool stderr_is_tty();

class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total);
  void update(size_t done);
  void finish();

 private:
  std::string label_;
  size_t total_;
  size_t shown_ = size_t(-1);  // the last count drawn
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

class TrainProgress {
 public:
  TrainProgress();
  void step(const StepInfo& s);                                   // training
  void eval(const std::string& what, size_t done, size_t total);  // evaluation
  void line(const std::string& text);  // a log line on stdout, above the bar
  void clear();                        // remove the bar (before exiting)

 private:
  void draw(const std::string& text, bool force);
  bool tty_;
  bool shown_ = false;
  std::string last_text_;
  std::chrono::steady_clock::time_point last_;
  std::chrono::steady_clock::time_point eval_start_;
  size_t eval_done_ = size_t(-1);
  std::string eval_what_;
};

}  // namespace lra::app
