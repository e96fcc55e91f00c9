#include "models/common/dnnl_matmul.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#ifdef ANIMERUN_WITH_DNNL
#include <dnnl.hpp>

#include "models/common/dnnl_engine.h"
#endif

namespace animerun::models {

namespace {

#ifdef ANIMERUN_WITH_DNNL

// The tensor shapes CpuMatmul hands to oneDNN: 2 to 4 dims, equal leading dims.
bool ShapesFit(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() < 2 || a.dim() > 4 || b.dim() != a.dim()) return false;
  for (int64_t d = 0; d + 2 < a.dim(); ++d)
    if (a.size(d) != b.size(d)) return false;
  if (a.size(-1) != b.size(-2)) return false;
  return a.numel() > 0 && b.numel() > 0 && a.size(-2) > 0 && b.size(-1) > 0;
}

// Row- or column-major matrices: the layouts oneDNN's optimised matmul reads.
bool PlainMatrices(const at::Tensor& t) {
  const int64_t rows = t.size(-2), cols = t.size(-1);
  const int64_t rs = t.stride(-2), cs = t.stride(-1);
  return (cs == 1 && (rs >= cols || rows == 1)) || (rs == 1 && (cs >= rows || cols == 1));
}

bool Eligible(const at::Tensor& a, const at::Tensor& b) {
  if (!a.defined() || !b.defined() || !a.is_cpu() || !b.is_cpu()) return false;
  if (a.scalar_type() != b.scalar_type()) return false;
  if (a.scalar_type() != at::kFloat && a.scalar_type() != at::kBFloat16) return false;
  if (c10::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad())) return false;
  if (at::autocast::is_cpu_enabled()) return false;  // autocast picks the dtypes: LibTorch's
  return ShapesFit(a, b) && PlainMatrices(a) && PlainMatrices(b);
}

using dnnl::memory;

memory::desc Desc(const at::Tensor& t, memory::data_type type) {
  return memory::desc(memory::dims(t.sizes().begin(), t.sizes().end()), type,
                      memory::dims(t.strides().begin(), t.strides().end()));
}

// One matmul per (dtype, sizes and strides of a and b, bias or none): made once, since
// making one compiles kernels. An unset primitive marks a shape oneDNN only has its
// reference (slow) implementation for: those go to LibTorch.
struct Entry {
  bool fast = false;
  dnnl::matmul matmul;
  memory::desc a, b, c, bias, scratch;
};

using Key = std::vector<int64_t>;

Key MakeKey(const at::Tensor& a, const at::Tensor& b, bool bias) {
  Key key{static_cast<int64_t>(a.scalar_type()), a.dim(), bias};
  for (const auto* t : {&a, &b}) {
    key.insert(key.end(), t->sizes().begin(), t->sizes().end());
    key.insert(key.end(), t->strides().begin(), t->strides().end());
  }
  return key;
}

std::shared_ptr<const Entry> Make(const at::Tensor& a, const at::Tensor& b, bool bias) {
  auto entry = std::make_shared<Entry>();
  const auto type = a.scalar_type() == at::kFloat ? memory::data_type::f32 : memory::data_type::bf16;
  std::vector<int64_t> out(a.sizes().begin(), a.sizes().end());
  out.back() = b.size(-1);
  const auto plain = a.dim() == 2 ? memory::format_tag::ab
                                  : (a.dim() == 3 ? memory::format_tag::abc : memory::format_tag::abcd);
  entry->a = Desc(a, type);
  entry->b = Desc(b, type);
  entry->c = memory::desc(memory::dims(out.begin(), out.end()), type, plain);
  if (bias) entry->bias = memory::desc({1, b.size(1)}, type, memory::format_tag::ab);  // 2-D only
  try {
    // The scratchpad (packed blocks of b) is the caller's for the call only: oneDNN's own
    // would keep the largest one ever needed for the life of the process.
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const auto desc = bias ? dnnl::matmul::desc(entry->a, entry->b, entry->bias, entry->c)
                           : dnnl::matmul::desc(entry->a, entry->b, entry->c);
    dnnl::matmul::primitive_desc pd(desc, attr, DnnlEngine());
    entry->scratch = memory::desc(pd.scratchpad_desc());
    const char* impl = pd.impl_info_str();
    if (impl != nullptr && std::strncmp(impl, "ref", 3) != 0) {
      entry->matmul = dnnl::matmul(pd);
      entry->fast = true;
    }
  } catch (const dnnl::error&) {
    entry->fast = false;
  }
  return entry;
}

std::shared_ptr<const Entry> Get(const at::Tensor& a, const at::Tensor& b, bool bias = false) {
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const Entry>> cache;
  auto key = MakeKey(a, b, bias);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  auto entry = Make(a, b, bias);  // outside the lock: it compiles kernels
  std::lock_guard<std::mutex> lock(mutex);
  // Chunked attention and changing frame sizes make a few shapes each; a program that
  // cycles through many starts over rather than holding every kernel.
  if (cache.size() >= 256) cache.clear();
  return cache.emplace(std::move(key), std::move(entry)).first->second;
}

// a @ b (+ bias) by the entry's primitive, into a new contiguous tensor of a's dtype.
at::Tensor Run(const Entry& entry, const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias) {
  std::vector<int64_t> out(a.sizes().begin(), a.sizes().end());
  out.back() = b.size(-1);
  auto c = at::empty(out, a.options());
  auto& engine = DnnlEngine();
  thread_local dnnl::stream stream(engine);
  memory am(entry.a, engine, a.data_ptr()), bm(entry.b, engine, b.data_ptr()), cm(entry.c, engine, c.data_ptr());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  at::Tensor scratch;
  if (entry.scratch.get_size() > 0) {
    scratch = at::empty({static_cast<int64_t>(entry.scratch.get_size())}, a.options().dtype(at::kByte));
    args[DNNL_ARG_SCRATCHPAD] = memory(entry.scratch, engine, scratch.data_ptr());
  }
  if (bias.defined()) args[DNNL_ARG_BIAS] = memory(entry.bias, engine, bias.data_ptr());
  entry.matmul.execute(stream, args);
  stream.wait();
  return c;
}

#endif  // ANIMERUN_WITH_DNNL

}  // namespace

bool CpuMatmulUsesDnnl(const at::Tensor& a, const at::Tensor& b) {
#ifdef ANIMERUN_WITH_DNNL
  return Eligible(a, b) && Get(a, b)->fast;
#else
  (void)a, (void)b;
  return false;
#endif
}

at::Tensor CpuMatmul(const at::Tensor& a, const at::Tensor& b) {
#ifdef ANIMERUN_WITH_DNNL
  if (Eligible(a, b)) {
    const auto entry = Get(a, b);
    if (entry->fast) return Run(*entry, a, b, {});
  }
#endif
  return at::matmul(a, b);
}

at::Tensor CpuLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
#ifdef ANIMERUN_WITH_DNNL
  if (x.defined() && x.dim() >= 1 && weight.dim() == 2 && x.size(-1) == weight.size(1) && x.numel() > 0 &&
      (!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0) && bias.is_contiguous() &&
                           bias.scalar_type() == x.scalar_type() && bias.is_cpu() &&
                           !(c10::GradMode::is_enabled() && bias.requires_grad())))) {
    const auto rows = x.reshape({-1, x.size(-1)});
    const auto wt = weight.t();  // [in, out], column-major: no copy
    if (Eligible(rows, wt)) {
      const auto entry = Get(rows, wt, bias.defined());
      if (entry->fast) {
        std::vector<int64_t> out(x.sizes().begin(), x.sizes().end());
        out.back() = weight.size(0);
        return Run(*entry, rows, wt, bias).view(out);
      }
    }
  }
#endif
  return at::linear(x, weight, bias);
}

}  // namespace animerun::models
