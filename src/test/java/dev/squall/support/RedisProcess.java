package dev.squall.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} of the test's own, on a free loopback port, without persistence (so a restart loses
 * everything, as a Redis without persistence does): started with {@link #start()}, killed with {@link #kill()} and
 * started again on the same port with {@link #restart()}. The process is killed by {@link #close()}, and by a
 * shutdown hook should the test JVM end first. {@code scripts/test.sh} installs Debian's {@code redis-server}.
 */
public final class RedisProcess implements AutoCloseable {

    private static final Duration STARTUP = Duration.ofSeconds(10);

    private final int port;
    private final java.nio.file.@org.jspecify.annotations.Nullable Path dir;
    private final Thread killer = new Thread(this::kill, "redis-process-killer");
    private volatile Process process;

    private RedisProcess(int port) {
        this(port, null);
    }

    private RedisProcess(int port, java.nio.file.@org.jspecify.annotations.Nullable Path dir) {
        this.port = port;
        this.dir = dir;
    }

    /**
     * Starts a redis-server that keeps a snapshot in {@code dir} when told to ({@code SAVE}; no automatic saves)
     * and loads it when {@link #restart() restarted}: Redis's default persistence, where a restart after a crash
     * comes back as of the last snapshot, without what was written since.
     */
    public static RedisProcess startSaving(java.nio.file.Path dir) throws IOException {
        RedisProcess redis = new RedisProcess(freePort(), dir);
        Runtime.getRuntime().addShutdownHook(redis.killer);
        redis.launch();
        return redis;
    }

    /** Starts a redis-server on a free port and returns once it answers PING. */
    public static RedisProcess start() throws IOException {
        RedisProcess redis = new RedisProcess(freePort());
        Runtime.getRuntime().addShutdownHook(redis.killer);
        redis.launch();
        return redis;
    }

    /**
     * A free port kept for a redis-server that is not running yet: what a node sees when Redis is down at its start.
     * {@link #restart()} starts it.
     */
    public static RedisProcess reserve() throws IOException {
        RedisProcess redis = new RedisProcess(freePort());
        Runtime.getRuntime().addShutdownHook(redis.killer);
        return redis;
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:PORT}, what {@code --redis} takes. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Kills the server at once (SIGKILL), as a crash would; everything it held is lost. */
    public void kill() {
        Process running = process;
        if (running == null) return;
        running.destroyForcibly();
        try {
            running.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the server (again) on the same port, empty, and returns once it answers PING. */
    public void restart() throws IOException {
        kill();
        launch();
    }

    private void launch() throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--enable-debug-command", "local"));
        if (dir != null) command.addAll(List.of("--dir", dir.toString(), "--dbfilename", "dump.rdb"));
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        long end = System.nanoTime() + STARTUP.toNanos();
        while (!answersPing()) {
            if (!process.isAlive()) throw new IOException("redis-server exited with " + process.exitValue() + " on port " + port);
            if (System.nanoTime() > end) {
                kill();
                throw new IOException("redis-server did not answer PING on port " + port + " within " + STARTUP);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for redis-server", e);
            }
        }
    }

    /**
     * Makes the server busy for {@code duration} ({@code DEBUG SLEEP}), as a Redis stuck on a slow command is: every
     * client waits. Returns once it has stopped answering.
     */
    public void freeze(Duration duration) throws IOException {
        Socket sleeper = new Socket();
        sleeper.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        String command = "DEBUG SLEEP " + duration.toMillis() / 1000.0 + "\r\n";
        sleeper.getOutputStream().write(command.getBytes(StandardCharsets.US_ASCII));
        sleeper.getOutputStream().flush();
        Thread closer = new Thread(() -> {
            try (sleeper) {
                sleeper.setSoTimeout((int) duration.toMillis() + 5000);
                sleeper.getInputStream().read();                    // +OK once it wakes
            } catch (IOException ignored) {
                // killed meanwhile
            }
        }, "redis-freeze");
        closer.setDaemon(true);
        closer.start();
        long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (answersPing(200)) {
            if (System.nanoTime() > end) throw new AssertionError("redis-server on port " + port + " did not freeze");
        }
    }

    /**
     * Sends one command and returns its reply: a status or error line as it is ({@code +OK}, {@code -ERR ...}), an
     * integer's digits, or a bulk string's text. For the test's own administration: {@code CLIENT KILL},
     * {@code CONFIG SET}, {@code SAVE}, {@code INFO}.
     */
    public String command(String... args) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            socket.setSoTimeout(5000);
            return call(socket, args);
        } catch (IOException e) {
            throw new AssertionError(String.join(" ", args) + " failed on port " + port, e);
        }
    }

    /**
     * A connection of the test's own that stays open, for {@link Session#command commands} to a Redis that takes no
     * new clients ({@code CONFIG SET maxclients}).
     */
    public Session session() throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        socket.setSoTimeout(5000);
        return new Session(socket);
    }

    /** One open connection to the server; see {@link #command}. */
    public final class Session implements AutoCloseable {
        private final Socket socket;

        private Session(Socket socket) {
            this.socket = socket;
        }

        /** As {@link RedisProcess#command}, on this connection. */
        public String command(String... args) {
            try {
                return call(socket, args);
            } catch (IOException e) {
                throw new AssertionError(String.join(" ", args) + " failed on port " + port, e);
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** One command in RESP, and the first line of its reply, or the bulk string it announces. */
    private static String call(Socket socket, String... args) throws IOException {
        StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
        for (String arg : args) {
            request.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        OutputStream out = socket.getOutputStream();
        out.write(request.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
        String header = line(in);
        if (header.startsWith(":")) return header.substring(1);
        if (!header.startsWith("$")) return header;
        int length = Integer.parseInt(header.substring(1));
        if (length < 0) return "";
        byte[] bulk = new byte[length];
        in.readFully(bulk);
        in.readFully(new byte[2]);
        return new String(bulk, StandardCharsets.UTF_8);
    }

    /** Empties every database, so a test starts on a Redis that knows no channel. */
    public void flushAll() {
        try {
            String reply = inline("FLUSHALL", 5);
            if (!reply.equals("+OK\r\n")) throw new AssertionError("FLUSHALL answered " + reply);
        } catch (IOException e) {
            throw new AssertionError("FLUSHALL failed on port " + port, e);
        }
    }

    /** The names of the keys matching {@code pattern} ({@code KEYS}: fine for a test's few keys), in no order. */
    public List<String> keys(String pattern) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            socket.setSoTimeout(2000);
            OutputStream out = socket.getOutputStream();
            out.write(("KEYS " + pattern + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
            String header = line(in);
            if (!header.startsWith("*")) throw new AssertionError("KEYS answered " + header);
            List<String> keys = new java.util.ArrayList<>();
            for (int i = Integer.parseInt(header.substring(1)); i > 0; i--) {
                byte[] key = new byte[Integer.parseInt(line(in).substring(1))];
                in.readFully(key);
                line(in);
                keys.add(new String(key, StandardCharsets.UTF_8));
            }
            return keys;
        } catch (IOException e) {
            throw new AssertionError("KEYS failed on port " + port, e);
        }
    }

    /** One RESP line, without its CRLF. */
    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\r'; b = in.read()) {
            if (b < 0) throw new IOException("connection closed mid-reply");
            line.append((char) b);
        }
        in.read();
        return line.toString();
    }

    private boolean answersPing() {
        return answersPing(2000);
    }

    private boolean answersPing(int within) {
        try {
            return inline("PING", 7, within).equals("+PONG\r\n");
        } catch (IOException notYet) {
            return false;
        }
    }

    private String inline(String command, int length) throws IOException {
        return inline(command, length, 2000);
    }

    /** Sends one inline command and reads a reply of {@code length} bytes (a status line) within {@code within} ms. */
    private String inline(String command, int length, int within) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            socket.setSoTimeout(within);
            OutputStream out = socket.getOutputStream();
            out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readNBytes(length), StandardCharsets.US_ASCII);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        kill();
        process = null;
        try {
            Runtime.getRuntime().removeShutdownHook(killer);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or about to: it kills nothing that is still alive.
        }
    }
}
