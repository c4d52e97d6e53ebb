package dev.squall.broker;

import dev.squall.broker.redis.RedisBroker;
import dev.squall.support.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The broker contract against a real redis-server of the test's own. */
class RedisBrokerTest extends BrokerContract {

    private static RedisProcess redis;
    private static ScheduledExecutorService scheduler;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopRedis() {
        scheduler.shutdownNow();
        redis.close();
    }

    @Override
    Broker newBroker() {
        // Each test on an empty Redis: channel names repeat from test to test.
        redis.flushAll();
        return new RedisBroker(redis.uri(), scheduler);
    }
}
