package dev.squall.bench;

import dev.squall.bench.report.ResultLine;
import dev.squall.bench.ws.ClientPool;
import dev.squall.bench.ws.WsConnection;
import dev.squall.bench.ws.WsHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 9: many clients reconnect at once to a channel and each recovers the same gap. Publishes
 * {@code --published} messages to the channel (not measured), reads its offset and epoch, then opens
 * {@code --clients} connections to {@code /ws/CHANNEL?since=OFFSET-MISSED&epoch=E} (at most
 * {@code --connect-in-flight} handshakes pending) and measures the time until every client has its subscribed
 * notice and the {@code --missed} messages after its offset. {@code --missed 0} is the baseline: the same
 * reconnects, nothing to replay.
 */
@Command(name = "recover", mixinStandardHelpOptions = true,
        description = "Time until N reconnecting clients have recovered the same gap.")
final class RecoverCommand implements Callable<Integer> {
    @Mixin
    TargetOptions target;

    @Option(names = "--clients", description = "Reconnecting clients (default: ${DEFAULT-VALUE}).")
    int clients = 1000;

    @Option(names = "--published", description = "Messages published before the reconnect (default: ${DEFAULT-VALUE}).")
    int published = 300;

    @Option(names = "--missed", description = "The newest of them each client missed (default: ${DEFAULT-VALUE}); "
            + "needs a history at least this long. 0: the baseline, reconnects with nothing to replay.")
    int missed = 300;

    @Option(names = "--size", description = "Message size in bytes (default: ${DEFAULT-VALUE}).")
    int size = 64;

    @Option(names = "--channel", description = "Channel (default: ${DEFAULT-VALUE}).")
    String channel = "bench-recover";

    @Option(names = "--timeout-s", description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 120;

    private static final Pattern POSITION = Pattern.compile("\"offset\":(\\d+),\"epoch\":\"([0-9a-f]*)\"");

    @Override
    public Integer call() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://" + target.address().getHostString() + ":" + target.address().getPort();
        String body = "x".repeat(size);
        if (missed > published) throw new IllegalArgumentException("--missed is at most --published");
        for (int i = 0; i < published; i++) {
            HttpResponse<String> published = http.send(HttpRequest.newBuilder(URI.create(base + "/receive?channel=" + channel))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (published.statusCode() != 200) throw new IllegalStateException("publish failed: " + published.body());
        }
        String info = http.send(HttpRequest.newBuilder(URI.create(base + "/channels/" + channel)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher position = POSITION.matcher(info);
        if (!position.find()) throw new IllegalStateException("no position in " + info);
        long top = Long.parseLong(position.group(1));
        String epoch = position.group(2);

        long perClient = missed + 1L;                                      // the notice, then every missed message
        long expected = perClient * clients;
        AtomicLong frames = new AtomicLong();
        AtomicLong notRecovered = new AtomicLong();
        AtomicLong caughtUpAt = new AtomicLong();
        byte[] refused = "\"recovered\":false".getBytes(StandardCharsets.US_ASCII);
        WsHandler handler = new WsHandler() {
            @Override
            public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
                if (length > 0 && frame.get(offset) == '{' && FrameSearch.contains(frame, offset, length, refused)) notRecovered.incrementAndGet();
                if (frames.incrementAndGet() == expected) caughtUpAt.set(System.nanoTime());
            }
        };
        String path = "/ws/" + channel + "?since=" + (top - missed) + (epoch.isEmpty() ? "" : "&epoch=" + epoch);
        ResultLine result = new ResultLine("recover", target.serverName);
        try (ClientPool pool = new ClientPool(target.address(), path, target.threads, handler)) {
            long start = System.nanoTime();
            int connected = pool.connect(clients, target.connectInFlight, TimeUnit.SECONDS.toMillis(target.connectTimeoutSeconds));
            double connectSeconds = (System.nanoTime() - start) / 1e9;
            long deadline = start + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            while (caughtUpAt.get() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
            double caughtUpSeconds = caughtUpAt.get() == 0 ? -1 : (caughtUpAt.get() - start) / 1e9;
            result.put("clients", connected).put("missed", missed).put("size", size)
                    .put("connect_s", connectSeconds, 3).put("caught_up_s", caughtUpSeconds, 3)
                    .put("frames", frames.get()).put("expected", expected).put("not_recovered", notRecovered.get())
                    .put("connect_failed", pool.failedConnects());
            System.out.printf("%d clients reconnected in %.3f s; all had their %d missed messages after %.3f s "
                            + "(%d/%d frames, %d not recovered)%n", connected, connectSeconds, missed, caughtUpSeconds,
                    frames.get(), expected, notRecovered.get());
        }
        System.out.println(result);
        return 0;
    }
}
