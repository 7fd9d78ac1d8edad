// binary-trees in Go, the same shape as bench.hpp's: a stretch tree, a
// long-lived tree, and 2^(depth-d+4) trees of each depth d = 4, 6, ...,
// counted and dropped; with threads > 1 the trees of each depth are shared
// out among that many goroutines (goroutine t builds trees t, t+T, ...).
// Prints the lines of the C++ peers: checksum, time_ms, gc_cycles and
// gc_cpu_pct (perf/suite.py counts cycles and pauses from GODEBUG=gctrace=1).
//
//	go build -o binary_trees binary_trees.go && ./binary_trees [depth = 21] [threads = 1]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

type node struct{ left, right *node }

func create(depth int) *node {
	if depth == 0 {
		return &node{}
	}
	return &node{create(depth - 1), create(depth - 1)}
}

func (n *node) check() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func arg(i, def int) int {
	if len(os.Args) > i {
		if v, err := strconv.Atoi(os.Args[i]); err == nil {
			return v
		}
	}
	return def
}

func main() {
	maxDepth, threads := arg(1, 21), arg(2, 1)
	const minDepth = 4
	start := time.Now()
	sum := create(maxDepth + 1).check()
	longLived := create(maxDepth)
	sums := make([]int, threads)
	work := func(t int) {
		for depth := minDepth; depth <= maxDepth; depth += 2 {
			iterations := 1 << uint(maxDepth-depth+minDepth)
			for i := t; i < iterations; i += threads {
				sums[t] += create(depth).check()
			}
		}
	}
	if threads == 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for t := 0; t < threads; t++ {
			wg.Add(1)
			go func(t int) { defer wg.Done(); work(t) }(t)
		}
		wg.Wait()
	}
	for _, s := range sums {
		sum += s
	}
	sum += longLived.check()
	elapsed := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("checksum %d\ntime_ms %.1f\ngc_cycles %d\ngc_cpu_pct %.1f\n", sum,
		float64(elapsed.Microseconds())/1000, ms.NumGC, 100*ms.GCCPUFraction)
}
