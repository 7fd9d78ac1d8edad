// Ephemerons: a value lives while its key does and no longer; cycles from a
// value back to its key are collected; chains of ephemerons are kept whole
// while their first key lives (marking's fixed point).
#include <catch2/catch.hpp>

#include <vector>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

namespace {

using Map = EphemeronMap<Counted, Counted>;

// An object with an ephemeron field, as a user type would have.
struct Slot : Object {
  Ephemeron<Counted, Counted> pair;
  void trace(Visitor& v) const { v(pair); }
};

}  // namespace

TEST_CASE("ephemeron: the value lives exactly as long as the key, even when it points back to the key") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const long destroyed_before = Counted::destroyed;
  Root<Slot> slot = heap.make<Slot>();
  Root<Counted> key = heap.make<Counted>(1);
  WeakRoot<Counted> value_weak;
  {
    Root<Counted> value = heap.make<Counted>(2);
    value->left = key;  // the value reaches its key: a cycle through the pair
    value->right = heap.make<Counted>(3);
    value_weak = value.get();
    slot->pair.set(key, value);
  }
  for (int i = 0; i < 3; ++i) heap.collect();
  REQUIRE(slot->pair.value() != nullptr);
  CHECK(slot->pair.value()->value == 2);
  CHECK(slot->pair.value()->right->value == 3);
  CHECK(slot->pair.key() == key.get());
  CHECK(Counted::destroyed == destroyed_before);

  key = nullptr;
  heap.collect();
  CHECK(slot->pair.key() == nullptr);
  CHECK(slot->pair.value() == nullptr);
  CHECK(value_weak.get() == nullptr);
  CHECK(Counted::destroyed - destroyed_before == 3);  // key, value and what the value held

  // A dead pair may be set again.
  Root<Counted> key2 = heap.make<Counted>(4);
  slot->pair.set(key2, heap.make<Counted>(5));
  heap.collect();
  CHECK(slot->pair.value()->value == 5);
}

TEST_CASE("ephemeron: a chain of entries, each value the next key, lives while its first key does") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  constexpr int kLength = 200;
  const long destroyed_before = Counted::destroyed;
  Root<Map> map = heap.make<Map>(heap);
  Root<Counted> first = heap.make<Counted>(0);
  std::vector<WeakRoot<Counted>> chain;
  chain.emplace_back(first.get());
  {
    // Inserted last to first, so that a marker scanning the table in order
    // meets most entries before their key is marked: each link of the chain
    // needs another ephemeron pass.
    std::vector<Root<Counted>> nodes;
    nodes.emplace_back(first.get());
    for (int i = 1; i <= kLength; ++i) nodes.emplace_back(heap.make<Counted>(i));
    for (int i = kLength; i >= 1; --i) map->set(nodes[static_cast<std::size_t>(i - 1)], nodes[static_cast<std::size_t>(i)]);
    for (int i = 1; i <= kLength; ++i) chain.emplace_back(nodes[static_cast<std::size_t>(i)].get());
  }
  for (int round = 0; round < 3; ++round) {
    heap.collect();
    for (int i = 0; i <= kLength; ++i) REQUIRE(chain[static_cast<std::size_t>(i)].get() != nullptr);
    Counted* k = first;
    for (int i = 1; i <= kLength; ++i) {
      k = map->get(k);
      REQUIRE(k != nullptr);
      REQUIRE(k->value == i);
    }
  }
  CHECK(map->size() == kLength);
  CHECK(Counted::destroyed == destroyed_before);
  first = nullptr;
  heap.collect();
  for (const WeakRoot<Counted>& w : chain) CHECK(w.get() == nullptr);
  CHECK(Counted::destroyed - destroyed_before == kLength + 1);
  CHECK(map->size() == 0);
}

TEST_CASE("ephemeron map: get, set, erase, and dead entries dropped as it grows") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Map> map = heap.make<Map>(heap);
  std::vector<Root<Counted>> keys;
  for (int i = 0; i < 100; ++i) {
    keys.emplace_back(heap.make<Counted>(i));
    map->set(keys.back(), heap.make<Counted>(1000 + i));
  }
  CHECK(map->size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(map->get(keys[static_cast<std::size_t>(i)])->value == 1000 + i);
  Root<Counted> stranger = heap.make<Counted>(-1);
  CHECK(map->get(stranger) == nullptr);
  CHECK(!map->erase(stranger));
  CHECK(map->erase(keys[7]));
  CHECK(!map->erase(keys[7]));
  CHECK(map->get(keys[7]) == nullptr);
  map->set(keys[7], heap.make<Counted>(7777));
  CHECK(map->get(keys[7])->value == 7777);
  map->set(keys[8], heap.make<Counted>(8888));  // replaces
  CHECK(map->get(keys[8])->value == 8888);
  CHECK(map->size() == 100);

  // Drop half of the keys: their entries die with them.
  for (std::size_t i = 0; i < keys.size(); i += 2) keys[i] = nullptr;
  heap.collect();
  CHECK(map->size() == 50);
  for (std::size_t i = 1; i < keys.size(); i += 2) CHECK(map->get(keys[i]) != nullptr);
  const std::size_t used_before = map->slots_used();
  // Growth moves only live entries: the table does not keep dead ones.
  for (int i = 0; i < 400; ++i) {
    keys.emplace_back(heap.make<Counted>(i));
    map->set(keys.back(), heap.make<Counted>(i));
  }
  CHECK(map->size() == 450);
  CHECK(map->slots_used() < used_before + 400);
  CHECK(map->slots_used() >= 450);
}

TEST_CASE("ephemeron map: a weak map survives concurrent marking while it is rewritten") {
  Options options = test::test_options();
  options.gc_percent = 10;  // a cycle every few hundred KiB: many overlap the rewriting
  Heap heap(options);
  ThreadScope attach{heap};
  Root<Map> map = heap.make<Map>(heap);
  std::vector<Root<Counted>> keys;
  const int rounds = test::kSanitized ? 60 : 200;
  for (int r = 0; r < rounds; ++r) {
    // Keys come and go; every live key's value must be intact, through
    // cycles the heap's growth starts while the map changes.
    for (int i = 0; i < 50; ++i) {
      keys.emplace_back(heap.make<Counted>(r * 100 + i));
      Root<Counted> value = heap.make<Counted>(r * 100 + i);
      value->left = keys.back();  // every value reaches its key
      map->set(keys.back(), value);
      for (int g = 0; g < 20; ++g) heap.make<Counted>(g);  // garbage
    }
    for (int i = 0; i < 25; ++i) keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(i * 7 % keys.size()));
    for (const Root<Counted>& k : keys) {
      Counted* v = map->get(k);
      REQUIRE(v != nullptr);
      REQUIRE(v->value == k->value);
      REQUIRE(v->left.get() == k.get());
    }
  }
  heap.collect();
  CHECK(map->size() == keys.size());
  CHECK(heap.gc_stats().num_gc > 3);
}
