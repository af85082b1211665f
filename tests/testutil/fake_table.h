// FakeTable: a one-row "table" for blocking-query tests — a value, the
// index that last wrote it, and the Watch a writer fires, as the state
// store does. Not thread-safe; drive it from the test thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "store/indexed.h"
#include "store/watch.h"

namespace sider::testutil {

class FakeTable {
 public:
  store::Indexed<std::string> Read(store::WatchSet* ws) const {
    ws->Add(watch_);
    return {index_, value_};
  }
  void Write(uint64_t index, std::string value) {
    index_ = index;
    value_ = std::move(value);
    Touch();
  }
  // Fires the Watch without a newer index: e.g. a table-level watch woken
  // by a write that the query filters out.
  void Touch() {
    std::exchange(watch_, std::make_shared<store::Watch>())->Fire();
  }
  uint64_t index() const { return index_; }

 private:
  uint64_t index_ = 0;
  std::string value_;
  store::WatchPtr watch_ = std::make_shared<store::Watch>();
};

}  // namespace sider::testutil
