package dev.squall.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
     * had grown before. Never runs jcmd against another kind of process: attaching signals the target with
     * SIGQUIT, which ends a process that is not a JVM.
     */
    public long liveHeapBytes() {
        if (!isJvm()) {
            return -1;
        }
        try {
            jcmd("GC.run");
            return usedHeapBytes(jcmd("GC.heap_info"));
        } catch (IOException | RuntimeException e) {
            System.err.println("cannot read the heap of pid " + pid + ": " + e);
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Whether the process is a JVM: its executable (or, if that link is unreadable, its argv[0]) is named java. */
    public boolean isJvm() {
        if (!known()) {
            return false;
        }
        Path exe = executable();
        if (exe != null) {
            return exe.getFileName().toString().equals("java");
        }
        try {
            String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"));
            String argv0 = cmdline.split("\0", 2)[0];
            return Path.of(argv0).getFileName().toString().equals("java");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private Path executable() {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "exe"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static final Pattern GENERATION_USED = Pattern.compile("\\btotal\\b.*\\bused (\\d+)([KMG])\\b");
    private static final Pattern Z_USED = Pattern.compile("^\\s*ZHeap\\s+used (\\d+)([KMG])\\b");
    private static final Pattern SHENANDOAH_USED = Pattern.compile("\\b(\\d+)([KMG]) used\\s*$");

    /**
     * The used heap in the output of {@code jcmd GC.heap_info}, in bytes, or -1 if none is found. G1 prints one
     * heap line, Serial and Parallel one line per generation (summed here: the first alone is the young
     * generation); ZGC and Shenandoah have lines of their own. Metaspace lines are not heap and are skipped.
     */
    static long usedHeapBytes(String heapInfo) {
        long generations = 0;
        long other = -1;
        boolean anyGeneration = false;
        for (String line : heapInfo.split("\\R")) {
            if (line.contains("Metaspace") || line.contains("class space")) {
                continue;
            }
            Matcher m = GENERATION_USED.matcher(line);
            if (m.find()) {
                generations += bytes(m.group(1), m.group(2));
                anyGeneration = true;
                continue;
            }
            Matcher z = Z_USED.matcher(line);
            Matcher shenandoah = SHENANDOAH_USED.matcher(line);
            if (other < 0 && z.find()) {
                other = bytes(z.group(1), z.group(2));
            } else if (other < 0 && shenandoah.find()) {
                other = bytes(shenandoah.group(1), shenandoah.group(2));
            }
        }
        return anyGeneration ? generations : other;
    }

    private static long bytes(String number, String unit) {
        long n = Long.parseLong(number);
        return switch (unit) {
            case "G" -> n << 30;
            case "M" -> n << 20;
            default -> n << 10;
        };
    }

    /** The server's own JDK's jcmd when it has one (attach is safest within one JDK), else this JVM's. */
    private String jcmd(String command) throws IOException, InterruptedException {
        Path exe = executable();
        Path jcmd = exe != null && Files.isExecutable(exe.resolveSibling("jcmd")) ? exe.resolveSibling("jcmd")
                : Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
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
