package dev.squall.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code java -jar squall-bench.jar fanout|echo|conns|recover|channels --port P ...}. */
@Command(name = "squall-bench", mixinStandardHelpOptions = true,
        description = "Lean WebSocket load generator for Squall and its peers.",
        subcommands = {FanoutCommand.class, EchoCommand.class, ConnsCommand.class, RecoverCommand.class, ChannelsCommand.class})
public final class BenchMain implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
