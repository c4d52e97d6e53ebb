package dev.squall.internal.node;

import dev.squall.Authenticator;
import dev.squall.ChannelAuthorizer;
import dev.squall.SquallPlugin;
import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Map;

/**
 * What an app declared through the plugin config's methods ({@code ws(...)}, {@code namespace(...)}), as the
 * plugin hands it over: the routes in order, the namespaces, any path or namespace declared twice, and the hooks
 * ({@code authenticate(...)}, {@code authorize(...)}).
 */
public record Declared(Map<String, RouteHandlers> routes, List<String> duplicateRoutes,
                       Map<String, SquallPlugin.Namespace> namespaces, List<String> duplicateNamespaces,
                       @Nullable Authenticator authenticator, @Nullable ChannelAuthorizer authorizer) {
}
