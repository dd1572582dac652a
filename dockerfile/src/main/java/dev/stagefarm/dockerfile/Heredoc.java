package dev.stagefarm.dockerfile;

import java.util.Objects;

/**
 * A here-document attached to RUN, COPY or ADD ({@code <<EOF ... EOF}).
 *
 * @param name the delimiter word, as it appears in the instruction after {@code <<}
 * @param content every line up to the delimiter, each ending in a newline
 * @param expand false when the delimiter was quoted ({@code <<"EOF"}): variables stay literal
 * @param chomp true for {@code <<-EOF}: leading tabs were removed from every line
 */
public record Heredoc(String name, String content, boolean expand, boolean chomp) {

    public Heredoc {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(content, "content");
    }
}
