package dev.squall;

import org.jspecify.annotations.NullMarked;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPath;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nullness is the compiler's to check (issue 17): javac runs Error Prone with NullAway, as an error, on every
 * {@code @NullMarked} package, so a null where none is allowed fails the build rather than an app. This keeps it so:
 * every package of the main sources is {@code @NullMarked} (NullAway checks those alone), and the compiler arguments
 * of {@code pom.xml}, with the JVM flags of {@code .mvn/jvm.config}, refuse a small file with one null of each kind,
 * one error per null and nothing else.
 */
@Timeout(120)
class NullnessTest {

    private static final Path MAIN_SOURCES = Path.of("src", "main", "java");

    private static final String PACKAGE_INFO = """
            @NullMarked
            package probe;

            import org.jspecify.annotations.NullMarked;
            """;

    /**
     * Each line that must fail ends with a comment: how NullAway's error about it starts. The others, a checked
     * {@code @Nullable} among them, must pass.
     */
    private static final String PROBE = """
            package probe;

            import org.jspecify.annotations.Nullable;

            import java.util.Map;

            final class Probe {
                private final Map<String, String> names = Map.of("a", "b");
                private @Nullable String later;
                private String never;                                   // @NonNull field 'never' not initialized

                String name(String key) {
                    return names.get(key);                              // returning @Nullable expression
                }

                int length() {
                    return later.length() + never.length();             // dereferenced expression 'later'
                }

                int lengthOrZero() {
                    String value = later;
                    return value != null ? value.length() : 0;
                }

                void greet() {
                    say(null);                                          // passing @Nullable parameter
                }

                private void say(String text) {
                    System.out.println(text);
                }
            }
            """;

    @Test
    void every_package_of_the_main_sources_is_null_marked() throws Exception {
        Set<Path> packages;
        try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
            packages = files.filter(file -> file.toString().endsWith(".java")).map(Path::getParent)
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        List<String> unmarked = new ArrayList<>();
        for (Path dir : packages) {
            String name = MAIN_SOURCES.relativize(dir).toString().replace(File.separatorChar, '.');
            if (!nullMarked(name)) unmarked.add(name);
        }
        assertThat(packages).as("packages under %s", MAIN_SOURCES).isNotEmpty();
        assertThat(unmarked).as("packages without @NullMarked in their package-info.java: NullAway skips them").isEmpty();
    }

    private static boolean nullMarked(String packageName) {
        try {
            return Class.forName(packageName + ".package-info", false, NullnessTest.class.getClassLoader())
                    .isAnnotationPresent(NullMarked.class);
        } catch (ClassNotFoundException e) {
            return false;                                        // no package-info.java, or one without annotations
        }
    }

    @Test
    void the_build_refuses_a_null_where_none_is_allowed(@TempDir Path dir) throws Exception {
        Path sources = Files.createDirectories(dir.resolve("probe"));
        Files.writeString(sources.resolve("package-info.java"), PACKAGE_INFO);
        Path probe = Files.writeString(sources.resolve("Probe.java"), PROBE);

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "javac").toString());
        for (String flag : Files.readString(Path.of(".mvn", "jvm.config")).trim().split("\\s+")) command.add("-J" + flag);
        command.add("-J-Duser.language=en");
        Map<String, String> properties = pomProperties();
        command.addAll(List.of("--release", properties.get("maven.compiler.release")));
        command.addAll(compilerArgs(properties));
        String classpath = System.getProperty("java.class.path");   // jspecify, Error Prone and NullAway among it
        command.addAll(List.of("-classpath", classpath, "-processorpath", classpath, "-d", dir.resolve("classes").toString()));
        command.add(sources.resolve("package-info.java").toString());
        command.add(probe.toString());

        Process javac = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(javac.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(javac.waitFor(60, TimeUnit.SECONDS)).isTrue();

        List<String> expected = expectedErrors();
        assertThat(javac.exitValue()).as("javac's exit code; its output:%n%s", output).isNotZero();
        assertThat(errors(output, expected)).as("javac's errors; its output:%n%s", output)
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    /**
     * {@code File.java:line: [Check] message} for each error javac printed, in any file; one that starts as an
     * expected error does is cut to it.
     */
    private static List<String> errors(String output, List<String> expected) {
        List<String> errors = new ArrayList<>();
        Matcher error = Pattern.compile("(?m)^(.*?):(\\d+): error: (.*)$").matcher(output);
        while (error.find()) {
            String printed = Path.of(error.group(1)).getFileName() + ":" + error.group(2) + ": " + error.group(3);
            errors.add(expected.stream().filter(printed::startsWith).findFirst().orElse(printed));
        }
        return errors;
    }

    /** A NullAway error on each line of {@link #PROBE} that ends with a comment, starting as the comment says. */
    private static List<String> expectedErrors() {
        List<String> expected = new ArrayList<>();
        String[] lines = PROBE.split("\n");
        for (int i = 0; i < lines.length; i++) {
            int comment = lines[i].indexOf("// ");
            if (comment >= 0) expected.add("Probe.java:" + (i + 1) + ": [NullAway] " + lines[i].substring(comment + 3).trim());
        }
        return expected;
    }

    /** The maven-compiler-plugin's compilerArgs in pom.xml, with their properties filled in. */
    private static List<String> compilerArgs(Map<String, String> properties) throws Exception {
        NodeList args = (NodeList) xpath().evaluate(
                "/project/build/plugins/plugin[artifactId='maven-compiler-plugin']/configuration/compilerArgs/arg",
                pom(), XPathConstants.NODESET);
        List<String> resolved = new ArrayList<>();
        Pattern property = Pattern.compile("\\$\\{([^}]+)}");
        for (int i = 0; i < args.getLength(); i++) {
            Matcher reference = property.matcher(args.item(i).getTextContent().trim());
            StringBuilder arg = new StringBuilder();
            while (reference.find()) {
                String value = properties.get(reference.group(1));
                assertThat(value).as("pom.xml property %s", reference.group(1)).isNotNull();
                reference.appendReplacement(arg, Matcher.quoteReplacement(value));
            }
            reference.appendTail(arg);
            resolved.add(arg.toString());
        }
        assertThat(resolved).as("the compiler plugin's compilerArgs in pom.xml").isNotEmpty();
        return resolved;
    }

    private static Map<String, String> pomProperties() throws Exception {
        NodeList nodes = (NodeList) xpath().evaluate("/project/properties/*", pom(), XPathConstants.NODESET);
        Map<String, String> properties = new HashMap<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node node = nodes.item(i);
            properties.put(node.getNodeName(), node.getTextContent().trim());
        }
        return properties;
    }

    private static Document pom() throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new File("pom.xml"));
    }

    private static XPath xpath() {
        return XPathFactory.newInstance().newXPath();
    }
}
