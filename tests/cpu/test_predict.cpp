// fcnlab-predict, run in-process through predict_main: inputs prepared exactly as the trainer's
// loader prepares validation samples; masks back at the source size; masks, overlays,
// predictions.csv and submission.csv agreeing with each other; flip TTA mirror-consistent;
// every bad input a clear error naming it, exit 1, and no output written.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "data/dicom.h"
#include "data/loader.h"
#include "data/phantom.h"
#include "data/rle.h"
#include "data/siim.h"
#include "engine/serialize/checkpoint.h"
#include "tests/common/temp_dir.h"
#include "tests/cpu/test_predict_fixtures.h"
#include "train/predict_cli.h"

using namespace fcnlab;
using namespace fcnlab::test;
namespace fs = std::filesystem;

TEST_CASE("predict: the model input equals the loader's validation sample, CLAHE or not") {
  TempDir dir("predict_prepare");
  data::PhantomSetOptions po;
  po.count = 4;
  po.size = 40;
  data::write_phantom_set(dir.str(), po);
  const data::SiimPngDataset ds = data::SiimPngDataset::open(dir.str());
  for (bool use_clahe : {false, true}) {
    train::ModelMeta meta = tiny_meta(24, 1);
    meta.clahe = use_clahe;
    meta.clahe_tiles = 4;
    data::LoaderConfig lc;
    lc.size = 24;
    lc.shuffle = false;
    lc.clahe = use_clahe;
    lc.clahe_tiles = 4;
    lc.normalization = meta.normalization;
    data::Loader loader(std::make_shared<data::SiimSource>(ds, data::siim::Split::train), lc);
    std::vector<float> a(24 * 24), b(24 * 24);
    std::vector<int32_t> mask(24 * 24);
    loader.prepare(0, 0, 0, a.data(), mask.data());
    train::prepare_model_input(ds.load(ds.train()[0]).image, meta, 24, b.data());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("predict: source-size masks follow the checkpoint's threshold and min area") {
  // 4x4 probabilities with a 2x2 block at 0.9 in the top-left corner.
  std::vector<float> p(16, 0.1f);
  p[0] = p[1] = p[4] = p[5] = 0.9f;
  std::vector<uint8_t> same = train::source_mask(p.data(), 4, 0.5, 0, 4, 4);
  CHECK(std::count(same.begin(), same.end(), 1) == 4);
  std::vector<uint8_t> big = train::source_mask(p.data(), 4, 0.5, 0, 8, 8);
  CHECK(big.size() == 64);
  CHECK(big[0] == 1);
  CHECK(big[7 * 8 + 7] == 0);
  const auto area = std::count(big.begin(), big.end(), 1);
  CHECK(area >= 12);  // about 4x the 4 pixels, edges blurred by the bilinear enlargement
  CHECK(area <= 20);
  // min_area counts at the model's side: 4 pixels < 5 empties the image at any output size.
  std::vector<uint8_t> none = train::source_mask(p.data(), 4, 0.5, 5, 8, 8);
  CHECK(std::count(none.begin(), none.end(), 1) == 0);
  // One pixel just over the threshold fades when enlarged: the nearest-neighbour mask keeps
  // the decision (has_pneumo and the mask never disagree).
  std::vector<float> q(16, 0.0f);
  q[5] = 0.51f;
  std::vector<uint8_t> faint = train::source_mask(q.data(), 4, 0.5, 0, 8, 8);
  CHECK(std::count(faint.begin(), faint.end(), 1) == 4);
  CHECK(faint[2 * 8 + 2] == 1);

  train::ModelMeta meta = tiny_meta(512, 1);
  meta.min_area = 2048;
  CHECK(train::min_area_at(meta, 512) == 2048);
  CHECK(train::min_area_at(meta, 256) == 512);
  CHECK(train::min_area_at(meta, 1024) == 8192);
}

TEST_CASE("predict: masks, overlays, predictions.csv and submission.csv agree") {
  TempDir dir("predict_run");
  data::PhantomSetOptions po;
  po.count = 6;
  po.size = 56;
  po.seed = 3;
  data::write_phantom_set(dir / "set", po);
  const data::SiimPngDataset ds = data::SiimPngDataset::open(dir / "set");
  std::vector<data::GrayImage> images;
  for (const auto* recs : {&ds.train(), &ds.test()})
    for (const data::SiimRecord& r : *recs) images.push_back(ds.load(r).image);
  train::ModelMeta meta = tiny_meta(32, 7);
  meta.threshold = median_probability(meta, images);
  meta.has_head = true;  // adds the head's columns
  meta.head_threshold = 0.5;
  save_tiny_checkpoint(dir / "ck.safetensors", meta);

  std::string err;
  const int rc = train::predict_main({"fcnlab-predict", "--checkpoint", dir / "ck.safetensors",
                                      dir / "set/png_images", "--masks", dir / "set/png_masks",
                                      "--out", dir / "out", "--batch", "4"},
                                     &err);
  REQUIRE_MESSAGE(rc == 0, err);
  const std::vector<std::string> pred = read_lines(dir / "out/predictions.csv");
  const std::vector<std::string> sub = read_lines(dir / "out/submission.csv");
  REQUIRE(pred.size() == 7);
  REQUIRE(sub.size() == 7);
  CHECK(pred[0] ==
        "id,probability,area,has_pneumo,head_probability,has_pneumo_head,truth_area,dice");
  CHECK(sub[0] == "ImageId,EncodedPixels");
  // The phantom CSVs give each file a competition ImageId: the submission uses it.
  std::map<std::string, std::string> image_id;
  for (const auto* recs : {&ds.train(), &ds.test()})
    for (const data::SiimRecord& r : *recs) image_id[fs::path(r.file).stem().string()] = r.image_id;
  int positives = 0, empties = 0;
  int64_t total_area = 0;
  for (size_t i = 1; i < pred.size(); ++i) {
    const std::vector<std::string> f = split_csv_line(pred[i]);
    REQUIRE(f.size() == 8);
    const std::string id = f[0];
    const data::GrayImage m = data::read_png_gray8(dir / ("out/masks/" + id + ".png"));
    CHECK(m.width == 56);  // back at the source size, not the model's 32
    CHECK(m.height == 56);
    int64_t area = 0;
    std::vector<uint8_t> bits(m.pixels.size());
    for (size_t k = 0; k < bits.size(); ++k) {
      CHECK((m.pixels[k] == 0 || m.pixels[k] == 255));
      bits[k] = m.pixels[k] != 0;
      area += bits[k];
    }
    CHECK(std::stoll(f[2]) == area);
    CHECK(f[3] == (area > 0 ? "1" : "0"));
    (area > 0 ? positives : empties)++;
    total_area += area;
    // Dice against the truth file, computed here from the files alone.
    const data::GrayImage t = data::read_png_gray8(dir / ("set/png_masks/" + id + ".png"));
    int64_t ta = 0, inter = 0;
    for (size_t k = 0; k < bits.size(); ++k) {
      ta += t.pixels[k] > 127;
      inter += bits[k] && t.pixels[k] > 127;
    }
    CHECK(std::stoll(f[6]) == ta);
    const double dice = area + ta == 0 ? 1.0 : 2.0 * inter / double(area + ta);
    CHECK(std::stod(f[7]) == doctest::Approx(dice).epsilon(1e-5));
    const double head = std::stod(f[4]);
    CHECK((head > 0 && head < 1));
    CHECK(f[5] == (head >= 0.5 ? "1" : "0"));
    // The submission row decodes to exactly this mask.
    const std::vector<std::string> s = split_csv_line(sub[i]);
    CHECK(s[0] == image_id.at(id));
    CHECK(data::rle_decode(s[1], 56, 56, "submission.csv") == bits);
    CHECK((s[1] == "-1") == (area == 0));
    const data::PngInfo ov = data::read_png_info(dir / ("out/overlays/" + id + ".png"));
    CHECK(ov.width == 56);
    CHECK(ov.color_type == 2);
  }
  // The median threshold makes the masks non-trivial: some foreground, far from all of it.
  CHECK(positives > 0);
  CHECK(total_area < 6 * 56 * 56 * 3 / 4);
  // Nothing but the outputs (no temp files).
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(dir / "out")) top.push_back(e.path().filename().string());
  std::sort(top.begin(), top.end());
  CHECK(top == std::vector<std::string>{"masks", "overlays", "predictions.csv", "submission.csv"});
}

TEST_CASE("predict: flip TTA gives the mirror prediction for the mirror image") {
  TempDir dir("predict_tta");
  const data::Phantom ph = data::render_phantom(48, true, 5, 1);
  data::GrayImage mirror(48, 48);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 48; ++x) mirror.at(y, x) = ph.image.at(y, 47 - x);
  fs::create_directories(dir / "in");
  data::write_png_gray8(dir / "in/a.png", ph.image);
  data::write_png_gray8(dir / "in/b.png", mirror);
  train::ModelMeta meta = tiny_meta(48, 9);
  meta.threshold = median_probability(meta, {ph.image, mirror}, /*tta=*/true);
  save_tiny_checkpoint(dir / "ck.safetensors", meta);
  std::string err;
  REQUIRE_MESSAGE(train::predict_main({"fcnlab-predict", "-c", dir / "ck.safetensors", dir / "in",
                                       "--out", dir / "out", "--tta", "flip", "--batch", "1"},
                                      &err) == 0,
                  err);
  const data::GrayImage a = data::read_png_gray8(dir / "out/masks/a.png");
  const data::GrayImage b = data::read_png_gray8(dir / "out/masks/b.png");
  int64_t on = 0;
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 48; ++x) {
      CHECK(a.at(y, x) == b.at(y, 47 - x));
      on += a.at(y, x) != 0;
    }
  CHECK(on > 0);
  CHECK(on < 48 * 48);
  const std::vector<std::string> pred = read_lines(dir / "out/predictions.csv");
  REQUIRE(pred.size() == 3);
  CHECK(split_csv_line(pred[1])[1] == split_csv_line(pred[2])[1]);  // same image-level score
}

TEST_CASE("predict: DICOM X-rays (the original release's nested folders) predict exactly as their PNG twins") {
  TempDir dir("predict_dicom");
  train::ModelMeta meta = tiny_meta(32, 5);
  std::vector<data::GrayImage> images;
  for (int k = 0; k < 3; ++k) images.push_back(data::render_phantom(40, k != 1, 11 + k, 1).image);
  meta.threshold = median_probability(meta, images);
  save_tiny_checkpoint(dir / "ck.safetensors", meta);
  // The same pixels as PNG files and as DICOM files named by their SOPInstanceUID, two folders down.
  fs::create_directories(dir / "png");
  const fs::path series = dir / "dicom-images-test/1.2.3/1.2.3.4";
  fs::create_directories(series);
  for (int k = 0; k < 3; ++k) {
    const std::string uid = "1.2.826.0.1." + std::to_string(k);
    data::write_png_gray8(dir / ("png/" + uid + ".png"), images[static_cast<size_t>(k)]);
    data::write_dicom_gray8((series / (uid + ".dcm")).string(), images[static_cast<size_t>(k)], uid);
  }
  std::string err;
  REQUIRE_MESSAGE(train::predict_main({"fcnlab-predict", "-c", dir / "ck.safetensors", dir / "png",
                                       "--out", dir / "out_png"}, &err) == 0, err);
  REQUIRE_MESSAGE(train::predict_main({"fcnlab-predict", "-c", dir / "ck.safetensors",
                                       dir / "dicom-images-test", "--out", dir / "out_dcm"}, &err) == 0, err);
  const std::vector<std::string> a = read_lines(dir / "out_png/predictions.csv");
  const std::vector<std::string> b = read_lines(dir / "out_dcm/predictions.csv");
  REQUIRE(a.size() == 4);
  CHECK(a == b);  // ids (the UIDs), probabilities, areas: identical
  CHECK(read_lines(dir / "out_dcm/submission.csv") == read_lines(dir / "out_png/submission.csv"));
  CHECK(read_lines(dir / "out_dcm/submission.csv")[1].rfind("1.2.826.0.1.0,", 0) == 0);
  CHECK(slurp(dir / "out_dcm/masks/1.2.826.0.1.2.png") == slurp(dir / "out_png/masks/1.2.826.0.1.2.png"));
  // A single .dcm file given directly works too.
  REQUIRE_MESSAGE(train::predict_main({"fcnlab-predict", "-c", dir / "ck.safetensors",
                                       (series / "1.2.826.0.1.1.dcm").string(), "--out", dir / "one"}, &err) == 0, err);
  CHECK(read_lines(dir / "one/predictions.csv").at(1) == a.at(2));
}

TEST_CASE("predict: bad inputs are clear errors, exit 1, and write nothing") {
  TempDir dir("predict_bad");
  const data::Phantom ph = data::render_phantom(32, false, 1, 1);
  fs::create_directories(dir / "in");
  data::write_png_gray8(dir / "in/ok.png", ph.image);
  train::ModelMeta meta = tiny_meta(32, 1);
  save_tiny_checkpoint(dir / "ck.safetensors", meta);
  const std::string ck = dir / "ck.safetensors", out = dir / "out";

  auto fails = [&](std::vector<std::string> args, const std::string& needle) {
    args.insert(args.begin(), "fcnlab-predict");
    std::string err;
    const int rc = train::predict_main(args, &err);
    CHECK_MESSAGE(rc != 0, "expected failure for ", needle);
    CHECK_MESSAGE(err.find(needle) != std::string::npos, "error '", err, "' should name '", needle, "'");
    CHECK_MESSAGE(!fs::exists(out), "output written despite the error: ", needle);
    fs::remove_all(out);
  };
  // checkpoint: missing; not a safetensors file; a safetensors checkpoint without model metadata
  fails({"-c", dir / "nope.safetensors", dir / "in", "--out", out}, "nope.safetensors");
  {
    std::ofstream f(dir / "junk.safetensors", std::ios::binary);
    f << "this is not a checkpoint at all, just some text long enough to have a header";
  }
  fails({"-c", dir / "junk.safetensors", dir / "in", "--out", out}, "junk.safetensors");
  Checkpoint plain;
  plain.meta = {{"model", "ToyFcn"}};  // what fcnlab-toy-train writes
  save_checkpoint(dir / "toy.safetensors", plain);
  fails({"-c", dir / "toy.safetensors", dir / "in", "--out", out}, "toy.safetensors");
  // images: missing; corrupt (a valid PNG with a flipped byte in its pixel data); empty folder
  fails({"-c", ck, dir / "in/missing.png", "--out", out}, "missing.png");
  std::vector<uint8_t> bytes = data::read_file_bytes(dir / "in/ok.png");
  bytes[bytes.size() / 2] ^= 0x5a;
  fs::create_directories(dir / "bad");
  data::write_file_bytes(dir / "bad/corrupt.png", bytes);
  fails({"-c", ck, dir / "in", dir / "bad/corrupt.png", "--out", out}, "corrupt.png");
  fs::create_directories(dir / "empty");
  fails({"-c", ck, dir / "empty", "--out", out}, "empty");
  // a .dcm that is not a DICOM file
  { std::ofstream f(dir / "bad/not.dcm", std::ios::binary); f << "no preamble, no DICM magic"; }
  fails({"-c", ck, dir / "in", dir / "bad/not.dcm", "--out", out}, "not.dcm");
  // a truth folder that lacks the image's mask
  fails({"-c", ck, dir / "in", "--masks", dir / "empty", "--out", out}, "ok.png");
  // flags
  fails({"-c", ck, dir / "in", "--out", out, "--tta", "rotate"}, "--tta");
  fails({"-c", ck, dir / "in", "--out", out, "--batch", "0"}, "--batch");
#if !defined(FCNLAB_WITH_CUDA_KERNELS)
  fails({"-c", ck, dir / "in", "--out", out, "--device", "cuda"}, "CUDA");
#endif
  // an unwritable output: --out is an existing file
  { std::ofstream f(dir / "file"); f << "x"; }
  std::string err;
  CHECK(train::predict_main({"fcnlab-predict", "-c", ck, dir / "in", "--out", dir / "file"}, &err) == 1);
  CHECK(err.find("file") != std::string::npos);
  CHECK(slurp(dir / "file") == "x");
}
