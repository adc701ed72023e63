// csv.cpp — the CSV reader: a single pass over the text with a field state machine.
#include "data/csv.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "engine/error.h"

namespace fcnlab::data {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

int CsvTable::find_column(const std::string& column) const {
  std::string want = trim(column);
  for (size_t i = 0; i < header.size(); ++i)
    if (trim(header[i]) == want) return static_cast<int>(i);
  return -1;
}

int CsvTable::column(const std::string& column) const {
  int c = find_column(column);
  if (c >= 0) return c;
  std::string have;
  for (size_t i = 0; i < header.size(); ++i) have += (i ? "," : "") + header[i];
  FCNLAB_FAIL(name, ":1: no column '", column, "' in the header (columns: ", have, ")");
}

std::string CsvTable::where(size_t row) const {
  return name + ":" + std::to_string(row < row_line.size() ? row_line[row] : 0);
}

CsvTable parse_csv(const std::string& text, const std::string& name) {
  CsvTable t;
  t.name = name;
  size_t i = 0, n = text.size();
  if (n >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // UTF-8 BOM

  int line = 1;
  size_t line_start = i;
  std::vector<std::string> record;
  std::string field;
  int record_line = 1;
  bool have_header = false;
  bool any_in_record = false;  // distinguishes a blank line from a record of one empty field

  auto col = [&](size_t at) { return static_cast<int>(at - line_start) + 1; };
  auto end_record = [&]() {
    record.push_back(std::move(field));
    field.clear();
    if (!any_in_record && record.size() == 1 && record[0].empty()) {
      record.clear();  // blank line
      return;
    }
    if (!have_header) {
      t.header = std::move(record);
      have_header = true;
    } else {
      FCNLAB_CHECK(record.size() == t.header.size(), name, ":", record_line, ": expected ",
                   t.header.size(), " fields as in the header, got ", record.size());
      t.rows.push_back(std::move(record));
      t.row_line.push_back(record_line);
    }
    record.clear();
    any_in_record = false;
  };

  while (i < n) {
    char c = text[i];
    if (field.empty() && c == '"' && (i == line_start || text[i - 1] == ',')) {
      // quoted field: runs to the closing quote; "" is a literal quote
      int open_line = line;
      int open_col = col(i);
      ++i;
      any_in_record = true;
      while (true) {
        FCNLAB_CHECK(i < n, name, ":", open_line, ":", open_col,
                     ": unterminated quoted field (opened here, never closed)");
        char q = text[i];
        if (q == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (q == '\n') {
          ++line;
          line_start = i + 1;
        }
        field += q;
        ++i;
      }
      // after the closing quote: a separator, a line end or the end of text
      if (i < n && text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      FCNLAB_CHECK(i >= n || text[i] == ',' || text[i] == '\n', name, ":", line, ":", col(i),
                   ": unexpected character '", text[i], "' after a closing quote");
      continue;
    }
    if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      any_in_record = true;
      ++i;
      continue;
    }
    if (c == '\r' && i + 1 < n && text[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (c == '\n') {
      end_record();
      ++i;
      ++line;
      line_start = i;
      record_line = line;
      continue;
    }
    FCNLAB_CHECK(c != '"', name, ":", line, ":", col(i),
                 ": a quote inside an unquoted field (quote the whole field and double it)");
    field += c;
    any_in_record = true;
    ++i;
  }
  if (any_in_record || !field.empty() || !record.empty()) end_record();
  FCNLAB_CHECK(!t.header.empty(), name, ": empty CSV (no header line)");
  return t;
}

CsvTable read_csv(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FCNLAB_CHECK(f.good(), path, ": cannot open CSV file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_csv(ss.str(), path);
}

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace fcnlab::data
