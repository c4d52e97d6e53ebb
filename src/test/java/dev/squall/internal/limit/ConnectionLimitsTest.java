package dev.squall.internal.limit;

import dev.squall.Identity;
import dev.squall.internal.limit.ConnectionLimits.Kind;
import dev.squall.internal.limit.ConnectionLimits.Permit;
import dev.squall.internal.limit.ConnectionLimits.Refused;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The counts behind {@code --max-connections}, {@code --max-connections-per-ip} and {@code --max-connections-per-user},
 * at the class level: per user with identities directly (tokens are not wired yet, so no route makes one), and
 * what every route relies on: a refusal counts nothing, and a permit gives back what it holds exactly once.
 */
@Timeout(30)
class ConnectionLimitsTest {

    private static void assertEmpty(ConnectionLimits limits) {
        assertThat(limits.connections()).as("connections").isZero();
        assertThat(limits.addresses()).as("addresses").isZero();
        assertThat(limits.users()).as("users").isZero();
    }

    @Test
    void an_address_over_its_limit_is_refused_and_others_are_not() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(0, 2, 0);
        Permit first = limits.acquire("10.0.0.1");
        limits.acquire("10.0.0.1");
        Refused refused = catchThrowableOfType(Refused.class, () -> limits.acquire("10.0.0.1"));
        assertThat(refused.kind()).isEqualTo(Kind.ADDRESS);
        assertThat(refused.limit()).isEqualTo(2);
        limits.acquire("10.0.0.2");
        assertThat(limits.connections()).isEqualTo(3);
        assertThat(limits.addresses()).isEqualTo(2);

        first.release();
        limits.acquire("10.0.0.1");                          // its place is free again
    }

    @Test
    void loopback_is_an_address_like_any_other() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(0, 1, 0);
        limits.acquire("127.0.0.1");
        assertThat(catchThrowableOfType(Refused.class, () -> limits.acquire("127.0.0.1")).kind()).isEqualTo(Kind.ADDRESS);
        limits.acquire("0:0:0:0:0:0:0:1");                   // IPv6 loopback: an address of its own
        assertThat(catchThrowableOfType(Refused.class, () -> limits.acquire("::1")).kind()).isEqualTo(Kind.ADDRESS);
    }

    @Test
    void the_node_over_its_total_is_refused_whatever_the_address_and_counts_nothing_for_it() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(2, 0, 0);
        limits.acquire("10.0.0.1");
        Permit second = limits.acquire("10.0.0.2");
        Refused refused = catchThrowableOfType(Refused.class, () -> limits.acquire("10.0.0.3"));
        assertThat(refused.kind()).isEqualTo(Kind.TOTAL);
        assertThat(limits.addresses()).as("the refused address is not kept").isEqualTo(2);
        second.release();
        limits.acquire("10.0.0.3");
    }

    @Test
    void an_ipv6_host_is_counted_by_its_64_network() throws Exception {
        assertThat(ConnectionLimits.addressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).isEqualTo("2001:db8:1:2::/64");
        assertThat(ConnectionLimits.addressKey("[2001:db8:1:2::1]")).isEqualTo("2001:db8:1:2::/64");
        assertThat(ConnectionLimits.addressKey("::ffff:10.0.0.1")).isEqualTo("10.0.0.1");
        assertThat(ConnectionLimits.addressKey("192.0.2.7")).isEqualTo("192.0.2.7");
        assertThat(ConnectionLimits.addressKey("not:an:address::zz")).isEqualTo("not:an:address::zz");

        ConnectionLimits limits = new ConnectionLimits(0, 2, 0);
        limits.acquire("2001:db8:1:2::1");
        limits.acquire("2001:db8:1:2::2");
        assertThat(catchThrowableOfType(Refused.class, () -> limits.acquire("2001:db8:1:2:ffff::9")).kind()).isEqualTo(Kind.ADDRESS);
        limits.acquire("2001:db8:1:3::1");                   // another /64
    }

    @Test
    void a_user_over_its_limit_is_refused_while_anonymous_connections_are_never_counted_per_user() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(0, 0, 2);
        Identity ada = Identity.of("ada");
        Permit one = limits.acquire("10.0.0.1");
        Permit two = limits.acquire("10.0.0.2");
        Permit three = limits.acquire("10.0.0.3");
        assertThat(one.identify(ada)).isTrue();
        assertThat(two.identify(Identity.of("ada", "{\"tab\":2}"))).as("the user counts, not the info").isTrue();
        assertThat(three.identify(ada)).isFalse();
        assertThat(limits.users()).isEqualTo(1);
        assertThat(three.identify(Identity.of("grace"))).isTrue();

        for (int i = 0; i < 10; i++) {
            Permit anonymous = limits.acquire("10.0.1." + i);
            assertThat(anonymous.identify(Identity.ANONYMOUS)).isTrue();
        }
        assertThat(limits.users()).as("anonymous connections are no user").isEqualTo(2);

        one.release();
        Permit four = limits.acquire("10.0.0.4");
        assertThat(four.identify(ada)).as("ada has a place again").isTrue();
    }

    @Test
    void identifying_again_as_the_same_user_counts_once_and_as_another_moves_the_count() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(0, 0, 1);
        Permit permit = limits.acquire("10.0.0.1");
        assertThat(permit.identify(Identity.of("ada"))).isTrue();
        assertThat(permit.identify(Identity.of("ada"))).isTrue();
        Permit other = limits.acquire("10.0.0.2");
        assertThat(other.identify(Identity.of("grace"))).isTrue();
        assertThat(permit.identify(Identity.of("grace"))).as("grace is full: the permit stays ada's").isFalse();
        assertThat(permit.identify(Identity.of("alan"))).isTrue();
        assertThat(limits.acquire("10.0.0.3").identify(Identity.of("ada"))).as("ada was let go").isTrue();

        permit.release();
        other.release();
        assertThat(limits.users()).isEqualTo(1);             // ada's third permit, still held
    }

    @Test
    void without_a_per_user_limit_users_are_still_counted_but_never_refused() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(0, 0, 0);
        assertThat(limits.limitsUsers()).isFalse();
        for (int i = 0; i < 50; i++) assertThat(limits.acquire("10.0.0.1").identify(Identity.of("ada"))).isTrue();
        assertThat(limits.users()).isEqualTo(1);
    }

    @Test
    void a_permit_gives_back_everything_once_however_often_it_is_released() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(10, 10, 10);
        Permit permit = limits.acquire("10.0.0.1");
        permit.identify(Identity.of("ada"));
        Permit other = limits.acquire("10.0.0.1");
        other.identify(Identity.of("ada"));
        permit.release();
        permit.release();
        permit.release();
        assertThat(limits.connections()).isEqualTo(1);
        assertThat(limits.addresses()).isEqualTo(1);
        assertThat(limits.users()).isEqualTo(1);
        assertThat(permit.identify(Identity.of("grace"))).as("a released permit counts no one").isTrue();
        assertThat(limits.users()).isEqualTo(1);
        other.release();
        assertEmpty(limits);
    }

    @Test
    void a_pending_permit_expires_and_an_open_one_does_not() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(0, 0, 0);
        Permit never = limits.acquire("10.0.0.1");
        Permit opened = limits.acquire("10.0.0.2");
        assertThat(opened.open()).isTrue();
        assertThat(never.expire()).isTrue();
        assertThat(never.expire()).isFalse();
        assertThat(opened.expire()).isFalse();
        assertThat(never.open()).as("too late: its place is gone").isFalse();
        assertThat(limits.connections()).isEqualTo(1);
        opened.release();
        assertEmpty(limits);
    }

    @Test
    void threads_racing_to_acquire_never_pass_the_limits_and_leave_nothing_behind() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(50, 20, 5);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger overTotal = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                go.await();
                List<Permit> held = new ArrayList<>();
                for (int i = 0; i < 20_000; i++) {
                    try {
                        Permit permit = limits.acquire("10.0.0." + (i % 4));
                        if (!permit.identify(Identity.of("user" + (i + thread) % 3))) permit.identify(Identity.ANONYMOUS);
                        held.add(permit);
                    } catch (Refused refused) {
                        // the limits at work
                    }
                    if (limits.connections() > 50) overTotal.incrementAndGet();
                    if (held.size() > 6 || (!held.isEmpty() && i % 3 == 0)) {
                        Permit gone = held.remove(0);
                        gone.release();
                        if (i % 7 == 0) gone.release();                   // twice, as a close and an error may
                    }
                }
                held.forEach(Permit::release);
                return null;
            }));
        }
        go.countDown();
        for (Future<?> each : done) each.get(20, TimeUnit.SECONDS);
        pool.shutdown();
        assertThat(overTotal).hasValue(0);
        assertEmpty(limits);
    }

    @Test
    void refused_is_cheap_to_throw_and_says_which_limit() {
        ConnectionLimits limits = new ConnectionLimits(1, 0, 0);
        assertThatThrownBy(() -> {
            limits.acquire("a");
            limits.acquire("b");
        }).isInstanceOf(Refused.class).hasNoCause().satisfies(e -> assertThat(e.getStackTrace()).isEmpty());
    }
}
