// npy.h — NumPy's .npy format, so that a layer output fcnlab-inspect dumps can be compared
// with any framework (np.load), and an input prepared in Python can be fed to fcnlab.
//
// Layout (numpy/lib/format.py, versions 1.0, 2.0 and 3.0):
//   "\x93NUMPY" major minor  header-length (u16 LE in 1.0, u32 LE in 2.0/3.0)
//   header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//           padded with spaces and ended by '\n' so that the data starts 64-byte aligned
//   data:   the elements, row-major (C order) when fortran_order is False.
//
// Read: '<f4' -> f32, '<f8' -> f64, '<i4' -> i32, '|u1' -> u8 (little-endian, C order, at most
// 5 dimensions). The header is parsed strictly: exactly the three keys, each once, a shape of
// non-negative ints, and a data section of exactly the size the header announces. Anything
// else (big-endian, Fortran order, object arrays, truncated or trailing bytes) is an Error that
// names the file and what was expected. Write: any of the four dtypes (fcnlab dumps f32),
// version 1.0, atomically (engine/serialize/atomic_file.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace fcnlab {

// Reads a whole .npy file into a CPU tensor.
Tensor load_npy(const std::string& path);
// The same from bytes in memory; `name` stands for the file in error messages.
Tensor parse_npy(const uint8_t* bytes, size_t size, const std::string& name);

// The exact bytes save_npy writes (a CUDA tensor is copied to the host first).
std::vector<uint8_t> encode_npy(const Tensor& t);
void save_npy(const std::string& path, const Tensor& t);

// The descr NumPy uses for a dtype: "<f4", "<f8", "<i4", "|u1".
const char* npy_descr(DType t);

}  // namespace fcnlab
