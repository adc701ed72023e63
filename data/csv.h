// csv.h — a small RFC 4180 CSV reader: columns looked up by name, CRLF or LF line ends,
// a UTF-8 byte-order mark tolerated, quoted fields (with "" escapes, commas and newlines).
// Errors name the file, the line and the column: "train.csv:7:12: unterminated quoted field".
#pragma once
#include <string>
#include <vector>

namespace fcnlab::data {

struct CsvTable {
  std::string name;                             // the file, for messages
  std::vector<std::string> header;              // as written (surrounding spaces kept)
  std::vector<std::vector<std::string>> rows;   // every row has header.size() fields
  std::vector<int> row_line;                    // the 1-based line where each row starts

  // Index of the column whose name, ignoring surrounding spaces, is `column`
  // (the SIIM RLE CSV writes " EncodedPixels"). Throws naming the file and the header.
  int column(const std::string& column) const;
  // -1 when absent.
  int find_column(const std::string& column) const;
  // "file:line" of a row, for messages.
  std::string where(size_t row) const;
};

// Parses `text`. Blank lines are skipped; a row with a different field count is an error.
CsvTable parse_csv(const std::string& text, const std::string& name);
CsvTable read_csv(const std::string& path);

// Quotes a field if it holds a comma, a quote or a line break.
std::string csv_escape(const std::string& field);

// Removes leading and trailing spaces and tabs.
std::string trim(const std::string& s);

}  // namespace fcnlab::data
