// The allocator layer: size classes, spans, the page heap, central lists and
// thread caches. It knows nothing of tracing; the collector builds on it.
#pragma once

#include "tricolor/alloc/out_of_memory.hpp"
#include "tricolor/alloc/page_heap.hpp"
#include "tricolor/alloc/page_source.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span.hpp"
#include "tricolor/alloc/span_class.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"
