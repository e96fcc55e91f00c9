// A list of callbacks that a core object notifies of its changes (the session, the
// controllers). Observers run on the thread that calls Notify (the owner's thread); one may
// add or remove observers, itself included, while being notified.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace animerun {

template <typename... Args>
class Observers {
 public:
  using Fn = std::function<void(Args...)>;

  // Returns an id for Remove.
  int Add(Fn fn) {
    list_.emplace_back(++last_id_, std::move(fn));
    return last_id_;
  }
  void Remove(int id) {
    for (auto it = list_.begin(); it != list_.end(); ++it)
      if (it->first == id) {
        list_.erase(it);
        return;
      }
  }
  void Notify(const Args&... args) const {
    const auto copy = list_;  // observers may change the list
    for (const auto& entry : copy) entry.second(args...);
  }
  bool Empty() const { return list_.empty(); }

 private:
  std::vector<std::pair<int, Fn>> list_;
  int last_id_ = 0;
};

}  // namespace animerun
