// <lra/measure.hpp>: every public header of lra::measure, the measuring part of lra/ (link
// lra::measure): the benchmark, attention span, attention pattern pictures, run plots and
// reports. It stands on <lra/lra.hpp>.
#pragma once

// clang-format off
#include "lra/lra.hpp"
#include "lra/lra/measure/bench.hpp"
#include "lra/lra/measure/bench_attention.hpp"
#include "lra/lra/measure/child.hpp"
#include "lra/lra/measure/pattern.hpp"
#include "lra/lra/measure/report.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "lra/lra/measure/run_plots.hpp"
#include "lra/lra/measure/span.hpp"
// clang-format on
