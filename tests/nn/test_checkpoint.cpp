// safetensors round trip, rejection of damaged files, strict module state loading.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "lra/nn/checkpoint.hpp"
#include "lra/nn/layers.hpp"
#include "nn/helpers.hpp"

using namespace lra;
using namespace lra::nn;
using namespace lra::nn::test;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), std::streamsize(s.size()));
}
// A safetensors file with the given header text (padded) and data bytes.
std::string raw_file(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

}  // namespace

TEST_CASE("safetensors: round trip of f32/i32 scalars empty and non-contiguous tensors") {
  fs::path path = tmp_dir() / "roundtrip.safetensors";
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor at = a.transpose(0, 1);  // non-contiguous (3, 2) view: saved row-major
  Tensor ids = i32({7, -8, 9, 2147483647}, {4});
  Tensor s = Tensor::scalar(2.5f);
  Tensor e = Tensor::zeros({0, 3});
  save_safetensors(path.string(), {{"z.a", a}, {"at", at}, {"ids", ids}, {"s", s}, {"e", e}},
                   {{"step", "12"}, {"format", "pt"}});
  CHECK_FALSE(fs::exists(path.string() + ".tmp"));

  std::string bytes = read_bytes(path);
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  CHECK(bytes.size() == 8 + n + (6 + 6 + 4 + 1) * 4);
  CHECK(bytes.find("\"dtype\":\"F32\"") != std::string::npos);
  CHECK(bytes.find("\"dtype\":\"I32\"") != std::string::npos);

  std::map<std::string, std::string> meta;
  NamedTensors got = load_safetensors(path.string(), &meta);
  REQUIRE(got.size() == 5);
  std::vector<std::string> names;
  for (auto& [k, t] : got) names.push_back(k);
  CHECK(names == std::vector<std::string>{"z.a", "at", "ids", "s", "e"});  // file order
  CHECK(got[0].second.shape() == Dims{2, 3});
  CHECK(got[0].second.to_floats() == a.to_floats());
  CHECK(got[1].second.shape() == Dims{3, 2});
  CHECK(got[1].second.to_floats() == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(got[2].second.dtype() == DType::I32);
  CHECK(got[2].second.to_ints() == ids.to_ints());
  CHECK(got[3].second.dim() == 0);
  CHECK(got[3].second.item() == 2.5f);
  CHECK(got[4].second.shape() == Dims{0, 3});
  CHECK(meta == std::map<std::string, std::string>{{"step", "12"}, {"format", "pt"}});

  // Overwriting is atomic and leaves the new content.
  save_safetensors(path.string(), {{"only", s}});
  CHECK(load_safetensors(path.string()).size() == 1);
  CHECK_THROWS_AS(save_safetensors(path.string(), {{"x", s}, {"x", s}}), Error);
  CHECK_THROWS_AS(save_safetensors((tmp_dir() / "no/such/dir/f").string(), {{"x", s}}), IoError);
  CHECK_THROWS_AS(load_safetensors((tmp_dir() / "missing.safetensors").string()), IoError);
}

TEST_CASE("safetensors: damaged files are rejected naming file and tensor") {
  fs::path good = tmp_dir() / "good.safetensors";
  save_safetensors(good.string(), {{"w", f32({1, 2, 3, 4}, {2, 2})}, {"b", f32({5}, {1})}});
  std::string bytes = read_bytes(good);
  fs::path bad = tmp_dir() / "bad.safetensors";
  auto reject = [&](const std::string& content) {
    write_bytes(bad, content);
    std::string msg = error_of<CheckpointError>([&] { load_safetensors(bad.string()); });
    CHECK(msg.find(bad.string()) != std::string::npos);
    return msg;
  };

  SUBCASE("truncated data") {
    std::string msg = reject(bytes.substr(0, bytes.size() - 4));
    CHECK(msg.find("'b'") != std::string::npos);
  }
  SUBCASE("shorter than the header length field") {
    CHECK(reject(bytes.substr(0, 5)).find("shorter") != std::string::npos);
  }
  SUBCASE("header cut off") {
    CHECK(reject(bytes.substr(0, 20)).find("header length") != std::string::npos);
  }
  SUBCASE("absurd header length") {
    std::string s = bytes;
    uint64_t huge = uint64_t(1) << 62;
    std::memcpy(s.data(), &huge, 8);
    CHECK(reject(s).find("absurd") != std::string::npos);
  }
  SUBCASE("corrupt header JSON") {
    std::string s = bytes;
    s[9] = '#';
    CHECK(reject(s).find("JSON") != std::string::npos);
  }
  SUBCASE("trailing garbage") {
    CHECK(reject(bytes + "xxxx").find("trailing") != std::string::npos);
  }
  SUBCASE("unknown and unsupported dtype") {
    CHECK(reject(raw_file(R"({"t":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})",
                          std::string(4, '\0')))
              .find("unknown dtype") != std::string::npos);
    CHECK(reject(raw_file(R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
                          std::string(4, '\0')))
              .find("F16") != std::string::npos);
  }
  SUBCASE("offsets not matching the shape") {
    std::string msg = reject(
        raw_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, 0)));
    CHECK(msg.find("'t'") != std::string::npos);
    CHECK(msg.find("needs 12") != std::string::npos);
  }
  SUBCASE("offsets out of range") {
    CHECK(reject(raw_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                          std::string(8, 0)))
              .find("run past") != std::string::npos);
  }
  SUBCASE("overlapping tensors") {
    CHECK(reject(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                          std::string(12, 0)))
              .find("overlaps") != std::string::npos);
  }
  SUBCASE("gap between tensors") {
    CHECK(reject(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                          std::string(8, 0)))
              .find("gap") != std::string::npos);
  }
  SUBCASE("negative extent, missing field, duplicate name, bad metadata") {
    reject(raw_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", ""));
    reject(raw_file(R"({"a":{"dtype":"F32","data_offsets":[0,0]}})", ""));
    CHECK(reject(raw_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                          R"("a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})",
                          ""))
              .find("twice") != std::string::npos);
    reject(raw_file(R"({"__metadata__":{"k":1}})", ""));
    reject(raw_file(R"([1, 2])", ""));
  }
}

TEST_CASE("module state: round trip and strict refusal without partial load") {
  fs::path path = tmp_dir() / "head.safetensors";
  ClassifierHead a(3, 4, 2, 1), b(3, 4, 2, 2);
  save_safetensors(path.string(), module_state(a));
  NamedTensors state = load_safetensors(path.string());
  Tensor b_w1 = b.fc1().weight().data();  // handle: must stay the same object
  load_module_state(b, state, path.string());
  CHECK(b.fc1().weight().data().storage() == b_w1.storage());
  for (size_t i = 0; i < state.size(); ++i)
    CHECK(a.named_parameters()[i].second.data().to_floats() ==
          b.named_parameters()[i].second.data().to_floats());
  // module_state is a snapshot, not a view.
  NamedTensors snap = module_state(a);
  a.fc1().weight().data().fill_(9.0f);
  CHECK(snap[0].second.to_floats() != a.fc1().weight().data().to_floats());

  ClassifierHead c(3, 4, 2, 3);
  const std::vector<float> c_w1 = c.fc1().weight().data().to_floats();
  auto expect_refusal = [&](NamedTensors s, const std::vector<std::string>& words) {
    std::string msg = error_of<CheckpointError>([&] { load_module_state(c, s, "ckpt.st"); });
    CHECK(msg.find("ckpt.st") != std::string::npos);
    for (const auto& w : words) {
      INFO(msg);
      CHECK(msg.find(w) != std::string::npos);
    }
    CHECK(c.fc1().weight().data().to_floats() == c_w1);  // nothing loaded
  };
  NamedTensors wrong_shape = state;
  wrong_shape[2].second = Tensor::zeros({3, 4});  // fc2.weight is (4, 2)
  expect_refusal(wrong_shape, {"fc2.weight", "expected f32[4, 2]", "found f32[3, 4]"});
  NamedTensors missing = state;
  missing.erase(missing.begin() + 1);
  expect_refusal(missing, {"missing 'fc1.bias'"});
  NamedTensors extra = state;
  extra.emplace_back("fc3.weight", Tensor::zeros({1}));
  expect_refusal(extra, {"unexpected 'fc3.weight'"});
  NamedTensors wrong_type = state;
  wrong_type[1].second = Tensor::zeros({4}, DType::I32);
  expect_refusal(wrong_type, {"fc1.bias", "found i32[4]"});
  NamedTensors renamed = state;
  renamed[0].first = "fc1.kernel";
  expect_refusal(renamed, {"missing 'fc1.weight'", "unexpected 'fc1.kernel'"});
}
