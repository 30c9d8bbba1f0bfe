// <lra/lra.hpp>: every public header of the engine, for programs that embed it
// (find_package(lra) + target_link_libraries(app PRIVATE lra::lra); README "Embedding").
//
// Start with lra/lra/api.hpp (model from a preset, checkpoint, inference, engine info) and
// the layers it stands on, lowest first:
//   core       Tensor (views, from/to user memory), kernels, allocator counters, threads, RNG
//   autograd   Var, differentiable ops, backward(), gradcheck
//   nn         Module, layers, losses, optimisers, schedules, safetensors checkpoints
//   attention  MultiHeadAttention and the registry of mechanisms by name
//   lra        LRA tasks, data readers and generators, LraModel, settings, trainer, run
//              folders, benchmark, attention span, reports
// Errors are lra::Error subclasses (lra/core/error.hpp); the library never exits or aborts.
#pragma once

// The includes go layer by layer, lowest first.
// clang-format off
#include "lra/version.hpp"

#include "lra/core/allocator.hpp"
#include "lra/core/dims.hpp"
#include "lra/core/error.hpp"
#include "lra/core/fast_exp.hpp"
#include "lra/core/io.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/simd.hpp"
#include "lra/core/tensor.hpp"
#include "lra/core/threading.hpp"

#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/autograd/var.hpp"

#include "lra/nn/checkpoint.hpp"
#include "lra/nn/layers.hpp"
#include "lra/nn/loss.hpp"
#include "lra/nn/mixer.hpp"
#include "lra/nn/module.hpp"
#include "lra/nn/optim.hpp"
#include "lra/nn/reversible.hpp"
#include "lra/nn/schedule.hpp"

#include "lra/attention/multihead.hpp"
#include "lra/attention/options.hpp"
#include "lra/attention/registry.hpp"

#include "lra/lra/api.hpp"
#include "lra/lra/bench.hpp"
#include "lra/lra/bench_attention.hpp"
#include "lra/lra/checkpoint_record.hpp"
#include "lra/lra/dataset.hpp"
#include "lra/lra/distributed.hpp"
#include "lra/lra/image.hpp"
#include "lra/lra/listops.hpp"
#include "lra/lra/memory_check.hpp"
#include "lra/lra/model.hpp"
#include "lra/lra/pathfinder.hpp"
#include "lra/lra/pathfinder_gen.hpp"
#include "lra/lra/pattern.hpp"
#include "lra/lra/png.hpp"
#include "lra/lra/report.hpp"
#include "lra/lra/retrieval.hpp"
#include "lra/lra/run.hpp"
#include "lra/lra/run_folder.hpp"
#include "lra/lra/settings.hpp"
#include "lra/lra/span.hpp"
#include "lra/lra/svg.hpp"
#include "lra/lra/task.hpp"
#include "lra/lra/text.hpp"
#include "lra/lra/trainer.hpp"
// clang-format on
