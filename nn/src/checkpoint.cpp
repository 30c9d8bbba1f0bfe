// safetensors reader/writer and strict module state loading.
#include "lra/nn/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "lra/core/io.hpp"

namespace lra::nn {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this build assumes a little-endian host");

using json = nlohmann::ordered_json;
constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;  // 100 MiB: far above any real header

const char* st_dtype(DType t) {
  return t == DType::F32 ? "F32" : "I32";
}

// ---- writing -------------------------------------------------------------------------------

class File {
 public:
  File(const std::string& path, int flags) : path_(path), fd_(::open(path.c_str(), flags, 0644)) {
    if (fd_ < 0) fail("cannot open for writing");
  }
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  void write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail("write failed");
      p += w;
      n -= size_t(w);
    }
  }
  void sync_and_close() {
    if (::fsync(fd_) != 0) fail("fsync failed");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("close failed");
  }
  [[noreturn]] void fail(const char* what) const {
    throw IoError("checkpoint '" + path_ + "': " + what + ": " + std::strerror(errno));
  }

 private:
  std::string path_;
  int fd_;
};

// ---- reading -------------------------------------------------------------------------------

struct Entry {
  std::string name;
  DType dtype;
  Dims shape;
  uint64_t begin, end;
};

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  throw CheckpointError("checkpoint '" + path + "': " + what);
}

uint64_t read_u64(const json& v, const std::string& path, const std::string& where) {
  if (!v.is_number_integer() ||
      (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
    corrupt(path, where + " must be a non-negative integer, found " + v.dump());
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const json& e, uint64_t data_bytes,
                  const std::string& path) {
  const std::string where = "tensor '" + name + "'";
  if (!e.is_object()) corrupt(path, where + ": header entry is not an object: " + e.dump());
  for (auto it = e.begin(); it != e.end(); ++it)
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
      corrupt(path, where + ": unexpected header field '" + it.key() + "'");
  if (!e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
    corrupt(path, where + ": header entry needs dtype, shape and data_offsets");
  Entry out;
  out.name = name;
  const json& dt = e["dtype"];
  if (!dt.is_string()) corrupt(path, where + ": dtype is not a string");
  std::string d = dt.get<std::string>();
  static const std::set<std::string> other = {"BOOL", "U8",      "I8",     "U16", "I16",
                                              "F16",  "BF16",    "U32",    "U64", "I64",
                                              "F64",  "F8_E4M3", "F8_E5M2"};
  if (d == "F32")
    out.dtype = DType::F32;
  else if (d == "I32")
    out.dtype = DType::I32;
  else if (other.count(d))
    corrupt(path, where + ": dtype " + d + " is not supported (this engine reads F32 and I32)");
  else
    corrupt(path, where + ": unknown dtype '" + d + "'");

  const json& sh = e["shape"];
  if (!sh.is_array()) corrupt(path, where + ": shape is not an array");
  if (sh.size() > size_t(kMaxDims))
    corrupt(path, where + ": rank " + std::to_string(sh.size()) + " above the supported " +
                      std::to_string(kMaxDims));
  uint64_t numel = 1;  // saturates at UINT64_MAX (then fails the size check below)
  bool empty = false;
  for (const json& x : sh) {
    uint64_t n = read_u64(x, path, where + ": shape extent");
    if (n > data_bytes) corrupt(path, where + ": shape " + sh.dump() + " exceeds the data size");
    empty = empty || n == 0;
    if (__builtin_mul_overflow(numel, n, &numel)) numel = UINT64_MAX;
    out.shape.push_back(int64_t(n));
  }
  if (empty) numel = 0;
  const json& off = e["data_offsets"];
  if (!off.is_array() || off.size() != 2)
    corrupt(path, where + ": data_offsets must be [begin, end], found " + off.dump());
  out.begin = read_u64(off[0], path, where + ": data_offsets[0]");
  out.end = read_u64(off[1], path, where + ": data_offsets[1]");
  if (out.begin > out.end)
    corrupt(path, where + ": data_offsets " + off.dump() + " end before they begin");
  if (out.end > data_bytes)
    corrupt(path, where + ": data_offsets " + off.dump() + " run past the " +
                      std::to_string(data_bytes) + "-byte data section (file truncated?)");
  if (numel > UINT64_MAX / 4 || out.end - out.begin != numel * dtype_size(out.dtype))
    corrupt(path, where + ": data_offsets " + off.dump() + " hold " +
                      std::to_string(out.end - out.begin) + " bytes but shape " + out.shape.str() +
                      " of " + d + " needs " +
                      (numel > UINT64_MAX / 4 ? std::string("more") : std::to_string(numel * 4)));
  return out;
}

NamedTensors parse_safetensors(const std::string& bytes, const std::string& path,
                               std::map<std::string, std::string>* metadata) {
  if (bytes.size() < 8)
    corrupt(path, "file is " + std::to_string(bytes.size()) +
                      " bytes, shorter than the 8-byte header length (truncated?)");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeaderBytes)
    corrupt(path, "header length " + std::to_string(n) +
                      " is absurd (not a safetensors file, or corrupt)");
  if (n > bytes.size() - 8)
    corrupt(path, "header length " + std::to_string(n) + " runs past the end of the " +
                      std::to_string(bytes.size()) + "-byte file (truncated?)");
  const std::string header = bytes.substr(8, n);
  const uint64_t data_bytes = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;

  // Parse, noting duplicate top-level keys (JSON allows them; safetensors does not).
  std::string duplicate;
  std::set<std::string> keys;
  json h;
  try {
    h = json::parse(header, [&](int depth, json::parse_event_t ev, json& parsed) {
      if (ev == json::parse_event_t::key && depth == 1 &&
          !keys.insert(parsed.get<std::string>()).second)
        duplicate = parsed.get<std::string>();
      return true;
    });
  } catch (const json::exception& e) {
    corrupt(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!h.is_object()) corrupt(path, "header is not a JSON object");
  if (!duplicate.empty()) corrupt(path, "tensor '" + duplicate + "' appears twice in the header");

  std::vector<Entry> entries;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) corrupt(path, "__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string())
          corrupt(path, "__metadata__ value of '" + m.key() + "' is not a string");
        if (metadata) (*metadata)[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(it.key(), it.value(), data_bytes, path));
  }

  // The tensors must tile the data section exactly.
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t at = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : order) {
    if (e->begin < at)
      corrupt(path, "tensor '" + e->name + "' overlaps tensor '" + prev->name + "' (bytes " +
                        std::to_string(e->begin) + ".." + std::to_string(at) + ")");
    if (e->begin > at)
      corrupt(path, "tensor '" + e->name + "' starts at byte " + std::to_string(e->begin) +
                        ", leaving a gap after byte " + std::to_string(at));
    at = e->end;
    prev = e;
  }
  if (at != data_bytes)
    corrupt(path,
            std::to_string(data_bytes - at) + " bytes of trailing data after the last tensor");

  NamedTensors out;
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.storage()->data, data + e.begin, e.end - e.begin);
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) {
    json m = json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = m;
  }
  std::vector<Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    LRA_CHECK(!name.empty() && name != "__metadata__", Error, "checkpoint '", path,
              "': invalid tensor name '", name, "'");
    LRA_CHECK(!header.contains(name), Error, "checkpoint '", path, "': tensor '", name,
              "' given twice");
    LRA_CHECK(t.defined(), Error, "checkpoint '", path, "': tensor '", name, "' is undefined");
    uint64_t bytes = uint64_t(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", st_dtype(t.dtype())},
                    {"shape", t.shape().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(t.contiguous());
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  const uint64_t n = h.size();

  const std::string tmp = temp_path(path);
  try {
    File f(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
    f.write(&n, 8);
    f.write(h.data(), h.size());
    for (const Tensor& t : data)
      if (t.numel() > 0)
        f.write(static_cast<const char*>(t.storage()->data) + t.offset() * 4,
                size_t(t.numel()) * 4);
    f.sync_and_close();
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw IoError("checkpoint '" + path + "': rename from " + tmp +
                  " failed: " + std::strerror(err));
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

NamedTensors load_safetensors(const std::string& path,
                              std::map<std::string, std::string>* metadata) {
  const std::string bytes = read_file(path, "a .safetensors checkpoint");
  std::map<std::string, std::string> meta;
  NamedTensors out = parse_safetensors(bytes, path, &meta);
  if (metadata) *metadata = std::move(meta);
  return out;
}

NamedTensors module_state(const Module& m) {
  NamedTensors out;
  for (const auto& [name, p] : m.named_parameters()) out.emplace_back(name, p.data().clone());
  return out;
}

void load_module_state(Module& m, const NamedTensors& state, const std::string& source) {
  std::vector<std::string> problems;
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state)
    if (!given.emplace(name, &t).second) problems.push_back("'" + name + "' appears twice");

  auto params = m.named_parameters();
  std::set<std::string> expected;
  for (const auto& [name, p] : params) {
    expected.insert(name);
    std::string want = std::string(dtype_name(p.data().dtype())) + p.shape().str();
    auto it = given.find(name);
    if (it == given.end()) {
      problems.push_back("missing '" + name + "' (expected " + want + ")");
      continue;
    }
    const Tensor& t = *it->second;
    if (!t.defined() || t.dtype() != p.data().dtype() || !(t.shape() == p.shape()))
      problems.push_back("'" + name + "': expected " + want + ", found " + t.describe());
  }
  for (const auto& [name, t] : state)
    if (!expected.count(name))
      problems.push_back("unexpected '" + name + "' " + t.describe() + " (no such parameter)");

  if (!problems.empty()) {
    std::ostringstream msg;
    msg << "checkpoint '" << source << "' does not match the model (" << problems.size()
        << " problem" << (problems.size() == 1 ? "" : "s") << ", nothing loaded):";
    const size_t shown = std::min<size_t>(problems.size(), 20);
    for (size_t i = 0; i < shown; ++i) msg << "\n  " << problems[i];
    if (shown < problems.size()) msg << "\n  ... and " << problems.size() - shown << " more";
    throw CheckpointError(msg.str());
  }
  for (auto& [name, p] : params) p.data().copy_(*given.at(name));
}

}  // namespace lra::nn
