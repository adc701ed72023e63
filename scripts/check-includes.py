#!/usr/bin/env python3
"""check-includes.py — every C++/CUDA file of fcnlab includes the standard header of what it uses.

Why: GCC 13 and 14's libstdc++ stopped including some headers from others (<cstdint> from
<string>, parts of <algorithm> from <memory> ...), so a file that builds here with GCC 12 only
because of such a chain can fail on a machine with a newer GCC, such as the GPU host that
scripts/gpu-check.sh builds on. This is a heuristic: it looks for about 230 common names
(std::uint8_t, std::clamp, std::snprintf, ...) and accepts the header if the file or any of
the project's headers it includes (transitively) names it. A finding is fixed by adding the
include. Exit status 1 with one line per finding, 0 when clean.
Usage: scripts/check-includes.py [ROOT]   (default: the repository)"""
import os
import re
import sys

# header -> a regex of names that need it
USES = {
    "cstdint": r"\b(std::)?u?int(8|16|32|64)_t\b|\buintptr_t\b|\bU?INT(8|16|32|64)_(MAX|MIN)\b|\bSIZE_MAX\b",
    "cstring": r"\bstd::(memcpy|memset|memcmp|memmove|strlen|strcmp|strncmp|strerror|strchr)\b",
    "algorithm": r"\bstd::(sort|stable_sort|min|max|clamp|fill|fill_n|copy|copy_n|find|find_if|count|count_if|"
                 r"any_of|all_of|none_of|reverse|max_element|min_element|minmax_element|equal|lower_bound|"
                 r"upper_bound|transform|remove_if|unique|nth_element|partial_sort|shuffle|binary_search|"
                 r"mismatch|replace|for_each|search)\b\s*[(<]",
    "numeric": r"\bstd::(accumulate|iota|inner_product|partial_sum|gcd|lcm|reduce)\b",
    "stdexcept": r"\bstd::(runtime_error|invalid_argument|out_of_range|logic_error|length_error|range_error|overflow_error)\b",
    "exception": r"\bstd::(exception_ptr|current_exception|rethrow_exception|exception)\b",
    "memory": r"\bstd::(unique_ptr|shared_ptr|make_unique|make_shared|weak_ptr)\b",
    "functional": r"\bstd::(function|hash|ref|cref|plus|multiplies|greater|less)\b\s*[<(]",
    "sstream": r"\bstd::(ostringstream|istringstream|stringstream)\b",
    "iomanip": r"\bstd::(setw|setprecision|setfill|quoted)\b",
    "optional": r"\bstd::(optional|nullopt)\b",
    "variant": r"\bstd::(variant|visit|get_if|holds_alternative)\b",
    "span": r"\bstd::span\b",
    "array": r"\bstd::array\b",
    "map": r"\bstd::map\b",
    "set": r"\bstd::set\b",
    "unordered_map": r"\bstd::unordered_map\b",
    "unordered_set": r"\bstd::unordered_set\b",
    "string_view": r"\bstd::string_view\b",
    "thread": r"\bstd::thread\b|\bstd::this_thread\b",
    "mutex": r"\bstd::(mutex|lock_guard|unique_lock|scoped_lock)\b",
    "condition_variable": r"\bstd::condition_variable\b",
    "atomic": r"\bstd::atomic\b",
    "chrono": r"\bstd::chrono\b",
    "limits": r"\bstd::numeric_limits\b",
    "cmath": r"\bstd::(sqrt|exp|log|pow|fabs|floor|ceil|isnan|isfinite|isinf|lround|round|tanh|erf|abs|"
             r"log1p|expm1|fmod|lgamma|hypot|cos|sin|atan2)\b\s*\(",
    "cstdio": r"\bstd::(printf|fprintf|snprintf|fopen|fclose|fread|fwrite|fflush|FILE|puts|fputs|remove|rename)\b",
    "cstdlib": r"\bstd::(getenv|exit|abort|strtol|strtod|strtoul|strtoll|atoi|malloc|free|aligned_alloc|system|qsort)\b",
    "vector": r"\bstd::vector\b",
    "string": r"\bstd::(string|to_string|stoi|stol|stod|stof|getline)\b",
    "utility": r"\bstd::(pair|make_pair|move|forward|swap|exchange|index_sequence|declval|as_const)\b",
    "tuple": r"\bstd::(tuple|make_tuple|tie)\b",
    "filesystem": r"\bstd::filesystem\b",
    "fstream": r"\bstd::(ifstream|ofstream|fstream)\b",
    "iostream": r"\bstd::(cout|cerr|clog|cin)\b",
    "deque": r"\bstd::deque\b",
    "random": r"\bstd::(mt19937|mt19937_64|uniform_int_distribution|uniform_real_distribution|normal_distribution|random_device)\b",
    "type_traits": r"\bstd::(is_same_v|is_same|enable_if_t|decay_t|remove_cvref_t|conditional_t|"
                   r"is_floating_point_v|is_integral_v|is_trivially_copyable_v)\b",
    "bit": r"\bstd::(bit_cast|popcount|countl_zero|countr_zero|bit_width|has_single_bit)\b",
    "concepts": r"\bstd::(same_as|integral|floating_point|convertible_to|invocable)\b",
    "initializer_list": r"\bstd::initializer_list\b",
    "cstddef": r"\bstd::(size_t|ptrdiff_t|byte|nullptr_t)\b",
    "future": r"\bstd::(future|async|promise)\b",
    "queue": r"\bstd::(queue|priority_queue)\b",
    "list": r"\bstd::list\b",
    "charconv": r"\bstd::(from_chars|to_chars)\b",
    "ranges": r"\bstd::ranges::",
}
# headers that are guaranteed to provide what another names (or its C spelling)
ALSO = {
    "cstdint": {"stdint.h", "cinttypes", "inttypes.h"}, "cstring": {"string.h"}, "cmath": {"math.h"},
    "cstdio": {"stdio.h"}, "cstdlib": {"stdlib.h"}, "cstddef": {"stddef.h"},
    "utility": {"tuple", "map", "unordered_map"}, "ranges": {"algorithm"},
}
C_HEADERS = {"stdint.h", "string.h", "math.h", "stdio.h", "stdlib.h", "stddef.h", "inttypes.h"}
SKIP_DIRS = {"build", ".git", ".offline", "demo-out", "weights", "gpu-results"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
COMMENTS_STRINGS = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"', re.S)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
        files += [os.path.join(d, n) for n in sorted(names) if n.endswith((".cpp", ".h", ".cu", ".cuh"))]
    parsed = {}

    def parse(path):
        if path not in parsed:
            text = open(path, errors="replace").read()
            std, project = set(), []
            for kind, name in INCLUDE.findall(text):
                if (kind == "<" and "/" not in name and "." not in name) or name in C_HEADERS:
                    std.add(name)
                    continue
                for base in (os.path.dirname(path), root):
                    p = os.path.normpath(os.path.join(base, name))
                    if os.path.isfile(p):
                        project.append(p)
                        break
            parsed[path] = (std, project, COMMENTS_STRINGS.sub("", text))
        return parsed[path]

    def included(path, seen):
        if path in seen:
            return set()
        seen.add(path)
        std, project, _ = parse(path)
        out = set(std)
        for p in project:
            out |= included(p, seen)
        return out

    findings = []
    for f in files:
        have = included(f, set())
        code = parse(f)[2]
        for header, pattern in USES.items():
            if have & ({header} | ALSO.get(header, set())):
                continue
            m = re.search(pattern, code)
            if m:
                line = code.count("\n", 0, m.start()) + 1
                findings.append(f"{os.path.relpath(f, root)}:{line}: uses {m.group(0).strip()} "
                                f"but includes no <{header}> (directly or through its project headers)")
    for x in findings:
        print(x)
    print(f"check-includes: {len(files)} files, {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
