// <lra/lra.hpp>: every public header of the engine, for programs that embed it
// (find_package(lra) + target_link_libraries(app PRIVATE lra::lra); README "Embedding"),
// except the measuring part, <lra/measure.hpp> (lra::measure).
//
// Start with lra/lra/train/api.hpp (model from a preset, checkpoint, inference, engine info) and
// the layers it stands on, lowest first:
//   core       Tensor (views, from/to user memory), kernels, allocator counters, threads, RNG
//   autograd   Var, differentiable ops, backward(), gradcheck
//   nn         Module, layers, losses, optimisers, schedules, safetensors checkpoints
//   attention  MultiHeadAttention and the registry of mechanisms by name
//   lra        in rooms, lowest first (lra/README.md): data (datasets, readers, generators),
//              tasks (the six tasks, presets, settings), train (LraModel, trainer, run folders,
//              eval, the embedding API)
// The measuring part (benchmark, attention span and pictures, reports) is <lra/measure.hpp>
// and its own library, lra::measure.
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
#include "lra/core/rows.hpp"
#include "lra/core/simd.hpp"
#include "lra/core/tensor.hpp"
#include "lra/core/text.hpp"
#include "lra/core/threading.hpp"

#include "lra/autograd/grad_ready.hpp"
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

#include "lra/attention/flops.hpp"
#include "lra/attention/multihead.hpp"
#include "lra/attention/options.hpp"
#include "lra/attention/registry.hpp"

#include "lra/lra/data/dataset.hpp"
#include "lra/lra/data/gray_image.hpp"
#include "lra/lra/data/image.hpp"
#include "lra/lra/data/listops.hpp"
#include "lra/lra/data/pathfinder.hpp"
#include "lra/lra/data/pathfinder_gen.hpp"
#include "lra/lra/data/retrieval.hpp"
#include "lra/lra/data/text.hpp"

#include "lra/lra/tasks/settings.hpp"
#include "lra/lra/tasks/task.hpp"

#include "lra/lra/train/api.hpp"
#include "lra/lra/train/checkpoint_record.hpp"
#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/engine_info.hpp"
#include "lra/lra/train/eval_run.hpp"
#include "lra/lra/train/memory_check.hpp"
#include "lra/lra/train/model.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/run_folder.hpp"
#include "lra/lra/train/trainer.hpp"
// clang-format on
