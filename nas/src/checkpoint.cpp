#include "hwnas/nas/checkpoint.hpp"

#include <cstdint>
#include <cstring>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"

namespace hwnas::nas {

namespace {
constexpr char kMagic[8] = {'H', 'W', 'N', 'A', 'S', 'C', 'K', '1'};
static_assert(sizeof(float) == 4, "checkpoints store float32");
}  // namespace

void Checkpoint::put(const std::string& name, const Tensor& t) {
  if (!tensors_.count(name)) order_.push_back(name);
  tensors_[name] = t;
}

const Tensor& Checkpoint::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw InputError(source_, "checkpoint has no tensor \"" + name + "\"");
  return it->second;
}

void Checkpoint::get(const std::string& name, Tensor& into) const {
  const Tensor& t = tensor(name);
  if (!t.same_shape(into))
    throw InputError(source_, "tensor \"" + name + "\" has shape " + shape_to_string(t.shape()) +
                                  " but the network expects " + shape_to_string(into.shape()));
  into = t;
}

void Checkpoint::save(const std::string& path) const {
  nlohmann::json header = meta;
  nlohmann::json list = nlohmann::json::array();
  std::size_t bytes = 0;
  for (const auto& name : order_) {
    const Tensor& t = tensors_.at(name);
    list.push_back({{"name", name}, {"shape", t.shape()}});
    bytes += static_cast<std::size_t>(t.numel()) * 4;
  }
  header["tensors"] = list;
  const std::string h = header.dump();
  std::string out;
  out.reserve(16 + h.size() + bytes);
  out.append(kMagic, 8);
  const std::uint64_t len = h.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += h;
  for (const auto& name : order_) {
    const Tensor& t = tensors_.at(name);
    out.append(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * 4);
  }
  write_file_atomically(path, out);
}

Checkpoint Checkpoint::load(const std::string& path) {
  const std::string bytes = read_file(path);
  Checkpoint c;
  c.source_ = path;
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw InputError(path, "not an hwnas checkpoint (bad magic)");
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  if (len > bytes.size() - 16) throw InputError(path, "truncated checkpoint header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(16, len));
  } catch (const std::exception& e) {
    throw InputError(path, std::string("corrupt checkpoint header: ") + e.what());
  }
  std::size_t pos = 16 + len;
  if (!header.contains("tensors") || !header["tensors"].is_array())
    throw InputError(path, "checkpoint header has no tensor list");
  for (const auto& entry : header["tensors"]) {
    const std::string name = entry.at("name").get<std::string>();
    const Shape shape = entry.at("shape").get<Shape>();
    const std::size_t n = static_cast<std::size_t>(shape_numel(shape));
    if (pos + n * 4 > bytes.size()) throw InputError(path, "truncated checkpoint: tensor \"" + name + "\" is cut off");
    std::vector<float> data(n);
    if (n) std::memcpy(data.data(), bytes.data() + pos, n * 4);
    pos += n * 4;
    c.put(name, Tensor(shape, std::move(data)));
  }
  if (pos != bytes.size()) throw InputError(path, "checkpoint has " + std::to_string(bytes.size() - pos) + " trailing bytes");
  header.erase("tensors");
  c.meta = header;
  return c;
}

}  // namespace hwnas::nas
