package dev.squall.server;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ListeningSocketTest {

    /**
     * A reconnect storm reaches the kernel faster than the acceptor takes connections. With Java's default backlog
     * of 50 the kernel drops the SYNs past it and the clients retry a second later; here nothing is accepted at
     * all, and 500 clients still connect at once.
     */
    @Test
    void a_storm_of_connections_waits_in_the_backlog_instead_of_being_dropped() throws Exception {
        List<Socket> clients = new ArrayList<>();
        try (ServerSocketChannel listening = ListeningSocket.bind("127.0.0.1", 0)) {
            InetSocketAddress address = (InetSocketAddress) listening.getLocalAddress();
            for (int i = 0; i < 500; i++) {
                Socket client = new Socket();
                clients.add(client);
                // A dropped SYN is retried after 1 s and again after 3 s: under that, the connection was queued.
                client.connect(address, 900);
            }
            assertThat(clients).allMatch(Socket::isConnected);
        } finally {
            for (Socket client : clients) client.close();
        }
    }
}
