package dev.squall.bench;

import dev.squall.bench.report.ServerProcess;
import java.net.InetSocketAddress;
import picocli.CommandLine.Option;

/** Where the server under test is and how to reach it; shared by every mode. */
public final class TargetOptions {
    @Option(names = "--host", description = "Server address; loopback only (default: ${DEFAULT-VALUE}).")
    String host = "127.0.0.1";

    @Option(names = "--port", required = true, description = "Server port.")
    int port;

    @Option(names = "--server", description = "Name printed in the RESULT line (default: ${DEFAULT-VALUE}).")
    String serverName = "unknown";

    @Option(names = "--server-pid", description = "Server pid, to read its CPU and RSS from /proc (0: unknown).")
    long serverPid;

    @Option(names = "--threads", description = "Event-loop threads of the generator (default: ${DEFAULT-VALUE}).")
    int threads = 1;

    @Option(names = "--connect-in-flight",
            description = "Upgrades in flight while connecting (default: ${DEFAULT-VALUE}).")
    int connectInFlight = 200;

    @Option(names = "--connect-timeout-s", description = "Time allowed to open all connections (default: ${DEFAULT-VALUE}).")
    int connectTimeoutSeconds = 120;

    InetSocketAddress address() {
        if (!host.startsWith("127.") && !host.equals("localhost") && !host.equals("::1")) {
            throw new IllegalArgumentException("this generator only loads loopback addresses, not " + host);
        }
        return new InetSocketAddress(host, port);
    }

    ServerProcess server() {
        return new ServerProcess(serverPid);
    }
}
