// binary-trees in Go, the same shape as perf/binary_trees.cpp (one
// goroutine, min depth 4), for running beside tricolor under the same GOGC.
//
//	go build -o binary_trees_go binary_trees.go && ./binary_trees_go [depth]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
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

func main() {
	maxDepth := 21
	if len(os.Args) > 1 {
		maxDepth, _ = strconv.Atoi(os.Args[1])
	}
	const minDepth = 4
	start := time.Now()
	stretch := create(maxDepth + 1)
	fmt.Printf("stretch tree of depth %d\t check: %d\n", maxDepth+1, stretch.check())
	stretch = nil
	longLived := create(maxDepth)
	for depth := minDepth; depth <= maxDepth; depth += 2 {
		iterations := 1 << uint(maxDepth-depth+minDepth)
		sum := 0
		for i := 0; i < iterations; i++ {
			sum += create(depth).check()
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iterations, depth, sum)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, longLived.check())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "go: %d collections, %.1f ms paused in total, gc cpu %.1f%%\n", ms.NumGC,
		float64(ms.PauseTotalNs)/1e6, 100*ms.GCCPUFraction)
	fmt.Printf("time_ms %.1f\n", float64(time.Since(start).Microseconds())/1000)
}
