// GCBench (Ellis, Kovac and Boehm) in Go, the same shape as bench.hpp's:
// a stretch tree of depth+2, a long-lived tree of depth built top-down and
// an array of 500 000 float64 that stay live, then for d = 4, 6, ..., depth
// as many trees of depth d as make twice the stretch tree's nodes, top-down,
// then as many bottom-up. The last tree of each kind is counted into the
// checksum. Prints checksum and time_ms (perf/suite.py counts cycles and
// pauses from GODEBUG=gctrace=1).
//
//	go build -o gcbench gcbench.go && ./gcbench [depth = 16]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

type node struct {
	left, right *node
	i, j        int32
}

func (n *node) check() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func populate(depth int, n *node) { // top-down
	if depth <= 0 {
		return
	}
	n.left, n.right = &node{}, &node{}
	populate(depth-1, n.left)
	populate(depth-1, n.right)
}

func makeTree(depth int) *node { // bottom-up
	if depth <= 0 {
		return &node{}
	}
	return &node{left: makeTree(depth - 1), right: makeTree(depth - 1)}
}

func treeSize(depth int) int { return 1<<(depth+1) - 1 }

func main() {
	maxDepth := 16
	if len(os.Args) > 1 {
		maxDepth, _ = strconv.Atoi(os.Args[1])
	}
	const minDepth, arraySize = 4, 500000
	stretchDepth := maxDepth + 2
	start := time.Now()
	sum := makeTree(stretchDepth).check()
	longLived := &node{}
	populate(maxDepth, longLived)
	array := make([]float64, arraySize)
	for i := 0; i < arraySize/2; i++ {
		array[i] = 1.0 / float64(i)
	}
	for depth := minDepth; depth <= maxDepth; depth += 2 {
		iterations := 2 * treeSize(stretchDepth) / treeSize(depth)
		for n := iterations; n > 0; n-- {
			t := &node{}
			populate(depth, t)
			if n == 1 {
				sum += t.check()
			}
		}
		for n := iterations; n > 0; n-- {
			t := makeTree(depth)
			if n == 1 {
				sum += t.check()
			}
		}
	}
	sum += longLived.check()
	if array[1000] != 1.0/1000 {
		sum = -1
	}
	fmt.Printf("checksum %d\ntime_ms %.1f\n", sum, float64(time.Since(start).Microseconds())/1000)
}
