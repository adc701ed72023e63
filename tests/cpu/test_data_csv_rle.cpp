// CSV edge cases (CRLF, BOM, quotes, names, errors with file:line:column) and the SIIM RLE
// (relative starts, column-major, -1, several rows per image) on hand-made cases.
#include <doctest/doctest.h>

#include "data/csv.h"
#include "data/image.h"
#include "data/rle.h"
#include "engine/error.h"
#include "engine/rng.h"
#include "tests/cpu/data_fixtures.h"

using namespace fcnlab;
using namespace fcnlab::data;

TEST_CASE("data: CSV columns by name, CRLF, BOM, quotes and blank lines") {
  std::string text =
      "\xEF\xBB\xBFnew_filename,ImageId,has_pneumo\r\n"
      "0_train_0_.png,1.2.3,0\r\n"
      "\r\n"
      "\"1_train_1_.png\",\"a,b \"\"quoted\"\"\",1\r\n"
      "2_train_0_.png,\"two\nlines\",0";  // no final newline
  CsvTable t = parse_csv(text, "x.csv");
  REQUIRE(t.header.size() == 3);
  CHECK(t.header[0] == "new_filename");  // the BOM is not part of the first name
  CHECK(t.column("has_pneumo") == 2);
  CHECK(t.column("ImageId") == 1);
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0][1] == "1.2.3");
  CHECK(t.rows[1][0] == "1_train_1_.png");
  CHECK(t.rows[1][1] == "a,b \"quoted\"");
  CHECK(t.rows[2][1] == "two\nlines");
  CHECK(t.row_line == std::vector<int>{2, 4, 5});
  CHECK(t.where(2) == "x.csv:5");
}

TEST_CASE("data: CSV column names match ignoring surrounding spaces") {
  CsvTable t = parse_csv("ImageId, EncodedPixels\nabc, -1\n", "rle.csv");
  CHECK(t.column("EncodedPixels") == 1);
  CHECK(t.rows[0][1] == " -1");
  CHECK(trim(t.rows[0][1]) == "-1");
  CHECK(t.find_column("nothing") == -1);
  CHECK_THROWS_WITH_AS(t.column("has_pneumo"),
                       doctest::Contains("rle.csv:1: no column 'has_pneumo' in the header "
                                         "(columns: ImageId, EncodedPixels)"),
                       Error);
}

TEST_CASE("data: CSV errors name the file, the line and the column") {
  CHECK_THROWS_WITH_AS(parse_csv("a,b\n1,2\n3\n", "f.csv"),
                       doctest::Contains("f.csv:3: expected 2 fields as in the header, got 1"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_csv("a,b\n1,2\n3,\"open\n", "f.csv"),
                       doctest::Contains("f.csv:3:3: unterminated quoted field"), Error);
  CHECK_THROWS_WITH_AS(parse_csv("a,b\n1,x\"y\n", "f.csv"),
                       doctest::Contains("f.csv:2:4: a quote inside an unquoted field"), Error);
  CHECK_THROWS_WITH_AS(parse_csv("a,b\n\"1\"x,2\n", "f.csv"),
                       doctest::Contains("f.csv:2:4: unexpected character 'x' after a closing"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_csv("", "empty.csv"), doctest::Contains("empty.csv: empty CSV"),
                       Error);
  CHECK_THROWS_WITH_AS(read_csv("/nonexistent/dir/x.csv"),
                       doctest::Contains("/nonexistent/dir/x.csv: cannot open"), Error);
  CHECK(csv_escape("plain") == "plain");
  CHECK(csv_escape("a,\"b\"") == "\"a,\"\"b\"\"\"");
}

TEST_CASE("data: RLE decodes relative, column-major runs (hand-made 3x4 case)") {
  // W = 3, H = 4; column-major index = x * 4 + y.
  // Foreground: (y1,x0)=1, (y2,x0)=2, (y0,x2)=8 -> runs [1,3) and [8,9): "1 2 5 1".
  std::vector<uint8_t> m = rle_decode("1 2 5 1", 3, 4);
  std::vector<uint8_t> want = {0, 0, 1,   // y0
                               1, 0, 0,   // y1
                               1, 0, 0,   // y2
                               0, 0, 0};  // y3
  CHECK(m == want);
  CHECK(rle_encode(want, 3, 4) == "1 2 5 1");
  // a run that reaches the last pixel (x2, y3) = 11 is written (the official loop drops it)
  std::vector<uint8_t> last(12, 0);
  last[3 * 3 + 2] = 1;
  last[2 * 3 + 2] = 1;  // (y2, x2) = 10
  CHECK(rle_encode(last, 3, 4) == "10 2");
  CHECK(rle_decode("10 2", 3, 4) == last);
  // empty
  CHECK(rle_encode(std::vector<uint8_t>(12, 0), 3, 4) == "-1");
  CHECK(rle_decode(" -1", 3, 4) == std::vector<uint8_t>(12, 0));
  CHECK(rle_decode("", 3, 4) == std::vector<uint8_t>(12, 0));
}

TEST_CASE("data: RLE matches the first positive row of the real train-rle.csv") {
  // "175349 7 1013 12 ..." starts at column 171, row 245 of a 1024x1024 mask.
  std::vector<uint8_t> m = rle_decode("175349 7 1013 12", 1024, 1024);
  auto at = [&](int y, int x) { return m[size_t(y) * 1024 + size_t(x)]; };
  CHECK(at(244, 171) == 0);
  CHECK(at(245, 171) == 1);
  CHECK(at(251, 171) == 1);
  CHECK(at(252, 171) == 0);
  // second run starts at 175349 + 7 + 1013 = 176369 = 172 * 1024 + 241
  CHECK(at(240, 172) == 0);
  CHECK(at(241, 172) == 1);
  CHECK(at(252, 172) == 1);
  CHECK(at(253, 172) == 0);
  int count = 0;
  for (uint8_t v : m) count += v;
  CHECK(count == 19);
}

TEST_CASE("data: RLE round-trips random masks and rejects malformed strings") {
  for (int trial = 0; trial < 20; ++trial) {
    int w = 3 + trial % 7, h = 2 + trial % 5;
    std::vector<uint8_t> m(size_t(w * h));
    for (size_t i = 0; i < m.size(); ++i) m[i] = philox_uniform(uint64_t(trial), i) < 0.4f;
    std::string s = rle_encode(m, w, h);
    CHECK(rle_decode(s, w, h) == m);
  }
  CHECK_THROWS_WITH_AS(rle_decode("1 2 5", 3, 4, "t.csv:9"),
                       doctest::Contains("t.csv:9: RLE needs start/length pairs, got 3"), Error);
  CHECK_THROWS_WITH_AS(rle_decode("1 2 9 1", 3, 4, "t.csv:9"),
                       doctest::Contains("t.csv:9: RLE run 2 (relative start 9, length 1) ends "
                                         "at pixel 13, past the 12 pixels of a 3x4 mask"),
                       Error);
  CHECK_THROWS_WITH_AS(rle_decode("1 x", 3, 4), doctest::Contains("RLE value 2"), Error);
  CHECK_THROWS_AS(rle_decode("1 -2", 3, 4), Error);
  CHECK_THROWS_AS(rle_decode("1.5 2", 3, 4), Error);
}

TEST_CASE("data: RLE CSV merges several rows of one image and keeps -1 rows") {
  fcnlab::test::TempDir dir("rle");
  std::string path = dir / "train-rle.csv";
  write_file_bytes(path, [] {
    std::string s = "ImageId, EncodedPixels\r\nimgA, 1 2\r\nimgB, -1\r\nimgA, 8 1\r\n";
    return std::vector<uint8_t>(s.begin(), s.end());
  }());
  std::vector<RleEntry> e = read_rle_csv(path);
  REQUIRE(e.size() == 2);
  CHECK(e[0].image_id == "imgA");
  CHECK(e[0].rles == std::vector<std::string>{"1 2", "8 1"});
  CHECK(e[0].lines == std::vector<int>{2, 4});
  CHECK(e[1].rles == std::vector<std::string>{"-1"});
  // union of the two rows equals the single-row encoding "1 2 5 1"
  CHECK(decode_entry(e[0], 3, 4) == rle_decode("1 2 5 1", 3, 4));
  CHECK(decode_entry(e[1], 3, 4) == std::vector<uint8_t>(12, 0));
  // bad run on line 4 is reported with that line
  std::vector<RleEntry> bad = e;
  bad[0].rles[1] = "99 1";
  CHECK_THROWS_WITH_AS(decode_entry(bad[0], 3, 4, path),
                       doctest::Contains("train-rle.csv:4: RLE run 1"), Error);

  write_rle_csv(dir / "sub.csv", {"imgA", "imgB"}, {rle_encode(decode_entry(e[0], 3, 4), 3, 4),
                                                    "-1"});
  std::vector<RleEntry> back = read_rle_csv(dir / "sub.csv");
  REQUIRE(back.size() == 2);
  CHECK(back[0].rles == std::vector<std::string>{"1 2 5 1"});
  CHECK(back[1].rles == std::vector<std::string>{"-1"});
}
