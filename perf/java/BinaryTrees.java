// binary-trees on the JVM, the same shape as perf/bench.hpp's: a stretch
// tree, a long-lived tree, and 2^(depth-d+4) trees of each depth
// d = 4, 6, ..., counted and dropped; with threads > 1 the trees of each
// depth are shared out among that many threads (thread t builds trees
// t, t+T, ...). Prints checksum and time_ms; perf/suite.py runs it under
// G1 and ZGC and counts cycles and pauses from -Xlog:gc.
//
//   java -cp DIR BinaryTrees [depth = 21] [threads = 1]
public final class BinaryTrees {
  static final class Node {
    Node left, right;

    Node(Node left, Node right) {
      this.left = left;
      this.right = right;
    }

    long check() {
      return left == null ? 1 : 1 + left.check() + right.check();
    }
  }

  static Node create(int depth) {
    return depth == 0 ? new Node(null, null) : new Node(create(depth - 1), create(depth - 1));
  }

  public static void main(String[] args) throws InterruptedException {
    final int maxDepth = args.length > 0 ? Integer.parseInt(args[0]) : 21;
    final int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    final int minDepth = 4;
    final long start = System.nanoTime();
    long sum = create(maxDepth + 1).check();
    final Node longLived = create(maxDepth);
    final long[] sums = new long[threads];
    final Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      final int id = t;
      workers[t] = new Thread(() -> {
        for (int depth = minDepth; depth <= maxDepth; depth += 2) {
          final long iterations = 1L << (maxDepth - depth + minDepth);
          long s = 0;
          for (long i = id; i < iterations; i += threads) s += create(depth).check();
          sums[id] += s;
        }
      });
    }
    if (threads == 1) {
      workers[0].run();
    } else {
      for (Thread w : workers) w.start();
      for (Thread w : workers) w.join();
    }
    for (long s : sums) sum += s;
    sum += longLived.check();
    System.out.printf("checksum %d%ntime_ms %.1f%n", sum, (System.nanoTime() - start) / 1e6);
  }
}
