// tricolor: an embeddable managed heap with a Go-style garbage collector.
// This is the one header users include.
#pragma once

#include "tricolor/array.hpp"
#include "tricolor/ephemeron.hpp"
#include "tricolor/heap.hpp"
#include "tricolor/intern.hpp"
#include "tricolor/member.hpp"
#include "tricolor/object.hpp"
#include "tricolor/options.hpp"
#include "tricolor/pool.hpp"
#include "tricolor/root.hpp"
#include "tricolor/usage_error.hpp"
#include "tricolor/visitor.hpp"
#include "tricolor/weak.hpp"
#include "tricolor/alloc/out_of_memory.hpp"
