package dev.squall.bench.report;

import dev.squall.bench.ws.ClientPool;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU spent by the generator, its busiest event loop, and the server over one measured interval, as a
 * percentage of one core. If the busiest loop is near 100 % the generator, not the server, sets the pace.
 */
public final class CpuWindow {
    private final ClientPool pool;
    private final ServerProcess server;
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long startWall;
    private long startProcess;
    private long[] startLoops;
    private long startServer;
    private double generatorPct;
    private double busiestLoopPct;
    private double serverPct = -1;
    private final Map<String, ServerProcess> watched;
    private final Map<String, Long> watchedStart = new LinkedHashMap<>();
    private final Map<String, Long> watchedNanos = new LinkedHashMap<>();

    public CpuWindow(ClientPool pool, ServerProcess server) {
        this(pool, server, Map.of());
    }

    /**
     * Also measures each of {@code watched} (a second node, redis-server, ...), reported under its name: its
     * share of a core and its CPU per publish, so a cost that sits outside the server under test is seen too.
     */
    public CpuWindow(ClientPool pool, ServerProcess server, Map<String, ServerProcess> watched) {
        this.pool = pool;
        this.server = server;
        this.watched = watched;
    }

    public void start() {
        startWall = System.nanoTime();
        startProcess = os.getProcessCpuTime();
        startLoops = pool.loopCpuNanos();
        startServer = server.cpuNanos();
        watched.forEach((name, process) -> watchedStart.put(name, process.cpuNanos()));
    }

    public void stop() {
        double wall = System.nanoTime() - startWall;
        generatorPct = 100.0 * (os.getProcessCpuTime() - startProcess) / wall;
        long[] loops = pool.loopCpuNanos();
        for (int i = 0; i < loops.length; i++) {
            busiestLoopPct = Math.max(busiestLoopPct, 100.0 * (loops[i] - startLoops[i]) / wall);
        }
        long serverNow = server.cpuNanos();
        if (startServer >= 0 && serverNow >= 0) {
            serverPct = 100.0 * (serverNow - startServer) / wall;
        }
        wallNanos = wall;
        watched.forEach((name, process) -> {
            long now = process.cpuNanos();
            long start = watchedStart.get(name);
            watchedNanos.put(name, start >= 0 && now >= 0 ? now - start : -1);
        });
    }

    private double wallNanos;

    public void addTo(ResultLine result) {
        result.put("gen_cpu_pct", generatorPct, 0);
        result.put("gen_loop_max_pct", busiestLoopPct, 0);
        result.put("server_cpu_pct", serverPct, 0);
    }

    /**
     * Each watched process's {@code NAME_cpu_pct} and {@code NAME_cpu_us_per_publish} (its CPU time over the
     * window divided by {@code publishes}). /proc counts in 10 ms ticks: a figure per publish needs enough
     * publishes for the ticks not to dominate ({@code NAME_cpu_ticks} says how many there were).
     */
    public void addWatchedTo(ResultLine result, long publishes) {
        watchedNanos.forEach((name, nanos) -> {
            result.put(name + "_cpu_pct", nanos < 0 ? -1 : 100.0 * nanos / wallNanos, 0);
            result.put(name + "_cpu_ticks", nanos < 0 ? -1 : nanos / 10_000_000L);
            result.put(name + "_cpu_us_per_publish", nanos < 0 || publishes <= 0 ? -1 : nanos / 1000.0 / publishes, 2);
        });
    }
}
