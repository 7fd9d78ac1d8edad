// The pause workload of perf/pause.cpp on the JVM: a live heap of small
// linked objects in chains of 4 hanging from one big array, threads
// replacing chains at a steady rate, and a probe that allocates one object
// every 100 µs (absolute deadlines) and records how late it ran. Prints the
// "mode" and "probe" lines of perf/pause.cpp; the "mode" line's steady_s is
// the JVM uptime when the steady phase began, so that perf/suite.py counts
// only the steady phase's cycles and pauses from -Xlog:gc,gc+phases.
//
//   java -cp DIR Pause [live MiB = 1024] [seconds = 20] [threads = 2] [replacements/s per thread = 2000000]
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

public final class Pause {
  static final class Node {
    Node next;
    long a = 1, b = 2, c = 3;

    Node(Node next) {
      this.next = next;
    }
  }

  static final int CHAIN = 4;
  static final long PERIOD_NS = 100_000;

  static Node chain() {
    Node head = null;
    for (int i = 0; i < CHAIN; i++) head = new Node(head);
    return head;
  }

  static void sleepUntil(long deadline) {
    for (long d; (d = deadline - System.nanoTime()) > 0; ) LockSupport.parkNanos(d);
  }

  static double quantile(long[] v, int n, double q) {
    if (n == 0) return 0;
    long[] s = Arrays.copyOf(v, n);
    Arrays.sort(s);
    return s[Math.min(n - 1, (int) (q * n))];
  }

  public static void main(String[] args) throws InterruptedException {
    final long liveMiB = args.length > 0 ? Long.parseLong(args[0]) : 1024;
    final double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 20;
    final int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    final double rate = args.length > 3 ? Double.parseDouble(args[3]) : 2e6;
    final int nslots = (int) ((liveMiB << 20) / (48 * CHAIN));  // as many objects as perf/pause.cpp
    final Node[] slots = new Node[nslots];
    final long buildStart = System.nanoTime();
    for (int i = 0; i < nslots; i++) slots[i] = chain();
    System.gc();
    final double buildS = (System.nanoTime() - buildStart) / 1e9;
    final double steadyS = ManagementFactory.getRuntimeMXBean().getUptime() / 1e3;

    final AtomicLong replaced = new AtomicLong();
    final Thread[] mutators = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      final SplittableRandom rng = new SplittableRandom(t + 1);
      mutators[t] = new Thread(() -> {
        final int batch = 1000;
        final long batchNs = (long) (batch / rate * 1e9);
        long next = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
          for (int i = 0; i < batch / CHAIN; i++) slots[rng.nextInt(nslots)] = chain();
          replaced.addAndGet(batch);
          next += batchNs;
          sleepUntil(next);
        }
      });
      mutators[t].setDaemon(true);
      mutators[t].start();
    }

    final int max = (int) (seconds * 1e4) + 16;
    final long[] lateness = new long[max], service = new long[max];
    int n = 0;
    final SplittableRandom rng = new SplittableRandom(99);
    final long start = System.nanoTime(), end = start + (long) (seconds * 1e9);
    for (long deadline = start + PERIOD_NS; deadline < end && n < max; deadline += PERIOD_NS) {
      sleepUntil(deadline);
      final long begin = System.nanoTime();
      slots[rng.nextInt(nslots)] = new Node(null);
      final long done = System.nanoTime();
      lateness[n] = begin - deadline;
      service[n++] = done - begin;
      while (deadline + PERIOD_NS < done) deadline += PERIOD_NS;  // skip missed deadlines
    }
    for (Thread m : mutators) m.interrupt();
    System.out.printf("mode java live_mib %d build_s %.1f steady_s %.3f seconds %.0f threads %d replaced_per_s %.0f%n",
        liveMiB, buildS, steadyS, seconds, threads, replaced.get() / seconds);
    System.out.printf("probe %d  late_p50_us %.1f  late_p99.9_us %.1f  late_max_us %.1f  service_p99.9_us %.1f  service_max_us %.1f%n",
        n, quantile(lateness, n, 0.5) / 1e3, quantile(lateness, n, 0.999) / 1e3, quantile(lateness, n, 1) / 1e3,
        quantile(service, n, 0.999) / 1e3, quantile(service, n, 1) / 1e3);
  }
}
