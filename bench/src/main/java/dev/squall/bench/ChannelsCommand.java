package dev.squall.bench;

import dev.squall.bench.report.ResultLine;
import dev.squall.bench.report.ServerProcess;
import dev.squall.bench.ws.ClientPool;
import dev.squall.bench.ws.WsConnection;
import dev.squall.bench.ws.WsHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 9: what a channel costs the server, over real sockets. {@code --connections} squall.v1 connections open
 * on no channel; the server's live heap is read (a full GC through jcmd); then each subscribes to
 * {@code --per-connection} channels of its own (so every channel has one subscriber), and the heap is read again;
 * then, with {@code --publish}, each publishes one message to each of its channels, retained in history, and the
 * heap is read a third time. One subscriber per channel over this machine's 20,000 descriptors needs many
 * channels per connection: 800 connections of 125 channels make 100,000.
 */
@Command(name = "channels", mixinStandardHelpOptions = true,
        description = "Server live heap per channel of one subscriber (squall.v1, many channels per connection).")
final class ChannelsCommand implements Callable<Integer> {
    @Mixin
    TargetOptions target;

    @Option(names = "--connections", description = "squall.v1 connections (default: ${DEFAULT-VALUE}).")
    int connections = 800;

    @Option(names = "--per-connection", description = "Channels each connection subscribes to (default: ${DEFAULT-VALUE}).")
    int perConnection = 125;

    @Option(names = "--publish", description = "Then publish one message of --size bytes to every channel (default: ${DEFAULT-VALUE}).")
    boolean publish = true;

    @Option(names = "--size", description = "Message size in bytes (default: ${DEFAULT-VALUE}).")
    int size = 64;

    @Option(names = "--path", description = "WebSocket path (default: ${DEFAULT-VALUE}).")
    String wsPath = "/ws";

    @Option(names = "--timeout-s", description = "Give up on a phase after this long (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 120;

    private static final byte[] SUBSCRIBED = "\"type\":\"subscribed\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PUBLISHED = "\"type\":\"published\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ERROR = "\"type\":\"error\"".getBytes(StandardCharsets.US_ASCII);

    @Override
    public Integer call() throws Exception {
        ServerProcess server = target.server();
        if (!server.known()) {
            System.err.println("channels needs --server-pid to read the server's heap");
            return 2;
        }
        List<WsConnection> open = new CopyOnWriteArrayList<>();
        AtomicLong subscribed = new AtomicLong();
        AtomicLong published = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        WsHandler handler = new WsHandler() {
            @Override
            public void onOpen(WsConnection connection) {
                open.add(connection);
            }

            @Override
            public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
                if (FrameSearch.contains(frame, offset, length, SUBSCRIBED)) subscribed.incrementAndGet();
                else if (FrameSearch.contains(frame, offset, length, PUBLISHED)) published.incrementAndGet();
                else if (FrameSearch.contains(frame, offset, length, ERROR)) errors.incrementAndGet();
            }
        };
        ResultLine result = new ResultLine("channels", target.serverName);
        long channels = (long) connections * perConnection;
        String data = "\"" + "x".repeat(Math.max(0, size - 2)) + "\"";
        try (ClientPool pool = new ClientPool(target.address(), wsPath, "squall.v1", target.threads, handler)) {
            long heapEmpty = server.liveHeapBytes();
            int connected = pool.connect(connections, target.connectInFlight, TimeUnit.SECONDS.toMillis(target.connectTimeoutSeconds));
            long heapConnected = server.liveHeapBytes();
            for (WsConnection connection : open) {
                connection.onLoop(() -> {
                    for (int k = 0; k < perConnection; k++) {
                        connection.sendText(("{\"id\":" + (k + 1) + ",\"type\":\"subscribe\",\"channel\":\"m-" + connection.id()
                                + "-" + k + "\"}").getBytes(StandardCharsets.UTF_8));
                    }
                });
            }
            await(() -> subscribed.get() + errors.get() >= (long) connected * perConnection);
            long heapSubscribed = server.liveHeapBytes();
            long heapRetained = -1;
            if (publish) {
                long errorsBefore = errors.get();
                for (WsConnection connection : open) {
                    connection.onLoop(() -> {
                        for (int k = 0; k < perConnection; k++) {
                            connection.sendText(("{\"id\":" + (perConnection + k + 1) + ",\"type\":\"publish\",\"channel\":\"m-"
                                    + connection.id() + "-" + k + "\",\"data\":" + data + "}").getBytes(StandardCharsets.UTF_8));
                        }
                    });
                }
                await(() -> published.get() + errors.get() - errorsBefore >= (long) connected * perConnection);
                heapRetained = server.liveHeapBytes();
            }
            long made = subscribed.get();
            result.put("connections", connected).put("channels", made).put("errors", errors.get())
                    .put("heap_empty_kb", heapEmpty / 1024).put("heap_connected_kb", heapConnected / 1024)
                    .put("heap_subscribed_kb", heapSubscribed / 1024)
                    .put("bytes_per_conn", connected > 0 ? (heapConnected - heapEmpty) / (double) connected : 0, 0)
                    .put("bytes_per_channel", made > 0 ? (heapSubscribed - heapConnected) / (double) made : 0, 0);
            if (publish) {
                result.put("heap_retained_kb", heapRetained / 1024)
                        .put("bytes_per_retained", published.get() > 0 ? (heapRetained - heapSubscribed) / (double) published.get() : 0, 0);
            }
            System.out.printf("%d connections, %d of %d channels subscribed (%d errors); live heap %d kB -> %d kB connected "
                            + "-> %d kB subscribed%s: %.0f bytes per connection, %.0f bytes per channel%n",
                    connected, made, channels, errors.get(), heapEmpty / 1024, heapConnected / 1024, heapSubscribed / 1024,
                    publish ? " -> " + heapRetained / 1024 + " kB with one message each" : "",
                    connected > 0 ? (heapConnected - heapEmpty) / (double) connected : 0,
                    made > 0 ? (heapSubscribed - heapConnected) / (double) made : 0);
        }
        System.out.println(result);
        return 0;
    }

    private void await(java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("a phase did not finish within " + timeoutSeconds + " s");
            Thread.sleep(10);
        }
    }
}
