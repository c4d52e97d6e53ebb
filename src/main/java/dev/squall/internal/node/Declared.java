package dev.squall.internal.node;

import dev.squall.SquallPlugin;

import java.util.List;
import java.util.Map;

/**
 * What an app declared through the plugin config's methods ({@code ws(...)}, {@code namespace(...)}), as the
 * plugin hands it over: the routes in order, the namespaces, and any path or namespace declared twice.
 */
public record Declared(Map<String, RouteHandlers> routes, List<String> duplicateRoutes,
                       Map<String, SquallPlugin.Namespace> namespaces, List<String> duplicateNamespaces) {
}
