package dev.squall.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The used heap read from {@code jcmd GC.heap_info} as JDK 17 and 25 print it for each collector (recorded here). */
@Timeout(30)
class ServerProcessTest {
    @Test
    void g1OnJdk17IsTheHeapLineWithoutMetaspace() {
        String out = """
                858:
                 garbage-first heap   total 262144K, used 5341K [0x00000000f0000000, 0x0000000100000000)
                  region size 1024K, 3 young (3072K), 2 survivors (2048K)
                 Metaspace       used 8867K, committed 9024K, reserved 1114112K
                  class space    used 1062K, committed 1152K, reserved 1048576K
                """;
        assertEquals(5341L * 1024, ServerProcess.usedHeapBytes(out));
    }

    @Test
    void g1OnJdk25() {
        String out = """
                1435:
                garbage-first heap   total reserved 262144K, committed 262144K, used 12462K [0x00000000f0000000, 0x0000000100000000)
                 region size 1024K, 10 young (10240K), 2 survivors (2048K)
                """;
        assertEquals(12462L * 1024, ServerProcess.usedHeapBytes(out));
    }

    @Test
    void serialAndParallelSumTheirGenerations() {
        String serial = """
                1094:
                 def new generation   total 78656K, used 17046K [0x00000000f0000000, 0x00000000f5550000, 0x00000000f5550000)
                  eden space 69952K,  24% used [0x00000000f0000000, 0x00000000f10a5948, 0x00000000f4450000)
                  from space 8704K,   0% used [0x00000000f4450000, 0x00000000f4450000, 0x00000000f4cd0000)
                  to   space 8704K,   0% used [0x00000000f4cd0000, 0x00000000f4cd0000, 0x00000000f5550000)
                 tenured generation   total 174784K, used 1166K [0x00000000f5550000, 0x0000000100000000, 0x0000000100000000)
                   the space 174784K,   0% used [0x00000000f5550000, 0x00000000f5550000, 0x00000000f5550200, 0x0000000100000000)
                 Metaspace       used 8890K, committed 9088K, reserved 1114112K
                """;
        assertEquals((17046L + 1166) * 1024, ServerProcess.usedHeapBytes(serial));
        String parallel = """
                 PSYoungGen      total 76288K, used 17040K [0x00000000fab00000, 0x0000000100000000, 0x0000000100000000)
                  eden space 65536K, 26% used [0x00000000fab00000,0x00000000fbba4298,0x00000000feb00000)
                 ParOldGen       total 175104K, used 10K [0x00000000f0000000, 0x00000000fab00000, 0x00000000fab00000)
                  object space 175104K, 0% used [0x00000000f0000000,0x00000000f0000000,0x00000000fab00000)
                """;
        assertEquals((17040L + 10) * 1024, ServerProcess.usedHeapBytes(parallel));
    }

    @Test
    void zAndShenandoahUseTheirOwnUnits() {
        assertEquals(30L << 20, ServerProcess.usedHeapBytes("""
                1832:
                ZHeap            used 30M, capacity 256M, max capacity 256M
                 Cache           226M (2)
                """));
        assertEquals(23808L * 1024, ServerProcess.usedHeapBytes("""
                Shenandoah Heap
                 256M max, 256M soft max, 256M committed, 23808K used
                 1024 x 256 K regions
                """));
    }

    @Test
    void nothingRecognisedIsMinusOne() {
        assertEquals(-1, ServerProcess.usedHeapBytes("1234:\nsomething else\n"));
    }

    @Test
    void thisTestIsAJvmAndAnUnknownPidIsNot() {
        assertTrue(new ServerProcess(ProcessHandle.current().pid()).isJvm());
        assertFalse(new ServerProcess(0).isJvm());
        assertEquals(-1, new ServerProcess(0).liveHeapBytes());
    }

    @Test
    void anotherProgramIsNotAJvmAndIsNeverAttachedTo() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "30").start();
        try {
            ServerProcess process = new ServerProcess(sleep.pid());
            assertFalse(process.isJvm());
            assertEquals(-1, process.liveHeapBytes());
            assertTrue(sleep.isAlive(), "jcmd's SIGQUIT would have ended it");
        } finally {
            sleep.destroy();
        }
    }
}
