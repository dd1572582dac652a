package dev.stagefarm.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShellWordsTest {

    static final Map<String, String> ENV =
            Map.of("NAME", "world", "EMPTY", "", "SPACED", "a  b", "FILE", "archive.tar.gz", "PATH", "/usr/bin:/bin");
    static final Function<String, Optional<String>> LOOKUP = n -> Optional.ofNullable(ENV.get(n));

    static String expand(String word) throws InvalidValueException {
        return ShellWords.expand(word, LOOKUP, '\\');
    }

    @ParameterizedTest(name = "{0} -> [{1}]")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '~',
            value = {
                "$NAME|world",
                "${NAME}|world",
                "hello-$NAME!|hello-world!",
                "${NAME}s|worlds",
                "$UNSET|~~",
                "$|$",
                "a$ b|a$ b",
                "${UNSET:-fallback}|fallback",
                "${EMPTY:-fallback}|fallback",
                "${NAME:-fallback}|world",
                "${UNSET-fallback}|fallback",
                "${EMPTY-fallback}|~~",
                "${NAME:+alt}|alt",
                "${EMPTY:+alt}|~~",
                "${UNSET:+alt}|~~",
                "${EMPTY+alt}|alt",
                "${UNSET+alt}|~~",
                "${UNSET:-$NAME}|world",
                "${UNSET:-'$NAME'}|$NAME",
                "${UNSET:-\"a } b\"}|a } b",
                "${NAME:?must be set}|world",
                "\\$NAME|$NAME",
                "\\\\$NAME|\\world",
                "'$NAME'|$NAME",
                "\"$NAME\"|world",
                "\"say \\\"$NAME\\\"\"|say \"world\"",
                "\"a\\b\"|a\\b",
                "'a\\b'|a\\b",
                "a\\ b|a b",
                "$SPACED|a  b",
                "${FILE#*.}|tar.gz",
                "${FILE##*.}|gz",
                "${FILE%.*}|archive.tar",
                "${FILE%%.*}|archive",
                "${PATH/bin/sbin}|/usr/sbin:/bin",
                "${PATH//bin/sbin}|/usr/sbin:/sbin",
                "trailing\\|trailing",
            })
    void expandsOneWord(String word, String expected) throws Exception {
        assertThat(expand(word)).isEqualTo(expected);
    }

    @Test
    void backtickEscape() throws Exception {
        assertThat(ShellWords.expand("c:\\dir `$NAME `\"", LOOKUP, '`')).isEqualTo("c:\\dir $NAME \"");
        assertThat(ShellWords.expand("\"c:\\dir\\$NAME\"", LOOKUP, '`')).isEqualTo("c:\\dir\\world");
    }

    @Test
    void requiredVariableFailsWithItsMessage() {
        assertThatThrownBy(() -> expand("${UNSET:?set UNSET to the release tag}"))
                .isInstanceOf(InvalidValueException.class)
                .hasMessage("UNSET: set UNSET to the release tag");
        assertThatThrownBy(() -> expand("${EMPTY:?}")).hasMessage("EMPTY: is not allowed to be empty or unset");
        assertThatThrownBy(() -> expand("${UNSET?}")).hasMessage("UNSET: is not allowed to be unset");
    }

    @Test
    void badSubstitutionsAreExplained() {
        assertThatThrownBy(() -> expand("${NAME")).hasMessage("bad substitution ${NAME: missing '}'");
        assertThatThrownBy(() -> expand("${}")).hasMessage("bad substitution ${}: a variable name must follow ${");
        assertThatThrownBy(() -> expand("${NAME:=x}"))
                .hasMessage("bad substitution ${NAME:=x}: unsupported modifier ':='");
        assertThatThrownBy(() -> expand("${NAME^}")).hasMessage("bad substitution ${NAME^}: unsupported modifier '^'");
        assertThatThrownBy(() -> expand("'open"))
                .hasMessageStartingWith("unexpected end of statement while looking for matching single-quote");
        assertThatThrownBy(() -> expand("\"open"))
                .hasMessageStartingWith("unexpected end of statement while looking for matching double-quote");
    }

    @Test
    void expandWordsSplitsOnUnquotedWhitespaceOnly() throws Exception {
        assertThat(ShellWords.expandWords("a  \"b c\" 'd e' f\\ g $SPACED \"$SPACED\" x${EMPTY}y", LOOKUP, '\\'))
                .containsExactly("a", "b c", "d e", "f g", "a", "b", "a  b", "xy");
        assertThat(ShellWords.expandWords("  80/tcp\t443 ", LOOKUP, '\\')).containsExactly("80/tcp", "443");
        assertThat(ShellWords.expandWords("$UNSET", LOOKUP, '\\')).isEmpty();
        assertThat(ShellWords.expandWords("\"\"", LOOKUP, '\\')).containsExactly("");
    }

    @Test
    void expansionIsNotRecursive() throws Exception {
        Function<String, Optional<String>> lookup = n -> Optional.of(n.equals("A") ? "$B" : "no");
        assertThat(ShellWords.expand("$A", lookup, '\\')).isEqualTo("$B");
    }

    @Test
    void aHeredocBodyKeepsQuotesAndABackslashEscapesAnyCharacter() throws Exception {
        // BuildKit's expansion of COPY <<EOF: quotes are content, "\\" is one backslash
        assertThat(ShellWords.expandHeredoc("echo \"$NAME\" '${NAME}' \\$NAME C:\\\\dir\n", LOOKUP))
                .isEqualTo("echo \"world\" 'world' $NAME C:\\dir\n");
        assertThat(ShellWords.expandHeredoc("a\\nb\\\n", LOOKUP)).isEqualTo("anb\n");
        assertThat(ShellWords.expandHeredoc("it's ${UNSET:-fine}\n", LOOKUP)).isEqualTo("it's fine\n");
    }
}
