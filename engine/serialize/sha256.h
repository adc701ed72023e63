// sha256.h — SHA-256 (FIPS 180-4) of memory and of files, used to recognise known weight files
// (vgg16-397923af.pth) before importing them. Plain portable C++, no dependencies.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fcnlab {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::array<uint8_t, 32> finish();  // the digest; the object must not be updated afterwards
  std::string finish_hex();          // 64 lowercase hex digits

 private:
  void block(const uint8_t* p);  // one 64-byte block into state_
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;  // bytes seen
};

std::string sha256_hex(const void* data, size_t n);
std::string sha256_hex(std::string_view s);

// Streams the file; throws fcnlab::Error naming the file if it cannot be read.
std::string sha256_file(const std::string& path);

// Throws fcnlab::Error naming the file, the expected and the actual size / SHA-256 on mismatch.
// expected_size < 0 skips the size check.
void verify_file(const std::string& path, int64_t expected_size, const std::string& expected_sha256);

}  // namespace fcnlab
