#pragma once
// A checkpoint: a JSON header (anything the caller wants to restore: epoch, schedule position,
// history, config) plus named float tensors, in one binary file written atomically.
//
// Layout: "HWNASCK1" | u64 header length | header JSON (UTF-8) | for each tensor in header
// order: raw little-endian float32 data. The header's "tensors" array lists name and shape, so a
// reader checks every tensor against the network it restores into and names the mismatch.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/nas/tensor.hpp"

namespace hwnas::nas {

class Checkpoint {
 public:
  nlohmann::json meta = nlohmann::json::object();

  void put(const std::string& name, const Tensor& t);
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Copies the stored tensor into `into` (shape must match; InputError naming file and tensor).
  void get(const std::string& name, Tensor& into) const;
  const Tensor& tensor(const std::string& name) const;
  std::size_t size() const { return order_.size(); }

  void save(const std::string& path) const;  // atomic
  static Checkpoint load(const std::string& path);

 private:
  std::string source_;
  std::vector<std::string> order_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace hwnas::nas
