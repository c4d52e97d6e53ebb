package dev.squall.bench.report;

import dev.squall.bench.ws.ClientPool;
import java.lang.management.ManagementFactory;

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

    public CpuWindow(ClientPool pool, ServerProcess server) {
        this.pool = pool;
        this.server = server;
    }

    public void start() {
        startWall = System.nanoTime();
        startProcess = os.getProcessCpuTime();
        startLoops = pool.loopCpuNanos();
        startServer = server.cpuNanos();
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
    }

    public void addTo(ResultLine result) {
        result.put("gen_cpu_pct", generatorPct, 0);
        result.put("gen_loop_max_pct", busiestLoopPct, 0);
        result.put("server_cpu_pct", serverPct, 0);
    }
}
