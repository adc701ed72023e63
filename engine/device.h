// device.h — where a tensor's storage lives, and the allocator interface each backend provides.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace fcnlab {

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::cuda, i}; }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// Parses "cpu", "cuda", "cuda:1"; throws fcnlab::Error on anything else.
Device parse_device(const std::string& s);

// Raw memory for one device. The CPU allocator is built in; the CUDA backend registers its
// caching allocator and copy routine at start-up (engine/storage.cpp keeps the table).
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
};

}  // namespace fcnlab
