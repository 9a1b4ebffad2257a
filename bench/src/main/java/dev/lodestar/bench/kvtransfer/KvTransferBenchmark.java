package dev.lodestar.bench.kvtransfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lodestar.kvconnector.transfer.BlockPattern;
import dev.lodestar.kvconnector.transfer.KvBlockAllocator;
import dev.lodestar.kvconnector.transfer.KvBlockLayout;
import dev.lodestar.kvconnector.transfer.KvTransferConfig;
import dev.lodestar.kvconnector.transfer.KvTransferEngine;
import dev.lodestar.kvconnector.transfer.PullRequest;
import dev.lodestar.kvconnector.transfer.PullResult;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * KV-block pull bandwidth and latency through {@link KvTransferEngine} (two engines in one JVM, each with its
 * own UCX context, so UCX treats them as separate peers) next to a plain off-heap copy of the same blocks
 * between the same two regions. Each pull moves blocks 0..n-1 of the prefill engine into blocks n-1..0 of the
 * decode engine, so every block is its own RMA get (a contiguous run would be one get), then notifies.
 * Options (defaults in brackets): --block-sizes [16384,65536,262144,1048576,2097152] --block-counts
 * [1,10,100,1000] --mode [shm] (shm: peer-failure detection off, UCX's transport choice; tcp: detection on,
 * which makes UCX 1.13 use TCP) --min-iterations [5] --target-bytes [268435456, per cell] --out [file.json].
 */
public final class KvTransferBenchmark {

    private KvTransferBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int[] sizes = ints(opts.getOrDefault("block-sizes", "16384,65536,262144,1048576,2097152"));
        int[] counts = ints(opts.getOrDefault("block-counts", "1,10,100,1000"));
        String mode = opts.getOrDefault("mode", "shm");
        int minIterations = Integer.parseInt(opts.getOrDefault("min-iterations", "5"));
        long targetBytes = Long.parseLong(opts.getOrDefault("target-bytes", Long.toString(256L << 20)));
        int maxCount = Arrays.stream(counts).max().orElseThrow();
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();

        List<Map<String, Object>> rows = new ArrayList<>();
        System.out.printf(Locale.ROOT, "%n### KV pull over UCX (%s) vs off-heap memcpy%n%n", mode);
        System.out.println("| block | blocks | bytes | gets | pull p50 | pull p90 | pull GB/s (p50) | memcpy GB/s (p50) | UCX/memcpy | iterations |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (int blockBytes : sizes) {
            KvBlockLayout layout = KvBlockLayout.of(blockBytes, maxCount);
            KvTransferConfig.Builder p = KvTransferConfig.builder(layout).pinTimeout(java.time.Duration.ofMinutes(5));
            KvTransferConfig.Builder d = KvTransferConfig.builder(layout).pullTimeout(java.time.Duration.ofMinutes(5));
            boolean detection = mode.equals("tcp");
            try (KvTransferEngine prefill = KvTransferEngine.start(p.peerFailureDetection(detection).build());
                 KvTransferEngine decode = KvTransferEngine.start(d.peerFailureDetection(detection).build())) {
                for (int b = 0; b < maxCount; b++) {
                    BlockPattern.fill(prefill.block(b), BlockPattern.seed("bench", b));
                    decode.block(b).put(0, prefill.block(b), 0, blockBytes); // touch every destination page
                }
                for (int count : counts) {
                    rows.add(cell(prefill, decode, blockBytes, count, minIterations, targetBytes, mode));
                }
            }
        }
        String loadAfter = Files.readString(Path.of("/proc/loadavg")).trim();
        System.out.printf(Locale.ROOT, "%nload (/proc/loadavg) before: %s, after: %s; %d cores%n", loadBefore, loadAfter,
                Runtime.getRuntime().availableProcessors());

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("benchmark", "kv-transfer");
        out.put("mode", mode);
        out.put("ucxTls", System.getenv().getOrDefault("UCX_TLS", "(unset)"));
        out.put("loadBefore", loadBefore);
        out.put("loadAfter", loadAfter);
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("java", Runtime.version().toString());
        out.put("rows", rows);
        String file = opts.get("out");
        if (file != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(Path.of(file).toFile(), out);
        }
    }

    private static Map<String, Object> cell(KvTransferEngine prefill, KvTransferEngine decode, int blockBytes, int count,
                                            int minIterations, long targetBytes, String mode) throws Exception {
        long bytes = (long) blockBytes * count;
        int iterations = (int) Math.max(minIterations, Math.min(200, targetBytes / bytes));
        List<Integer> remote = new ArrayList<>();
        List<Integer> local = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            remote.add(i);
            local.add(count - 1 - i);
        }
        long[] pullNanos = new long[iterations];
        long[] copyNanos = new long[iterations];
        int gets = 0;
        int warmup = 2;
        for (int it = -warmup; it < iterations; it++) {
            String id = "bench-" + blockBytes + "-" + count + "-" + it;
            List<Integer> pinned = prefill.allocator().allocate(count);
            var released = prefill.allocator().pin(id, pinned);
            PullResult r = decode.pull(PullRequest.builder(prefill.sideChannel(), id).blocks(remote, local).build());
            if (released.get(60, TimeUnit.SECONDS) != KvBlockAllocator.Release.NOTIFIED) {
                throw new IllegalStateException("blocks of " + id + " were not released by the notification");
            }
            if (it >= 0) {
                pullNanos[it] = r.duration().toNanos();
                gets = r.gets();
            }
            // The same blocks, same direction, as plain off-heap copies (Unsafe.copyMemory under ByteBuffer.put).
            ByteBuffer[] src = new ByteBuffer[count];
            ByteBuffer[] dst = new ByteBuffer[count];
            for (int i = 0; i < count; i++) {
                src[i] = prefill.block(remote.get(i));
                dst[i] = decode.block(local.get(i));
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                dst[i].put(0, src[i], 0, blockBytes);
            }
            long t1 = System.nanoTime();
            if (it >= 0) {
                copyNanos[it] = t1 - t0;
            }
        }
        for (int i = 0; i < count; i++) {
            if (BlockPattern.firstMismatch(decode.block(local.get(i)), BlockPattern.seed("bench", remote.get(i))).isPresent()) {
                throw new IllegalStateException("block " + i + " differs after the pulls");
            }
        }
        long pullP50 = percentile(pullNanos, 50);
        long pullP90 = percentile(pullNanos, 90);
        long copyP50 = percentile(copyNanos, 50);
        double pullGbps = bytes / (double) pullP50;
        double copyGbps = bytes / (double) copyP50;
        System.out.printf(Locale.ROOT, "| %s | %d | %s | %d | %s | %s | %.2f | %.2f | %.0f%% | %d |%n", size(blockBytes),
                count, size(bytes), gets, micros(pullP50), micros(pullP90), pullGbps, copyGbps, 100 * pullGbps / copyGbps,
                iterations);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("mode", mode);
        row.put("blockBytes", blockBytes);
        row.put("blocks", count);
        row.put("bytes", bytes);
        row.put("gets", gets);
        row.put("iterations", iterations);
        row.put("pullP50Micros", pullP50 / 1e3);
        row.put("pullP90Micros", pullP90 / 1e3);
        row.put("pullGBps", pullGbps);
        row.put("memcpyP50Micros", copyP50 / 1e3);
        row.put("memcpyGBps", copyGbps);
        row.put("ucxOverMemcpy", pullGbps / copyGbps);
        return row;
    }

    private static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static String micros(long nanos) {
        return nanos >= 10_000_000 ? String.format(Locale.ROOT, "%.1f ms", nanos / 1e6)
                : String.format(Locale.ROOT, "%.0f µs", nanos / 1e3);
    }

    private static String size(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return (bytes % (1L << 20) == 0 ? Long.toString(bytes >> 20) : String.format(Locale.ROOT, "%.1f", bytes / (double) (1L << 20))) + " MiB";
        }
        return (bytes >> 10) + " KiB";
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
