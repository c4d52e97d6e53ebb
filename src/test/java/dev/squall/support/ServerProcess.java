package dev.squall.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code dev.squall.server.Main} in a child JVM, for what only a real process shows: signals, exit codes, and what it
 * prints. Its stdout and stderr go to one log file, readable at any time with {@link #output()}.
 */
public final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final Path log;

    private ServerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code java dev.squall.server.Main ARGS} in {@code workingDir}, on this JVM's class path. */
    public static ServerProcess start(Path workingDir, Path log, String... args) throws IOException {
        return start(workingDir, log, List.of(), args);
    }

    /** As {@link #start(Path, Path, String...)}, with JVM options ({@code -D...}) before the main class. */
    public static ServerProcess start(Path workingDir, Path log, List<String> jvmOptions, String... args) throws IOException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        // A test run started in the background (a CI job, `cmd &`) passes SIGINT on as ignored, and a JVM leaves an
        // ignored signal ignored: the child gets the default back, so Ctrl-C's signal reaches its handler (coreutils env).
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT,TERM",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                // The C1 compiler alone: a test's server is short-lived and lightly loaded, and the C2 compiles a full
                // JIT starts with took half its CPU to the start-up line (1.9 s -> 1.05 s, 3.0 s -> 1.3 s to the line
                // on 2 busy cores). What these tests read (lines, exit codes, answers) does not depend on the JIT.
                "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.add("dev.squall.server.Main");
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .directory(workingDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new ServerProcess(process, log.toAbsolutePath());
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM, as systemd, Docker and Kubernetes send it. */
    public void terminate() {
        process.destroy();
    }

    /** Sends {@code SIGNAME} (e.g. {@code INT}, what Ctrl-C sends) with {@code kill}. */
    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** Waits for the process to end; its exit code, or fails after {@code seconds}. */
    public int exitCode(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("still running " + seconds + " s later; output so far:\n" + output());
        }
        return process.exitValue();
    }

    /** Everything it has printed so far. */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    public Path log() {
        return log;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
