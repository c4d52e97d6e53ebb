package dev.squall;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

import java.util.Set;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The house, as rules the build checks (issue 17). {@code dev.squall} is the API an app imports: the plugins, the
 * handle, the connection, the route and the value types they use. The standalone server in {@code server} uses it
 * like any app. Everything under {@code internal} is Squall's own, with no compatibility promise; among the internals,
 * each package uses only those below it:
 *
 * <pre>
 *   web   -> node -> hub -> broker (-> broker.redis, the only place that speaks to Redis)
 *    \-> protocol -> hub         policy, channel, limit: used from above, using nothing
 *   web, node -> auth (tokens, the app's hooks, access decisions) -> channel
 * </pre>
 *
 * {@code auth} is the only package that speaks nimbus-jose-jwt, so that how tokens are checked can change in one place.
 *
 * The plugin classes are the one place where the API wires the internals; internals may read the API's value types
 * (the config, the enums, the connection interface) but never the plugins themselves. The Kotlin layer in
 * {@code kotlin} (the DSL, the coroutine functions) is a user of the API like the standalone server, and nothing in
 * Java uses it.
 */
@AnalyzeClasses(packages = "dev.squall", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    private static final String API = "dev.squall";
    private static final String INTERNAL = "dev.squall.internal..";
    private static final String KOTLIN_LAYER = "dev.squall.kotlin..";
    private static final String COROUTINES = "dev.squall.kotlin.SquallCoroutines";
    private static final Set<String> PLUGINS = Set.of("dev.squall.SquallPlugin", "dev.squall.OriginPolicyPlugin");

    @ArchTest
    static final ArchRule the_api_uses_no_internal_or_standalone_class_but_in_the_plugins = noClasses()
            .that().resideInAPackage(API).and(notAPlugin())
            .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, "dev.squall.server..")
            .because("an app's view of Squall is the API; the plugins alone wire the internals");

    @ArchTest
    static final ArchRule no_public_signature_of_the_api_names_an_internal_jetty_or_lettuce_type = classes()
            .that().resideInAPackage(API).and().arePublic()
            .should(exposeOnlyTypesOutside(INTERNAL, "dev.squall.server..", "org.eclipse.jetty..", "io.lettuce..", "io.netty..",
                    KOTLIN_LAYER, "kotlin..", "kotlinx.."))
            .because("an app compiles against these signatures: what they name is a promise, and a Java app sees no Kotlin type");

    @ArchTest
    static final ArchRule the_kotlin_layer_uses_the_api_like_any_app = noClasses()
            .that().resideInAPackage(KOTLIN_LAYER)
            .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, "dev.squall.server..")
            .because("the DSL and the coroutine functions are sugar over the Java API, and promise nothing it does not");

    @ArchTest
    static final ArchRule the_java_code_never_needs_the_kotlin_layer = noClasses()
            .that().resideOutsideOfPackage(KOTLIN_LAYER)
            .should().dependOnClassesThat().resideInAPackage(KOTLIN_LAYER)
            .orShould().dependOnClassesThat().resideInAPackage("kotlinx..")
            .because("a Java app needs no Kotlin layer, and javac would not stop it: kotlinc compiles first (pom.xml), so its classes are there");

    @ArchTest
    static final ArchRule only_the_coroutine_functions_need_kotlinx_coroutines = noClasses()
            .that().resideInAPackage(KOTLIN_LAYER).and(DescribedPredicate.describe("are not SquallCoroutines or its lambdas",
                    (JavaClass c) -> !c.getName().equals(COROUTINES) && !c.getName().startsWith(COROUTINES + "$")))
            .should().dependOnClassesThat().resideInAPackage("kotlinx..")
            .because("kotlinx-coroutines is optional: an app that uses the DSL alone does not have it (scripts/check-jars.sh)");

    @ArchTest
    static final ArchRule the_standalone_server_uses_the_api_like_any_app = noClasses()
            .that().resideInAPackage("dev.squall.server..")
            .should().dependOnClassesThat().resideInAPackage(INTERNAL);

    @ArchTest
    static final ArchRule internals_read_the_apis_value_types_but_never_its_plugins = noClasses()
            .that().resideInAPackage(INTERNAL)
            .should().dependOnClassesThat(DescribedPredicate.describe("a plugin class itself",
                    (JavaClass c) -> PLUGINS.contains(c.getName())))
            .orShould().dependOnClassesThat().resideInAPackage("dev.squall.server..");

    @ArchTest
    static final ArchRule each_internal_package_uses_only_those_below_it = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer("web").definedBy("dev.squall.internal.web..")
            .layer("node").definedBy("dev.squall.internal.node..")
            .layer("protocol").definedBy("dev.squall.internal.protocol..")
            .layer("hub").definedBy("dev.squall.internal.hub..")
            .layer("broker").definedBy("dev.squall.internal.broker..")
            .layer("policy").definedBy("dev.squall.internal.policy..")
            .layer("channel").definedBy("dev.squall.internal.channel..")
            .layer("auth").definedBy("dev.squall.internal.auth..")
            .layer("limit").definedBy("dev.squall.internal.limit..")
            .whereLayer("web").mayNotBeAccessedByAnyLayer()
            .whereLayer("node").mayOnlyBeAccessedByLayers("web")
            .whereLayer("protocol").mayOnlyBeAccessedByLayers("web")
            .whereLayer("hub").mayOnlyBeAccessedByLayers("web", "node", "protocol")
            .whereLayer("broker").mayOnlyBeAccessedByLayers("web", "node", "protocol", "hub")
            .whereLayer("policy").mayOnlyBeAccessedByLayers("web", "node")
            .whereLayer("channel").mayOnlyBeAccessedByLayers("web", "node", "protocol", "hub", "auth")
            .whereLayer("auth").mayOnlyBeAccessedByLayers("web", "node")
            .whereLayer("limit").mayOnlyBeAccessedByLayers("web", "node");

    @ArchTest
    static final ArchRule auth_is_a_leaf_that_reads_only_the_apis_value_types_and_channel_names = classes()
            .that().resideInAPackage("dev.squall.internal.auth..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("dev.squall.internal.auth..", "dev.squall",
                    "dev.squall.internal.channel..", "java..", "javax..", "com.nimbusds..", "com.fasterxml.jackson..",
                    "org.jspecify..", "org.slf4j..")
            .because("deciding who a client is and what it may do needs no hub or broker (a channel's namespace, at most): "
                    + "the routes ask, and act on the answer");

    @ArchTest
    static final ArchRule only_the_token_package_speaks_nimbus = noClasses()
            .that().resideOutsideOfPackage("dev.squall.internal.auth..")
            .should().dependOnClassesThat().resideInAnyPackage("com.nimbusds..")
            .because("a token library's types stay behind TokenVerifier, VerifiedToken and TokenRejected");

    @ArchTest
    static final ArchRule no_cycles_among_the_internal_packages = slices()
            .matching("dev.squall.internal.(**)").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule only_the_redis_broker_speaks_to_redis = noClasses()
            .that().resideOutsideOfPackage("dev.squall.internal.broker.redis..")
            .should().dependOnClassesThat().resideInAnyPackage("io.lettuce..", "io.netty..", "reactor..");

    private static DescribedPredicate<JavaClass> notAPlugin() {
        return DescribedPredicate.describe("are not a plugin class", c -> !PLUGINS.contains(c.getName())
                && c.getEnclosingClass().map(outer -> !PLUGINS.contains(outer.getName())).orElse(true));
    }

    /** Public and protected fields, methods and constructors name no type of these packages, generics included. */
    private static ArchCondition<JavaClass> exposeOnlyTypesOutside(String... packages) {
        DescribedPredicate<JavaClass> hidden = com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage(packages);
        return new ArchCondition<>("expose no type of " + String.join(", ", packages) + " in a public signature") {
            @Override
            public void check(JavaClass type, ConditionEvents events) {
                for (JavaField field : type.getFields()) {
                    if (!exposed(field.getModifiers())) continue;
                    report(events, type, field.getFullName(), field.getType().getAllInvolvedRawTypes().stream(), hidden);
                }
                for (JavaCodeUnit unit : type.getCodeUnits()) {
                    if (!exposed(unit.getModifiers())) continue;
                    Stream<JavaClass> named = Stream.concat(
                            Stream.concat(unit.getReturnType().getAllInvolvedRawTypes().stream(),
                                    unit.getParameterTypes().stream().flatMap(p -> p.getAllInvolvedRawTypes().stream())),
                            unit.getExceptionTypes().stream());
                    report(events, type, unit.getFullName(), named, hidden);
                }
                type.getRawSuperclass().ifPresent(superclass -> report(events, type, type.getName() + " extends",
                        Stream.of(superclass), hidden));
                report(events, type, type.getName() + " implements", type.getRawInterfaces().stream(), hidden);
            }
        };
    }

    private static boolean exposed(Set<JavaModifier> modifiers) {
        return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
    }

    private static void report(ConditionEvents events, JavaClass type, String where, Stream<JavaClass> named,
                               DescribedPredicate<JavaClass> hidden) {
        named.filter(hidden).distinct().forEach(bad -> events.add(SimpleConditionEvent.violated(type,
                where + " names " + bad.getName())));
    }
}
