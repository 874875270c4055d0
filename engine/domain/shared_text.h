// SharedText: an immutable string that copies share, for the ids that repeat across a worker's samples.
#pragma once

#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace alertd::domain {

// A worker measures at one station on one device for most of a window, so the station and device ids
// of its samples repeat; each sample holds a pointer to one shared copy (16 bytes, where two strings
// took 64). Reads as a const std::string&; compares by text.
class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text)  // NOLINT(google-explicit-constructor): a value like the string it holds
      : text_(text.empty() ? nullptr : std::make_shared<const std::string>(std::move(text))) {}
  SharedText(std::string_view text) : SharedText(std::string(text)) {}  // NOLINT(google-explicit-constructor)
  SharedText(const char* text) : SharedText(std::string(text)) {}       // NOLINT(google-explicit-constructor)

  const std::string& str() const { return text_ ? *text_ : Empty(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  bool empty() const { return text_ == nullptr; }

  // Both hold the very same copy (not merely equal texts).
  bool SharesCopyWith(const SharedText& other) const { return text_ == other.text_; }
  // The heap one copy takes: the string and the shared pointer's control block.
  std::size_t CopyBytes() const { return text_ ? sizeof(std::string) + 16 + (text_->capacity() > 15 ? text_->capacity() + 1 : 0) : 0; }

  // Shares `other`'s copy if the texts are equal (and frees this one's); says whether they now share.
  bool ShareWith(const SharedText& other) {
    if (text_ == other.text_) return true;
    if (str() != other.str()) return false;
    text_ = other.text_;
    return true;
  }

  friend bool operator==(const SharedText& a, const SharedText& b) { return a.text_ == b.text_ || a.str() == b.str(); }
  template <typename T>
    requires std::convertible_to<const T&, std::string_view>
  friend bool operator==(const SharedText& a, const T& b) {
    return std::string_view(a.str()) == std::string_view(b);
  }

 private:
  static const std::string& Empty() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> text_;  // null: the empty text
};

}  // namespace alertd::domain
