package dev.squall.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The server under test seen through /proc: its resident memory and CPU time. Reading /proc costs the server
 * nothing, unlike asking it for metrics, and works the same for the JVM, Node and Python.
 */
public final class ServerProcess {
    /** USER_HZ: /proc/<pid>/stat counts CPU in clock ticks, 100 per second on Linux x86-64. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private final long pid;

    public ServerProcess(long pid) {
        this.pid = pid;
    }

    public boolean known() {
        return pid > 0;
    }

    /** VmRSS in bytes, or -1 when unknown. */
    public long residentBytes() {
        if (!known()) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024; // the kernel reports kB
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("cannot read VmRSS of pid " + pid + ": " + e);
        }
        return -1;
    }

    /**
     * The JVM server's live heap in bytes: a full collection ({@code jcmd PID GC.run}), then the heap's used size
     * ({@code GC.heap_info}); -1 when unknown or not a JVM. Unlike VmRSS this does not depend on how far the heap
     * had grown before.
     */
    public long liveHeapBytes() {
        if (!known()) {
            return -1;
        }
        try {
            jcmd("GC.run");
            java.util.regex.Matcher used = java.util.regex.Pattern.compile("used (\\d+)K").matcher(jcmd("GC.heap_info"));
            return used.find() ? Long.parseLong(used.group(1)) * 1024 : -1;
        } catch (IOException | RuntimeException e) {
            System.err.println("cannot read the heap of pid " + pid + ": " + e);
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (process.waitFor() != 0) throw new IOException("jcmd " + command + " failed: " + out.strip());
        return out;
    }

    /** User plus system CPU time of the whole process (all threads) in nanoseconds, or -1 when unknown. */
    public long cpuNanos() {
        if (!known()) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the command name (field 2) may contain spaces; fields after its closing parenthesis are fixed
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long utime = Long.parseLong(fields[11]);
            long stime = Long.parseLong(fields[12]);
            return (utime + stime) * NANOS_PER_TICK;
        } catch (IOException | RuntimeException e) {
            System.err.println("cannot read CPU of pid " + pid + ": " + e);
            return -1;
        }
    }
}
