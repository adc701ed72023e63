// dicom.h — DICOM input for the original SIIM-ACR release (dicom-images-{train,test}/…/*.dcm).
// A small built-in reader, no DCMTK needed: Part-10 files with Implicit or Explicit VR Little
// Endian pixel data (8 or 16 bits, one sample) or JPEG Baseline (8 bit, through stb_image).
// MONOCHROME1 is inverted so that bright always means dense. Other transfer syntaxes (JPEG
// lossless, JPEG 2000, RLE, big endian, deflate) are an Error that says so: fcnlab is built
// without a full DICOM toolkit.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace fcnlab::data {

struct DicomImage {
  GrayImage16 image;        // (Rows, Columns), values in [0, 2^bits_stored - 1]
  int bits_stored = 0;
  std::string transfer_syntax;     // (0002,0010)
  std::string photometric;         // (0028,0004), e.g. "MONOCHROME2"
  std::string sop_instance_uid;    // (0008,0018): the SIIM ImageId
};

DicomImage decode_dicom(const uint8_t* bytes, size_t size, const std::string& name);
DicomImage read_dicom(const std::string& path);
// 8-bit view: v * 255 / (2^bits_stored - 1), rounded.
GrayImage dicom_to_gray8(const DicomImage& d);

// An 8-bit MONOCHROME2 image as a minimal Part-10 file (explicit VR little endian, Secondary
// Capture) whose SOPInstanceUID is `sop_instance_uid`: how tests (and phantoms) produce the
// original release's layout. The file is written atomically.
std::vector<uint8_t> encode_dicom_gray8(const GrayImage& img, const std::string& sop_instance_uid);
void write_dicom_gray8(const std::string& path, const GrayImage& img,
                       const std::string& sop_instance_uid);

}  // namespace fcnlab::data
