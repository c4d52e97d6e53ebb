package dev.squall.docs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The code in docs/embedding.md, and the README's Java and Kotlin for securing Squall, is the code of real tests: each
 * block after {@code <!-- snippet: NAME -->} must be exactly what a test has between {@code // docs:NAME:start} and
 * {@code // docs:NAME:end}, indentation aside.
 */
class DocsSnippetsTest {

    private static final Pattern BLOCK = Pattern.compile("<!-- snippet: ([\\w-]+) -->\\n```\\w*\\n(.*?)```", Pattern.DOTALL);

    @Test
    void every_snippet_in_the_embedding_guide_is_the_code_of_a_test() throws IOException {
        assertSnippetsTested(Path.of("docs/embedding.md"), "embedding-java", "embedding-kotlin", "api-java",
                "api-kotlin", "coroutines-kotlin", "who-may-connect-java");
    }

    @Test
    void every_snippet_in_the_readme_is_the_code_of_a_test() throws IOException {
        assertSnippetsTested(Path.of("README.md"), "mint-token-java", "hooks-java", "hooks-kotlin");
    }

    private static void assertSnippetsTested(Path doc, String... names) throws IOException {
        Map<String, String> documented = new LinkedHashMap<>();
        Matcher matcher = BLOCK.matcher(Files.readString(doc));
        while (matcher.find()) documented.put(matcher.group(1), matcher.group(2));
        assertThat(documented.keySet()).as("snippets in " + doc).containsExactlyInAnyOrder(names);

        Map<String, String> tested = markedInTests();
        documented.forEach((name, code) -> assertThat(code).as("snippet " + name + " in " + doc).isEqualTo(tested.get(name)));
    }

    @Test
    void both_readmes_link_to_the_embedding_guide() throws IOException {
        assertThat(Files.readString(Path.of("README.md"))).contains("(docs/embedding.md)");
        assertThat(Files.readString(Path.of("README.zh-CN.md"))).contains("(docs/embedding.md)");
    }

    /** Every marked region in the test sources, dedented, with a final newline. */
    private static Map<String, String> markedInTests() throws IOException {
        Map<String, String> regions = new LinkedHashMap<>();
        List<Path> sources;
        try (Stream<Path> files = Stream.concat(Files.walk(Path.of("src/test/java")), Files.walk(Path.of("src/test/kotlin")))) {
            sources = files.filter(p -> p.toString().endsWith(".java") || p.toString().endsWith(".kt")).toList();
        }
        Pattern region = Pattern.compile("[ \\t]*// docs:([\\w-]+):start\\n(.*?)[ \\t]*// docs:\\1:end", Pattern.DOTALL);
        for (Path source : sources) {
            Matcher matcher = region.matcher(Files.readString(source));
            while (matcher.find()) regions.put(matcher.group(1), dedent(matcher.group(2)));
        }
        return regions;
    }

    private static String dedent(String code) {
        List<String> lines = new ArrayList<>(List.of(code.split("\n", -1)));
        if (lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
        int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder out = new StringBuilder();
        for (String line : lines) out.append(line.isBlank() ? "" : line.substring(indent)).append('\n');
        return out.toString();
    }
}
