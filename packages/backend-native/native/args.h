// Checked access to the arguments of an N-API entry point. Every entry point first builds an Args (which checks the
// argument count), then reads each argument through a typed accessor that checks its JS type, its range, and - for
// heap offsets - that the whole region it addresses lies inside the heap and is 4-byte aligned. The first failure
// throws a JS TypeError/RangeError naming the function and the argument, and every later accessor returns a harmless
// value, so the caller checks ok() once before running the kernel: a wrong call never reaches native memory.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace distillery {

/** Advises the heap's memory for transparent huge pages when it is new or has grown (hugepages.cc). */
void AdviseHugePages(uint8_t* heap, size_t bytes);

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn, size_t count) : info_(info), fn_(fn) {
    if (info.Length() != count) {
      Fail(false, std::string("expects ") + std::to_string(count) + " arguments, got " + std::to_string(info.Length()));
    }
  }

  bool ok() const { return ok_; }
  Napi::Env env() const { return info_.Env(); }

  /** Argument i as the heap (an ArrayBuffer); remembered for the offset checks. */
  uint8_t* Heap(size_t i) {
    if (!ok_) return nullptr;
    if (!info_[i].IsArrayBuffer()) return Fail(false, Name(i) + " must be an ArrayBuffer (the wasm heap)"), nullptr;
    auto buf = info_[i].As<Napi::ArrayBuffer>();
    heap_ = static_cast<uint8_t*>(buf.Data());
    heapBytes_ = buf.ByteLength();
    AdviseHugePages(heap_, heapBytes_);
    return heap_;
  }

  /** A non-negative integer below 2^53 (sizes, counts). */
  size_t Size(size_t i) {
    const double v = Number(i);
    if (!ok_) return 0;
    if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0) return Fail(true, Name(i) + " must be a non-negative integer"), 0;
    return static_cast<size_t>(v);
  }

  /** An integer in [lo, hi]. */
  int Int(size_t i, double lo, double hi) {
    const double v = Number(i);
    if (!ok_) return 0;
    if (v != std::floor(v) || v < lo || v > hi) {
      return Fail(true, Name(i) + " must be an integer in [" + Fmt(lo) + ", " + Fmt(hi) + "], got " + Fmt(v)), 0;
    }
    return static_cast<int>(v);
  }

  float Float(size_t i) { return static_cast<float>(Number(i)); }

  /** A number in [lo, hi) (e.g. a dropout rate). */
  double Real(size_t i, double lo, double hi) {
    const double v = Number(i);
    if (!ok_) return lo;
    if (!(v >= lo && v < hi)) return Fail(true, Name(i) + " must be in [" + Fmt(lo) + ", " + Fmt(hi) + "), got " + Fmt(v)), lo;
    return v;
  }

  bool Bool(size_t i) {
    if (!ok_) return false;
    if (!info_[i].IsBoolean()) return Fail(false, Name(i) + " must be a boolean"), false;
    return info_[i].As<Napi::Boolean>().Value();
  }

  /** An Int32Array (length at least minLength); its length is written to *length. */
  const int32_t* Int32s(size_t i, size_t minLength, size_t* length = nullptr) {
    return Typed<int32_t>(i, minLength, length, napi_int32_array, "an Int32Array");
  }

  /** A Float32Array (length at least minLength); its length is written to *length. */
  const float* Float32s(size_t i, size_t minLength, size_t* length = nullptr) {
    return Typed<float>(i, minLength, length, napi_float32_array, "a Float32Array");
  }

  /** A byte offset into the heap addressing `count` elements of 4 bytes (float32/int32), all inside the heap. */
  template <typename T>
  T* At(size_t i, double count) {
    static_assert(sizeof(T) == 4, "4-byte elements only");
    const double off = Number(i);
    if (!ok_) return nullptr;
    if (heap_ == nullptr) return Fail(false, "internal: heap not read before offsets"), nullptr;
    if (!(off >= 0) || off != std::floor(off) || std::fmod(off, 4.0) != 0) {
      return Fail(true, Name(i) + " must be a 4-byte aligned non-negative byte offset, got " + Fmt(off)), nullptr;
    }
    if (!(count >= 0) || off + count * 4.0 > static_cast<double>(heapBytes_)) {
      return Fail(true, Name(i) + ": " + Fmt(count) + " elements at byte " + Fmt(off) + " run past the heap (" +
                            std::to_string(heapBytes_) + " bytes)"), nullptr;
    }
    return reinterpret_cast<T*>(heap_ + static_cast<size_t>(off));
  }

  /** Whether optional offset argument `i` is absent: a negative number stands for "none" (no mask, bias, …). */
  bool Absent(size_t i) const {
    return info_.Length() > i && info_[i].IsNumber() && info_[i].As<Napi::Number>().DoubleValue() < 0;
  }

  /** The heap read by Heap() (its bytes), for calls that check many regions themselves. */
  uint8_t* HeapData() const { return heap_; }
  size_t HeapBytes() const { return heapBytes_; }

  /** Throws (once) and marks the call failed. */
  void Fail(bool range, const std::string& msg) {
    if (!ok_) return;
    ok_ = false;
    const std::string full = std::string("distillery_native.") + fn_ + ": " + msg;
    if (range) Napi::RangeError::New(info_.Env(), full).ThrowAsJavaScriptException();
    else Napi::TypeError::New(info_.Env(), full).ThrowAsJavaScriptException();
  }

 private:
  template <typename T>
  const T* Typed(size_t i, size_t minLength, size_t* length, napi_typedarray_type type, const char* what) {
    if (!ok_) return nullptr;
    if (!info_[i].IsTypedArray() || info_[i].As<Napi::TypedArray>().TypedArrayType() != type) {
      return Fail(false, Name(i) + " must be " + what), nullptr;
    }
    auto a = info_[i].As<Napi::TypedArrayOf<T>>();
    if (a.ElementLength() < minLength) {
      return Fail(true, Name(i) + " has " + std::to_string(a.ElementLength()) + " elements, needs " + std::to_string(minLength)), nullptr;
    }
    if (length != nullptr) *length = a.ElementLength();
    return a.Data();
  }

  double Number(size_t i) {
    if (!ok_) return 0;
    if (!info_[i].IsNumber()) return Fail(false, Name(i) + " must be a number"), 0;
    const double v = info_[i].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(v)) return Fail(true, Name(i) + " must be finite"), 0;
    return v;
  }
  static std::string Name(size_t i) { return "argument " + std::to_string(i); }
  static std::string Fmt(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    return std::to_string(v);
  }

  const Napi::CallbackInfo& info_;
  const char* fn_;
  bool ok_ = true;
  uint8_t* heap_ = nullptr;
  size_t heapBytes_ = 0;
};

}  // namespace distillery
