// rle.cpp — SIIM RLE decode/encode and the RLE CSV reader/writer.
#include "data/rle.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <unordered_map>

#include "data/csv.h"
#include "engine/error.h"
#include "engine/serialize/atomic_file.h"

namespace fcnlab::data {

void rle_decode_into(const std::string& rle, int width, int height, std::vector<uint8_t>& mask,
                     const std::string& what) {
  FCNLAB_CHECK(width > 0 && height > 0, what, ": mask size must be positive, got ", width, "x",
               height);
  const int64_t total = int64_t(width) * height;
  if (mask.size() != size_t(total)) mask.assign(size_t(total), 0);
  std::string s = trim(rle);
  if (s.empty() || s == "-1") return;

  // Parse non-negative integers separated by whitespace.
  std::vector<int64_t> nums;
  const char* p = s.c_str();
  while (*p) {
    while (*p == ' ' || *p == '\t') ++p;
    if (!*p) break;
    FCNLAB_CHECK(*p >= '0' && *p <= '9', what, ": RLE value ", nums.size() + 1,
                 " is not a non-negative integer (at '", std::string(p).substr(0, 12), "')");
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(p, &end, 10);
    FCNLAB_CHECK(errno == 0 && (*end == 0 || *end == ' ' || *end == '\t'), what,
                 ": RLE value ", nums.size() + 1, " is not an integer (at '",
                 std::string(p).substr(0, 12), "')");
    nums.push_back(v);
    p = end;
  }
  FCNLAB_CHECK(nums.size() % 2 == 0, what, ": RLE needs start/length pairs, got ", nums.size(),
               " numbers");
  int64_t pos = 0;
  for (size_t k = 0; k < nums.size(); k += 2) {
    int64_t start = pos + nums[k], len = nums[k + 1];
    FCNLAB_CHECK(start + len <= total, what, ": RLE run ", k / 2 + 1, " (relative start ",
                 nums[k], ", length ", len, ") ends at pixel ", start + len, ", past the ", total,
                 " pixels of a ", width, "x", height, " mask");
    for (int64_t i = start; i < start + len; ++i) {
      int64_t x = i / height, y = i % height;  // column-major numbering
      mask[size_t(y * width + x)] = 1;
    }
    pos = start + len;
  }
}

std::vector<uint8_t> rle_decode(const std::string& rle, int width, int height,
                                const std::string& what) {
  std::vector<uint8_t> mask;
  rle_decode_into(rle, width, height, mask, what);
  return mask;
}

std::string rle_encode(const std::vector<uint8_t>& mask, int width, int height) {
  FCNLAB_CHECK(mask.size() == size_t(width) * size_t(height), "rle_encode: mask has ",
               mask.size(), " pixels, expected ", width, "x", height);
  const int64_t total = int64_t(width) * height;
  std::string out;
  int64_t prev_end = 0, i = 0;
  auto on = [&](int64_t idx) {
    int64_t x = idx / height, y = idx % height;
    return mask[size_t(y * width + x)] != 0;
  };
  while (i < total) {
    if (!on(i)) {
      ++i;
      continue;
    }
    int64_t start = i;
    while (i < total && on(i)) ++i;
    if (!out.empty()) out += ' ';
    out += std::to_string(start - prev_end) + ' ' + std::to_string(i - start);
    prev_end = i;
  }
  return out.empty() ? "-1" : out;
}

std::vector<RleEntry> read_rle_csv(const std::string& path) {
  CsvTable t = read_csv(path);
  int cid = t.column("ImageId"), crle = t.column("EncodedPixels");
  std::vector<RleEntry> entries;
  std::unordered_map<std::string, size_t> where;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    std::string id = trim(t.rows[r][size_t(cid)]);
    FCNLAB_CHECK(!id.empty(), t.where(r), ": empty ImageId");
    auto it = where.find(id);
    if (it == where.end()) {
      it = where.emplace(id, entries.size()).first;
      entries.push_back(RleEntry{id, {}, {}});
    }
    entries[it->second].rles.push_back(trim(t.rows[r][size_t(crle)]));
    entries[it->second].lines.push_back(t.row_line[r]);
  }
  return entries;
}

std::vector<uint8_t> decode_entry(const RleEntry& e, int width, int height,
                                  const std::string& file) {
  std::vector<uint8_t> mask(size_t(width) * size_t(height), 0);
  for (size_t k = 0; k < e.rles.size(); ++k)
    rle_decode_into(e.rles[k], width, height, mask,
                    file + ":" + std::to_string(k < e.lines.size() ? e.lines[k] : 0));
  return mask;
}

void write_rle_csv(const std::string& path, const std::vector<std::string>& image_ids,
                   const std::vector<std::string>& rles) {
  FCNLAB_CHECK(image_ids.size() == rles.size(), "write_rle_csv: ", image_ids.size(),
               " ids but ", rles.size(), " RLE strings");
  std::string text = "ImageId,EncodedPixels\n";
  for (size_t i = 0; i < image_ids.size(); ++i)
    text += csv_escape(image_ids[i]) + ',' + rles[i] + '\n';
  write_file_atomic(path, text.data(), text.size());  // never a half-written submission
}

}  // namespace fcnlab::data
