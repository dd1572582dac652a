package dev.stagefarm.oci.json;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/** Wire form of an OCI index or a Docker manifest list. */
@JsonPropertyOrder({"schemaVersion", "mediaType", "manifests", "annotations"})
final class IndexTemplate {
    public Integer schemaVersion;
    public String mediaType;
    public List<DescriptorTemplate> manifests;
    public Map<String, String> annotations;
}
