// unpickler.cpp — the opcode loop of the strict state_dict unpickler (see unpickler.h).
// Opcode semantics follow Python's Lib/pickle.py; the subset and the allow-list follow what
// torch.save writes (reference/weights.md §2.3, §3.1, §4).
#include "engine/serialize/unpickler.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace fcnlab::pickle {

namespace {

constexpr int kMaxDepth = 32;  // container nesting (a checkpoint holding a state_dict needs ~4)

// The torch dtype names that appear as torch.<Name>Storage / torch.<Name>Tensor, with sizes.
struct TorchType {
  const char* name;
  size_t size;
};
constexpr TorchType kTorchTypes[] = {{"Float", 4}, {"Double", 8}, {"Half", 2}, {"BFloat16", 2},
                                     {"Long", 8},  {"Int", 4},    {"Short", 2}, {"Char", 1},
                                     {"Byte", 1},  {"Bool", 1}};

// "FloatStorage" -> "Float" when the suffix matches and the rest is a known dtype, else "".
std::string torch_type_base(const std::string& name, const char* suffix) {
  size_t n = std::strlen(suffix);
  if (name.size() <= n || name.compare(name.size() - n, n, suffix) != 0) return "";
  std::string base = name.substr(0, name.size() - n);
  for (const TorchType& t : kTorchTypes)
    if (base == t.name) return base;
  return "";
}

bool global_allowed(const std::string& module, const std::string& name) {
  if (module == "collections") return name == "OrderedDict";
  if (module == "torch._utils")
    return name == "_rebuild_tensor_v2" || name == "_rebuild_tensor" ||
           name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state";
  if (module == "torch")
    return name == "Size" || !torch_type_base(name, "Storage").empty() || !torch_type_base(name, "Tensor").empty();
  return false;
}

Ref make(Kind k) {
  auto o = std::make_shared<Object>();
  o->kind = k;
  return o;
}

bool is_container(const Ref& o) {
  return o->kind == Kind::tuple || o->kind == Kind::list || o->kind == Kind::dict;
}

class Machine {
 public:
  Machine(const uint8_t* data, size_t size, const std::string& what)
      : p_(data), n_(size), what_(what) {}

  Result run() {
    while (true) {
      op_pos_ = pos_;
      uint8_t op = u8();
      switch (op) {
        case 0x80: {  // PROTO
          uint8_t v = u8();
          check(v >= 2 && v <= 5, "pickle protocol ", int(v), " (expected 2..5)");
          break;
        }
        case 0x95: skip(8); break;                // FRAME: a length hint, contents follow inline
        case '.': {                               // STOP
          Result r{pop(), pos_, std::move(storages_)};
          return r;
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case 'c': {                                        // GLOBAL "module\nname\n"
          std::string module = line(), name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Ref name = pop(), module = pop();
          check(name->kind == Kind::string && module->kind == Kind::string,
                "STACK_GLOBAL needs two strings");
          push(global(module->s, name->s));
          break;
        }
        case 'q': memo_[u8()] = top(); break;        // BINPUT
        case 'r': memo_[u32()] = top(); break;       // LONG_BINPUT
        case 0x94: {                                 // MEMOIZE
          uint32_t idx = static_cast<uint32_t>(memo_.size());
          memo_[idx] = top();
          break;
        }
        case 'h': push(memo_get(u8())); break;   // BINGET
        case 'j': push(memo_get(u32())); break;  // LONG_BINGET
        case ')': push(make(Kind::tuple)); break;       // EMPTY_TUPLE
        case 't': push(tuple(pop_mark())); break;        // TUPLE
        case 0x85: push(tuple(pop_n(1))); break;         // TUPLE1
        case 0x86: push(tuple(pop_n(2))); break;         // TUPLE2
        case 0x87: push(tuple(pop_n(3))); break;         // TUPLE3
        case ']': push(make(Kind::list)); break;         // EMPTY_LIST
        case '}': push(make(Kind::dict)); break;         // EMPTY_DICT
        case 'a': {                                      // APPEND
          Ref v = pop();
          append(top(), v);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<Ref> vs = pop_mark();
          Ref list = top();
          for (Ref& v : vs) append(list, v);
          break;
        }
        case 's': {  // SETITEM
          Ref v = pop(), k = pop();
          set_item(top(), k, v);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Ref> kv = pop_mark();
          check(kv.size() % 2 == 0, "SETITEMS with an odd number of items");
          Ref dict = top();
          for (size_t i = 0; i < kv.size(); i += 2) set_item(dict, kv[i], kv[i + 1]);
          break;
        }
        case 'K': push(integer(u8())); break;   // BININT1 (unsigned)
        case 'M': push(integer(u16())); break;  // BININT2 (unsigned)
        case 'J': push(integer(static_cast<int32_t>(u32()))); break;  // BININT (signed)
        case 0x8a: push(integer(long1())); break;                      // LONG1
        case 'X': push(string(u32())); break;                          // BINUNICODE
        case 0x8c: push(string(u8())); break;                          // SHORT_BINUNICODE
        case 'N': push(make(Kind::none)); break;
        case 0x88: push(boolean(true)); break;   // NEWTRUE
        case 0x89: push(boolean(false)); break;  // NEWFALSE
        case 'G': {                              // BINFLOAT: big-endian double
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = bits << 8 | u8();
          Ref o = make(Kind::floating);
          std::memcpy(&o->f, &bits, 8);
          push(o);
          break;
        }
        case 'R': {  // REDUCE
          Ref args = pop(), fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'b': {  // BUILD
          Ref state = pop();
          build(top(), state);
          break;
        }
        case 'Q': push(persistent_load(pop())); break;  // BINPERSID
        default:
          fail("unsupported pickle opcode 0x", hex(op),
               (op >= 0x20 && op < 0x7f ? std::string(" '") + char(op) + "'" : std::string()),
               " (a state_dict pickle uses only protocol-2/4 binary opcodes)");
      }
    }
  }

 private:
  // ---- errors
  template <class... A>
  [[noreturn]] void fail(const A&... a) {
    throw Error(detail::concat(what_, ": ", a..., " (pickle byte ", op_pos_, ")"));
  }
  template <class... A>
  void check(bool ok, const A&... a) {
    if (!ok) fail(a...);
  }
  static std::string hex(unsigned v) {
    const char* d = "0123456789abcdef";
    return std::string{d[(v >> 4) & 15], d[v & 15]};
  }

  // ---- input
  void need(size_t k) {
    if (k > n_ - pos_)
      throw Truncated(detail::concat(what_, ": pickle data ends at byte ", n_, " before its STOP "
                                     "opcode (truncated file?)"));
  }
  void skip(size_t k) { need(k); pos_ += k; }
  uint8_t u8() { need(1); return p_[pos_++]; }
  uint16_t u16() { need(2); uint16_t v = uint16_t(p_[pos_] | p_[pos_ + 1] << 8); pos_ += 2; return v; }
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | p_[pos_ + i];
    pos_ += 4;
    return v;
  }
  int64_t long1() {  // u8 length, then two's-complement little-endian
    size_t len = u8();
    check(len <= 8, "integer of ", len, " bytes does not fit 64 bits");
    need(len);
    uint64_t v = 0;
    for (size_t i = 0; i < len; ++i) v |= uint64_t(p_[pos_ + i]) << (8 * i);
    if (len > 0 && len < 8 && (p_[pos_ + len - 1] & 0x80)) v |= ~uint64_t(0) << (8 * len);
    pos_ += len;
    return static_cast<int64_t>(v);
  }
  std::string line() {  // GLOBAL argument: printable ASCII up to '\n'
    std::string s;
    while (true) {
      uint8_t c = u8();
      if (c == '\n') return s;
      check(c >= 0x20 && c < 0x7f && s.size() < 256, "malformed GLOBAL name");
      s += char(c);
    }
  }

  // ---- values
  static Ref integer(int64_t v) { Ref o = make(Kind::integer); o->i = v; return o; }
  static Ref boolean(bool v) { Ref o = make(Kind::boolean); o->b = v; return o; }
  Ref string(uint64_t len) {
    need(len);
    Ref o = make(Kind::string);
    o->s.assign(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return o;
  }
  Ref global(const std::string& module, const std::string& name) {
    check(global_allowed(module, name), "global '", module, ".", name, "' is not allowed (only "
          "collections.OrderedDict, torch._utils._rebuild_tensor*/_rebuild_parameter, torch.Size and "
          "torch.*Storage/Tensor may appear in a state_dict; a pickled nn.Module or other object cannot "
          "be imported: save model.state_dict() instead)");
    Ref o = make(Kind::global);
    o->s = module + "." + name;
    return o;
  }
  Ref tuple(std::vector<Ref> items) {
    Ref t = make(Kind::tuple);
    for (Ref& v : items) adopt(t, v);
    t->items = std::move(items);
    return t;
  }
  // Records that `child` now lives inside `parent`: freezes it and updates the depth.
  void adopt(const Ref& parent, const Ref& child) {
    if (!is_container(child)) return;
    child->frozen = true;
    parent->depth = std::max(parent->depth, child->depth + 1);
    check(parent->depth <= kMaxDepth, "containers nested deeper than ", kMaxDepth);
  }
  void append(const Ref& list, const Ref& v) {
    check(list->kind == Kind::list, "APPEND to a ", kind_name(list->kind), ", expected a list");
    check(!list->frozen, "APPEND to a list that is already inside another container");
    adopt(list, v);
    list->items.push_back(v);
  }
  void set_item(const Ref& dict, const Ref& k, const Ref& v) {
    check(dict->kind == Kind::dict, "SETITEM on a ", kind_name(dict->kind), ", expected a dict");
    check(!dict->frozen, "SETITEM on a dict that is already inside another container");
    check(k->kind == Kind::string || k->kind == Kind::integer, "dict key of type ",
          kind_name(k->kind), " (expected a string or an integer)");
    adopt(dict, v);
    dict->pairs.emplace_back(k, v);
  }

  // ---- stack
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Ref o) {
    check(stack_.size() < (size_t{1} << 24), "pickle stack too deep");
    stack_.push_back(std::move(o));
  }
  Ref pop() {
    check(stack_.size() > floor(), "pickle stack underflow");
    Ref o = std::move(stack_.back());
    stack_.pop_back();
    return o;
  }
  const Ref& top() {
    check(stack_.size() > floor(), "pickle stack underflow");
    return stack_.back();
  }
  std::vector<Ref> pop_n(size_t k) {
    check(stack_.size() >= floor() + k, "pickle stack underflow");
    std::vector<Ref> v(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
    stack_.resize(stack_.size() - k);
    return v;
  }
  std::vector<Ref> pop_mark() {
    check(!marks_.empty(), "pickle opcode needs a MARK and there is none");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Ref> v(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return v;
  }
  Ref memo_get(uint32_t i) {
    auto it = memo_.find(i);
    check(it != memo_.end(), "memo entry ", i, " read before it was written");
    return it->second;
  }

  // ---- torch semantics
  int64_t int_arg(const Ref& o, const char* what) {
    check(o->kind == Kind::integer, what, " must be an integer, got ", kind_name(o->kind));
    check(o->i >= 0, what, " must be >= 0, got ", o->i);
    return o->i;
  }
  std::vector<int64_t> ints_arg(const Ref& o, const char* what) {
    check(o->kind == Kind::tuple, what, " must be a tuple, got ", kind_name(o->kind));
    std::vector<int64_t> v;
    for (const Ref& x : o->items) v.push_back(int_arg(x, what));
    return v;
  }
  // (storage, storage_offset, size, stride) -> tensor
  Ref tensor(const Ref& storage, const Ref& offset, const Ref& size, const Ref& stride) {
    check(storage->kind == Kind::storage, "tensor storage must come from a persistent id, got ",
          kind_name(storage->kind));
    auto t = std::make_shared<TensorRef>();
    t->storage = storage->storage;
    t->offset = int_arg(offset, "tensor storage_offset");
    t->sizes = ints_arg(size, "tensor size");
    t->strides = ints_arg(stride, "tensor stride");
    check(t->sizes.size() == t->strides.size(), "tensor size has ", t->sizes.size(),
          " dims but stride has ", t->strides.size());
    Ref o = make(Kind::tensor);
    o->tensor = std::move(t);
    return o;
  }
  Ref reduce(const Ref& fn, const Ref& args) {
    check(fn->kind == Kind::global, "REDUCE of a ", kind_name(fn->kind), " (expected an allowed global)");
    check(args->kind == Kind::tuple, "REDUCE arguments must be a tuple");
    const std::vector<Ref>& a = args->items;
    const std::string& f = fn->s;
    auto nargs = [&](size_t lo, size_t hi) {
      check(a.size() >= lo && a.size() <= hi, f, " called with ", a.size(), " arguments, expected ",
            lo, (hi != lo ? detail::concat("..", hi) : std::string()));
    };
    if (f == "collections.OrderedDict") {
      nargs(0, 0);
      return make(Kind::dict);
    }
    if (f == "torch._utils._rebuild_tensor_v2") {  // (storage, offset, size, stride, grad, hooks[, meta])
      nargs(6, 7);
      return tensor(a[0], a[1], a[2], a[3]);
    }
    if (f == "torch._utils._rebuild_tensor") {  // torch 0.2-0.3, vgg16-397923af.pth
      nargs(4, 4);
      return tensor(a[0], a[1], a[2], a[3]);
    }
    if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
      nargs(3, 4);
      check(a[0]->kind == Kind::tensor, f, ": first argument must be a tensor");
      return a[0];
    }
    if (f == "torch.Size") {  // a tuple subclass: torch.Size((2, 3)) is the tuple (2, 3)
      nargs(1, 1);
      check(a[0]->kind == Kind::tuple, "torch.Size expects a tuple");
      for (const Ref& x : a[0]->items) int_arg(x, "torch.Size element");
      return a[0];
    }
    if (f.size() > 6 && !torch_type_base(f.substr(6), "Tensor").empty()) {  // torch 0.1.x: T() + BUILD
      nargs(0, 0);
      Ref o = make(Kind::tensor);
      o->tensor = std::make_shared<TensorRef>();
      o->s = f.substr(6);  // "FloatTensor": checked against the storage in BUILD
      return o;
    }
    fail("calling ", f, " is not supported");
  }
  void build(const Ref& obj, const Ref& state) {
    if (obj->kind == Kind::dict) {  // state_dict._metadata: nothing we need
      check(state->kind == Kind::dict || state->kind == Kind::none, "BUILD on a dict with a ",
            kind_name(state->kind), " state");
      return;
    }
    if (obj->kind == Kind::tensor && !obj->tensor->storage) {  // torch 0.1.x Tensor.__setstate__
      check(state->kind == Kind::tuple && state->items.size() == 4,
            "BUILD of ", obj->s, " expects (storage, offset, size, stride)");
      const auto& s = state->items;
      Ref t = tensor(s[0], s[1], s[2], s[3]);
      check(torch_type_base(obj->s, "Tensor") == torch_type_base(t->tensor->storage->type, "Storage"),
            obj->s, " built from a ", t->tensor->storage->type);
      obj->tensor = t->tensor;
      return;
    }
    fail("BUILD on a ", kind_name(obj->kind), " is not supported");
  }
  Ref persistent_load(const Ref& pid) {
    check(pid->kind == Kind::tuple && (pid->items.size() == 5 || pid->items.size() == 6),
          "persistent id must be a 5-tuple (zip) or 6-tuple (legacy) ('storage', type, key, "
          "location, numel[, view])");
    const auto& f = pid->items;
    check(f[0]->kind == Kind::string && f[0]->s == "storage", "persistent id of unknown kind");
    check(f[1]->kind == Kind::global && f[1]->s.rfind("torch.", 0) == 0 &&
              !torch_type_base(f[1]->s.substr(6), "Storage").empty(),
          "persistent id storage type must be a torch.*Storage class");
    check(f[2]->kind == Kind::string, "storage key must be a string");
    check(f[3]->kind == Kind::string, "storage location must be a string");
    int64_t numel = int_arg(f[4], "storage numel");
    if (f.size() == 6)
      check(f[5]->kind == Kind::none, "storage '", f[2]->s, "' is a view of another storage "
            "(torch < 0.4 view_metadata), which is not supported");
    std::string type = f[1]->s.substr(6);
    auto& slot = storages_[f[2]->s];
    if (!slot) {
      slot = std::make_shared<StorageRef>();
      slot->key = f[2]->s;
      slot->type = type;
      slot->numel = numel;
      slot->location = f[3]->s;
    }
    check(slot->type == type && slot->numel == numel, "storage '", slot->key, "' referenced as ",
          type, "[", numel, "] and as ", slot->type, "[", slot->numel, "]");
    Ref o = make(Kind::storage);
    o->storage = slot;
    return o;
  }

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0, op_pos_ = 0;
  const std::string& what_;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, Ref> memo_;
  std::map<std::string, std::shared_ptr<StorageRef>> storages_;
};

}  // namespace

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::none: return "None";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::tuple: return "tuple";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::global: return "global";
    case Kind::storage: return "storage";
    case Kind::tensor: return "tensor";
  }
  return "?";
}

Result unpickle(const uint8_t* data, size_t size, const std::string& what) {
  return Machine(data, size, what).run();
}

size_t storage_element_size(const std::string& type) {
  std::string base = torch_type_base(type, "Storage");
  for (const TorchType& t : kTorchTypes)
    if (base == t.name) return t.size;
  FCNLAB_FAIL("unknown torch storage type '", type, "'");
}

}  // namespace fcnlab::pickle
