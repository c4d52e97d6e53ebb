package dev.squall

import dev.squall.support.Await
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.time.Duration

/**
 * Keeps the Kotlin test build exercised: compiled by kotlin-maven-plugin before the Java tests, run by Surefire,
 * and able to call the Java test helpers in dev.squall.support and the main classes. Starts nothing.
 * To be replaced by the real embedding test.
 */
class KotlinBuildTest {

    @Test
    fun `Kotlin tests see the Java test helpers and the main classes`() {
        var polls = 0
        Await.until("a Kotlin lambda passed to a Java helper", Duration.ofSeconds(5)) { ++polls >= 2 }
        assertTrue(polls >= 2)
        assertTrue(Main::class.java.name == "dev.squall.Main")
    }
}
