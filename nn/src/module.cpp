// Module tree: named parameters and buffers, named children, dotted paths; ForwardContext keys.
#include "lra/nn/module.hpp"

#include "lra/core/rng.hpp"

namespace lra::nn {

uint64_t ForwardContext::key(const std::string& site) const {
  return lra::rng_key(seed, {step, lra::rng_tag(site.c_str())});
}

namespace {
void check_name(const std::string& owner, const std::string& name, const char* what) {
  LRA_CHECK(!name.empty(), Error, "module '", owner, "': a ", what, " needs a non-empty name");
}
std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

// Own parameters first (in registration order), then each child's, depth first.
std::vector<std::pair<std::string, Var>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Var>> out = params_;
  for (const auto& [name, child] : children_)
    for (auto& [sub, var] : child->named_parameters()) out.emplace_back(name + "." + sub, var);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out = own_buffers();
  for (const auto& [name, child] : children_)
    for (auto& [sub, t] : child->named_buffers()) out.emplace_back(name + "." + sub, t);
  return out;
}

std::vector<Var> Module::parameters() const {
  std::vector<Var> out;
  for (auto& [name, var] : named_parameters()) out.push_back(var);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, var] : named_parameters()) n += var.data().numel();
  return n;
}

void Module::zero_grad() {
  for (auto& [name, var] : params_) var.zero_grad();
  for (auto& [name, child] : children_) child->zero_grad();
}

Var& Module::register_parameter(const std::string& name, Tensor init) {
  check_name(path_, name, "parameter");
  for (const auto& [n, v] : params_)
    LRA_CHECK(n != name, Error, "module '", path_, "': parameter '", name, "' registered twice");
  for (const auto& [n, c] : children_)
    LRA_CHECK(n != name, Error, "module '", path_, "': parameter '", name,
              "' clashes with a child module of the same name");
  LRA_CHECK(init.defined(), Error, "module '", path_, "': parameter '", name,
            "' has no initial value");
  params_.emplace_back(name, Var::param(std::move(init)));
  return params_.back().second;
}

void Module::adopt(const std::string& name, std::unique_ptr<Module> m) {
  check_name(path_, name, "child module");
  LRA_CHECK(m != nullptr, Error, "module '", path_, "': child '", name, "' is null");
  for (const auto& [n, c] : children_)
    LRA_CHECK(n != name, Error, "module '", path_, "': child '", name, "' registered twice");
  for (const auto& [n, v] : params_)
    LRA_CHECK(n != name, Error, "module '", path_, "': child '", name,
              "' clashes with a parameter of the same name");
  m->set_path(join(path_, name));
  children_.emplace_back(name, std::move(m));
}

// A child built before its parent was adopted learns its full path here, recursively.
void Module::set_path(const std::string& path) {
  path_ = path;
  for (auto& [name, child] : children_) child->set_path(join(path_, name));
}

}  // namespace lra::nn
