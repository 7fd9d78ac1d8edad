// tricolor: an embeddable managed heap with a Go-style concurrent collector.
// This is the one header users include.
#pragma once

#include "tricolor/alloc.hpp"
