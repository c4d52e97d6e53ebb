package dev.squall.internal.broker.redis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where channels go: spread evenly, the same whatever the shards' order, and few move when the shards change. */
@Timeout(10)
class PlacementTest {

    private static final int CHANNELS = 30_000;
    private static final List<String> THREE = List.of("10.0.0.1:6379/0", "10.0.0.2:6379/0", "10.0.0.3:6379/0");

    private static String channel(int i) {
        return "chat:room" + i;
    }

    @Test
    void channels_are_spread_evenly_over_the_shards() {
        Placement placement = new Placement(THREE);
        int[] counts = new int[3];
        for (int i = 0; i < CHANNELS; i++) counts[placement.shardOf(channel(i))]++;
        for (int count : counts) assertThat(count).as("a third of %d each, within 3%%", CHANNELS).isBetween(9_700, 10_300);
    }

    @Test
    void every_order_of_the_same_shards_places_each_channel_on_the_same_one() {
        Placement given = new Placement(THREE);
        Placement reversed = new Placement(List.of(THREE.get(2), THREE.get(1), THREE.get(0)));
        for (int i = 0; i < CHANNELS; i++) {
            String channel = channel(i);
            assertThat(reversed.shardOf(channel)).isEqualTo(2 - given.shardOf(channel));
        }
    }

    @Test
    void adding_a_shard_moves_only_the_channels_it_takes_about_a_quarter_of_them() {
        Placement three = new Placement(THREE);
        Placement four = new Placement(List.of(THREE.get(0), THREE.get(1), THREE.get(2), "10.0.0.4:6379/0"));
        int moved = 0;
        for (int i = 0; i < CHANNELS; i++) {
            int before = three.shardOf(channel(i));
            int after = four.shardOf(channel(i));
            if (after != before) {
                moved++;
                assertThat(after).as("a channel that moves goes to the new shard").isEqualTo(3);
            }
        }
        assertThat(moved).as("about 1/4 of %d", CHANNELS).isBetween(7_200, 7_800);
    }

    @Test
    void removing_a_shard_in_the_middle_moves_only_its_own_channels() {
        Placement three = new Placement(THREE);
        Placement two = new Placement(List.of(THREE.get(0), THREE.get(2)));
        for (int i = 0; i < CHANNELS; i++) {
            int before = three.shardOf(channel(i));
            if (before == 1) continue;                       // the removed shard's channels go to either
            assertThat(THREE.get(before)).isEqualTo(List.of(THREE.get(0), THREE.get(2)).get(two.shardOf(channel(i))));
        }
    }

    @Test
    void the_placement_is_a_fixed_function_that_every_node_and_version_computes_alike() {
        // Pinned: a change of the hash would split a running cluster's nodes between two placements.
        Placement placement = new Placement(THREE);
        int[] shards = new int[8];
        for (int i = 0; i < shards.length; i++) shards[i] = placement.shardOf(channel(i));
        assertThat(shards).containsExactly(PINNED);
    }

    private static final int[] PINNED = {0, 1, 0, 0, 2, 2, 1, 1};

    @Test
    void one_shard_holds_everything_and_a_shard_listed_twice_is_refused() {
        assertThat(new Placement(List.of("a:6379/0")).shardOf("anything")).isZero();
        assertThatThrownBy(() -> new Placement(List.of("a:6379/0", "b:6379/0", "a:6379/0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a:6379/0");
    }
}
