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
