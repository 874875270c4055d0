// SharedText: an immutable string that copies share, for the ids that repeat across a worker's samples.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace alertd::domain {

// A worker measures at one station on one device for most of a window, so the station and device ids
// of its samples repeat; each sample holds a pointer to one shared copy (8 bytes, where two strings
// took 64). Reads as a const std::string&; compares by text.
//
// The count of holders is atomic: the engine thread copies a state the committer is reading, and the
// committer images states whose texts the engine thread holds too.
class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text)  // NOLINT(google-explicit-constructor): a value like the string it holds
      : copy_(text.empty() ? nullptr : new Copy{.holders = 1, .text = std::move(text)}) {}
  SharedText(std::string_view text) : SharedText(std::string(text)) {}  // NOLINT(google-explicit-constructor)
  SharedText(const char* text) : SharedText(std::string(text)) {}       // NOLINT(google-explicit-constructor)
  SharedText(const SharedText& other) noexcept : copy_(other.copy_) { Hold(); }
  SharedText(SharedText&& other) noexcept : copy_(std::exchange(other.copy_, nullptr)) {}
  SharedText& operator=(const SharedText& other) noexcept {
    if (copy_ != other.copy_) {
      Release();
      copy_ = other.copy_;
      Hold();
    }
    return *this;
  }
  SharedText& operator=(SharedText&& other) noexcept {
    if (this != &other) {
      Release();
      copy_ = std::exchange(other.copy_, nullptr);
    }
    return *this;
  }
  ~SharedText() { Release(); }

  const std::string& str() const { return copy_ ? copy_->text : Empty(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  bool empty() const { return copy_ == nullptr; }

  // Both hold the very same copy (not merely equal texts).
  bool SharesCopyWith(const SharedText& other) const { return copy_ == other.copy_; }
  // The heap one copy takes: the count, the string and its characters beyond the inline ones.
  std::size_t CopyBytes() const {
    return copy_ ? sizeof(Copy) + (copy_->text.capacity() > 15 ? copy_->text.capacity() + 1 : 0) : 0;
  }

  // Shares `other`'s copy if the texts are equal (and frees this one's); says whether they now share.
  bool ShareWith(const SharedText& other) {
    if (copy_ == other.copy_) return true;
    if (str() != other.str()) return false;
    *this = other;
    return true;
  }

  friend bool operator==(const SharedText& a, const SharedText& b) { return a.copy_ == b.copy_ || a.str() == b.str(); }
  template <typename T>
    requires std::convertible_to<const T&, std::string_view>
  friend bool operator==(const SharedText& a, const T& b) {
    return std::string_view(a.str()) == std::string_view(b);
  }

 private:
  struct Copy {
    std::atomic<uint32_t> holders;
    const std::string text;
  };
  static const std::string& Empty() {
    static const std::string empty;
    return empty;
  }
  void Hold() const {
    if (copy_ != nullptr) copy_->holders.fetch_add(1, std::memory_order_relaxed);
  }
  void Release() {
    // The last holder deletes: acquire-release, so every holder's reads happen before the delete.
    if (copy_ != nullptr && copy_->holders.fetch_sub(1, std::memory_order_acq_rel) == 1) delete copy_;
    copy_ = nullptr;
  }

  Copy* copy_ = nullptr;  // null: the empty text
};

}  // namespace alertd::domain
