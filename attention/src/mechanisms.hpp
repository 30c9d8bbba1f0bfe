// Private: one MechanismInfo per mechanism file, collected by registry.cpp.
#pragma once
#include "lra/attention/registry.hpp"

namespace lra::attn {

MechanismInfo softmax_mechanism();      // softmax.cpp
MechanismInfo local_mechanism();        // local.cpp
MechanismInfo sparse_mechanism();       // sparse.cpp
MechanismInfo longformer_mechanism();   // longformer.cpp
MechanismInfo linformer_mechanism();    // linformer.cpp
MechanismInfo reformer_mechanism();     // reformer.cpp
MechanismInfo sinkhorn_mechanism();     // sinkhorn.cpp
MechanismInfo synthesizer_mechanism();  // synthesizer.cpp
MechanismInfo bigbird_mechanism();      // bigbird.cpp
MechanismInfo linear_mechanism();       // linear.cpp
MechanismInfo performer_mechanism();    // performer.cpp

}  // namespace lra::attn
