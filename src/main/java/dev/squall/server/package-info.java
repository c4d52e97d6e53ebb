/**
 * The standalone server: its command line ({@link dev.squall.server.Main}), the tutorial's routes on the plugin
 * ({@link dev.squall.server.App}), the config file, signals, the listening socket. It uses Squall's API
 * ({@link dev.squall}) like any app and nothing of its internals; its classes are public for the command line and
 * for tests, not an API of their own.
 */
@NullMarked
package dev.squall.server;

import org.jspecify.annotations.NullMarked;
