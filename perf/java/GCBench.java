// GCBench (Ellis, Kovac and Boehm) on the JVM, the same shape as
// perf/bench.hpp's: a stretch tree of depth+2, a long-lived tree of depth
// built top-down and an array of 500 000 doubles that stay live, then for
// d = 4, 6, ..., depth as many trees of depth d as make twice the stretch
// tree's nodes, top-down, then as many bottom-up. The last tree of each kind
// is counted into the checksum. Prints checksum and time_ms; perf/suite.py
// runs it under G1 and ZGC and counts cycles and pauses from -Xlog:gc.
//
//   java -cp DIR GCBench [depth = 16]
public final class GCBench {
  static final class Node {
    Node left, right;
    int i, j;

    long check() {
      return left == null ? 1 : 1 + left.check() + right.check();
    }
  }

  static void populate(int depth, Node n) {  // top-down
    if (depth <= 0) return;
    n.left = new Node();
    n.right = new Node();
    populate(depth - 1, n.left);
    populate(depth - 1, n.right);
  }

  static Node makeTree(int depth) {  // bottom-up
    Node n = new Node();
    if (depth > 0) {
      n.left = makeTree(depth - 1);
      n.right = makeTree(depth - 1);
    }
    return n;
  }

  static long treeSize(int depth) {
    return (1L << (depth + 1)) - 1;
  }

  public static void main(String[] args) {
    final int maxDepth = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    final int minDepth = 4, arraySize = 500000;
    final int stretchDepth = maxDepth + 2;
    final long start = System.nanoTime();
    long sum = makeTree(stretchDepth).check();
    final Node longLived = new Node();
    populate(maxDepth, longLived);
    final double[] array = new double[arraySize];
    for (int i = 0; i < arraySize / 2; i++) array[i] = 1.0 / i;
    for (int depth = minDepth; depth <= maxDepth; depth += 2) {
      final long iterations = 2 * treeSize(stretchDepth) / treeSize(depth);
      for (long n = iterations; n > 0; n--) {
        Node t = new Node();
        populate(depth, t);
        if (n == 1) sum += t.check();
      }
      for (long n = iterations; n > 0; n--) {
        Node t = makeTree(depth);
        if (n == 1) sum += t.check();
      }
    }
    sum += longLived.check();
    if (array[1000] != 1.0 / 1000) sum = -1;
    System.out.printf("checksum %d%ntime_ms %.1f%n", sum, (System.nanoTime() - start) / 1e6);
  }
}
