// siim_layout.cpp — file names of the SIIM-ACR PNG release.
#include "data/siim_layout.h"

#include <cctype>

namespace fcnlab::data::siim {

const char* split_name(Split s) { return s == Split::train ? "train" : "test"; }

std::string png_name(int index, Split split, bool positive) {
  return std::to_string(index) + "_" + split_name(split) + "_" + (positive ? "1" : "0") + "_.png";
}

std::optional<ParsedName> parse_png_name(const std::string& name) {
  // ^(\d+)_(train|test)_(\d)_\.png$
  size_t i = 0;
  long long index = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) {
    index = index * 10 + (name[i] - '0');
    if (index > 1000000000) return std::nullopt;
    ++i;
  }
  if (i == 0 || i >= name.size() || name[i] != '_') return std::nullopt;
  std::string rest = name.substr(i + 1);
  ParsedName p;
  p.index = static_cast<int>(index);
  if (rest.rfind("train_", 0) == 0) {
    p.split = Split::train;
    rest = rest.substr(6);
  } else if (rest.rfind("test_", 0) == 0) {
    p.split = Split::test;
    rest = rest.substr(5);
  } else {
    return std::nullopt;
  }
  if (rest.size() != 6 || !std::isdigit(static_cast<unsigned char>(rest[0])) ||
      rest.substr(1) != "_.png")
    return std::nullopt;
  p.label = rest[0] - '0';
  return p;
}

}  // namespace fcnlab::data::siim
