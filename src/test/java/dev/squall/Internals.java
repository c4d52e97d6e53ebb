package dev.squall;

import dev.squall.internal.node.Node;

/**
 * What tests look at inside a registered plugin (its node, hub and metrics), through the plugin's package-private
 * accessor: the API offers no way in, and only tests need one.
 */
public final class Internals {

    private Internals() {
    }

    /** The node behind {@code plugin}. */
    public static Node node(SquallPlugin plugin) {
        return plugin.node();
    }
}
