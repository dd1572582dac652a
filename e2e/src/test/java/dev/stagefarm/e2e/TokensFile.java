package dev.stagefarm.e2e;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.common.auth.Tokens;
import dev.stagefarm.common.client.ClientSecurity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

/** A farm's tokens file, as an operator writes it: each token by name, team and scopes, kept as its sha256. */
final class TokensFile {

    private final ObjectNode root = Images.JSON.createObjectNode();
    private final ArrayNode tokens = root.putArray("tokens");

    /** @param scopes e.g. {@code read}, {@code write}, {@code admin}, {@code farm} */
    TokensFile token(String name, String team, String token, String... scopes) {
        ObjectNode entry = tokens.addObject().put("name", name).put("team", team);
        ArrayNode s = entry.putArray("scopes");
        for (String scope : scopes) {
            s.add(scope);
        }
        entry.put("sha256", HexFormat.of().formatHex(Tokens.sha256(token)));
        return this;
    }

    /** @param size e.g. {@code "1GiB"}: the team's cache quota on the cache-server */
    TokensFile cacheQuota(String team, String size) {
        ObjectNode teams = root.has("teams") ? (ObjectNode) root.get("teams") : root.putObject("teams");
        teams.putObject(team).put("cache-quota", size);
        return this;
    }

    Path write(Path file) throws IOException {
        return Files.write(file, Images.JSON.writeValueAsBytes(root));
    }

    /**
     * Writes the file to {@code file}: a plaintext farm whose servers read it and whose coordinator
     * and workers present {@code farmToken}.
     */
    Farm.Security security(Path file, String farmToken) throws IOException {
        return new Farm.Security(
                List.of("--tokens", write(file).toString()),
                List.of("--token", farmToken),
                ClientSecurity.token(farmToken));
    }
}
