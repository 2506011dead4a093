// A bounded map, least recently used out first, charged in bytes: the one
// shape behind the store's caches (whole blocks, runs of served JSON).
//
// Each entry is charged `charge(value)` bytes; the cache holds at most
// `max_bytes` of them. An entry charged more than max_bytes / max_share is
// not kept, so that one large entry cannot empty the cache. Values are
// handed out as copies: keep them cheap to copy (or shared pointers).
// Thread-safe, with its own lock, held only for the map and list updates.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

#include "util/mutex.h"

namespace powchain {

template <typename Key, typename Value, typename Hasher, std::size_t (*charge)(const Value&)>
class LruCache {
 public:
  LruCache(std::size_t max_bytes, std::size_t max_share)
      : max_bytes_(max_bytes), max_entry_bytes_(max_share == 0 ? 0 : max_bytes / max_share) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // A copy of the value under `key`, which becomes the most recently used.
  std::optional<Value> Get(const Key& key) EXCLUDES(mutex_) {
    if (max_bytes_ == 0) return std::nullopt;
    MutexLock lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }

  // Adds the value as the most recently used (an entry already under `key`
  // is only refreshed: values under one key never differ), evicting the
  // least recently used to stay within the bound.
  void Put(const Key& key, Value value) EXCLUDES(mutex_) {
    const std::size_t cost = charge(value);
    if (cost > max_entry_bytes_) return;
    MutexLock lock(mutex_);
    if (auto it = map_.find(key); it != map_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    while (!lru_.empty() && bytes_ + cost > max_bytes_) {
      bytes_ -= charge(lru_.back().second);
      map_.erase(lru_.back().first);
      lru_.pop_back();
    }
    lru_.emplace_front(key, std::move(value));
    map_.emplace(key, lru_.begin());
    bytes_ += cost;
  }

  std::size_t size() const EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return map_.size();
  }
  std::size_t bytes() const EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return bytes_;
  }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  using Entry = std::pair<Key, Value>;

  const std::size_t max_bytes_;
  const std::size_t max_entry_bytes_;
  mutable Mutex mutex_;
  std::list<Entry> lru_ GUARDED_BY(mutex_);  // most recently used first
  std::unordered_map<Key, typename std::list<Entry>::iterator, Hasher> map_ GUARDED_BY(mutex_);
  std::size_t bytes_ GUARDED_BY(mutex_) = 0;
};

}  // namespace powchain
