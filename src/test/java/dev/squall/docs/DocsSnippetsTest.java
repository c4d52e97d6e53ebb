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
 * block after {@code <!-- snippet: NAME -->} is followed by a line naming the test that runs it ({@code *Run by
 * `Class`, in its test `method`.*}), and must be exactly what that test method has between
 * {@code // docs:NAME:start} and {@code // docs:NAME:end}, indentation aside. So a snippet is compiled with the tests,
 * and executed by the test the reader is pointed to.
 */
class DocsSnippetsTest {

    private static final Path GUIDE = Path.of("docs/embedding.md");
    private static final Pattern BLOCK = Pattern.compile("<!-- snippet: ([\\w-]+) -->\\n```\\w*\\n(.*?)```\\n", Pattern.DOTALL);
    private static final Pattern RUN_BY = Pattern.compile("\\n*\\*Run by `(\\w+)`, in its test `([^`]+)`\\.\\*");
    private static final Pattern REGION = Pattern.compile("[ \\t]*// docs:([\\w-]+):start\\n(.*?)[ \\t]*// docs:\\1:end", Pattern.DOTALL);

    /** A block of the guide, and the test it says runs it. */
    private record Snippet(String name, String code, String testClass, String testMethod) {
    }

    /** A marked region of a test source, and where it starts. */
    private record Region(String code, Path source, int start) {
    }

    @Test
    void every_snippet_in_the_embedding_guide_is_the_code_of_the_test_it_names() throws IOException {
        assertSnippetsTested(GUIDE, "embedding-java", "embedding-kotlin", "api-java", "api-kotlin", "coroutines-kotlin",
                "who-may-connect-java", "who-may-connect-kotlin");
    }

    @Test
    void every_snippet_in_the_readme_is_the_code_of_the_test_it_names() throws IOException {
        assertSnippetsTested(Path.of("README.md"), "mint-token-java", "hooks-java", "hooks-kotlin");
    }

    private static void assertSnippetsTested(Path doc, String... names) throws IOException {
        List<Snippet> snippets = documented(doc);
        assertThat(snippets).extracting(Snippet::name).as("snippets in " + doc).containsExactlyInAnyOrder(names);

        Map<String, Region> regions = markedInTests();
        for (Snippet snippet : snippets) {
            Region region = regions.get(snippet.name());
            assertThat(region).as("a region docs:%s in the test sources", snippet.name()).isNotNull();
            assertThat(region.code()).as("snippet %s in %s", snippet.name(), doc).isEqualTo(snippet.code());

            String fileName = region.source().getFileName().toString();
            assertThat(fileName.substring(0, fileName.lastIndexOf('.'))).as("the class %s names for %s", doc, snippet.name())
                    .isEqualTo(snippet.testClass());
            String source = Files.readString(region.source());
            String declaration = fileName.endsWith(".kt") ? "fun `" + snippet.testMethod() + "`(" : "void " + snippet.testMethod() + "(";
            int method = source.indexOf(declaration);
            assertThat(method).as("the test %s in %s, which %s names for %s", declaration, region.source(), doc, snippet.name())
                    .isNotNegative();
            assertThat(source.substring(source.lastIndexOf('\n', source.lastIndexOf('\n', method - 1) - 1) + 1, method).strip())
                    .as("the line before %s", declaration).startsWith("@Test");
            int nextTest = source.indexOf("@Test", method);
            assertThat(region.start()).as("docs:%s inside %s", snippet.name(), declaration)
                    .isGreaterThan(method).isLessThan(nextTest < 0 ? source.length() : nextTest);
        }
    }

    @Test
    void the_guide_names_every_type_of_the_api_as_what_to_import() throws IOException {
        Matcher list = Pattern.compile("the package `dev\\.squall` is the whole API \\(([^)]*)\\)").matcher(Files.readString(GUIDE));
        assertThat(list.find()).as("the list of the API's types in " + GUIDE).isTrue();
        List<String> named = Pattern.compile("`(\\w+)`").matcher(list.group(1)).results().map(m -> m.group(1)).toList();
        List<String> api;
        try (Stream<Path> files = Files.list(Path.of("src/main/java/dev/squall"))) {
            api = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java") && !n.equals("package-info.java"))
                    .map(n -> n.substring(0, n.length() - ".java".length())).toList();
        }
        assertThat(named).as("the types %s names as the whole API", GUIDE).containsExactlyInAnyOrderElementsOf(api);
    }

    @Test
    void both_readmes_link_to_the_embedding_guide() throws IOException {
        assertThat(Files.readString(Path.of("README.md"))).contains("(docs/embedding.md)");
        assertThat(Files.readString(Path.of("README.zh-CN.md"))).contains("(docs/embedding.md)");
    }

    private static List<Snippet> documented(Path path) throws IOException {
        String doc = Files.readString(path);
        List<Snippet> snippets = new ArrayList<>();
        Matcher block = BLOCK.matcher(doc);
        while (block.find()) {
            Matcher runBy = RUN_BY.matcher(doc).region(block.end(), doc.length());
            assertThat(runBy.lookingAt()).as("a line *Run by `Class`, in its test `method`.* after snippet %s in %s",
                    block.group(1), path).isTrue();
            snippets.add(new Snippet(block.group(1), block.group(2), runBy.group(1), runBy.group(2)));
        }
        return snippets;
    }

    /** Every marked region in the test sources, dedented, with a final newline. */
    private static Map<String, Region> markedInTests() throws IOException {
        Map<String, Region> regions = new LinkedHashMap<>();
        List<Path> sources;
        try (Stream<Path> files = Stream.concat(Files.walk(Path.of("src/test/java")), Files.walk(Path.of("src/test/kotlin")))) {
            sources = files.filter(p -> p.toString().endsWith(".java") || p.toString().endsWith(".kt")).toList();
        }
        for (Path source : sources) {
            Matcher matcher = REGION.matcher(Files.readString(source));
            while (matcher.find()) {
                Region previous = regions.put(matcher.group(1), new Region(dedent(matcher.group(2)), source, matcher.start()));
                assertThat(previous).as("docs:%s marked once, found again in %s", matcher.group(1), source).isNull();
            }
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
